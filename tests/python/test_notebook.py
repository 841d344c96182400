"""The example notebook runs from top to bottom on a fresh machine.

No kernel needs to be installed beforehand: the test writes a kernelspec that points at
this interpreter into a temporary JUPYTER_PATH and runs the notebook with it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

KERNEL = "unionstat-test"


@pytest.fixture()
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "unionstat test (this interpreter)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


def test_getting_started_notebook_executes(root: Path, tmp_path: Path, kernel: str) -> None:
    path = root / "examples" / "getting_started.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    def text(i: int) -> str:
        out = []
        for o in nb.cells[i].get("outputs", []):
            if "text" in o:
                out.append(o["text"])
            data = o.get("data", {})
            out.append(data.get("text/html", ""))
            out.append(data.get("text/plain", ""))
        return "\n".join(out)

    every = "\n".join(text(i) for i in range(len(nb.cells)) if nb.cells[i].cell_type == "code")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # The key figures of each step reached the reader.
    assert "2018年工会送温暖活动统计表" in every  # the form's view
    assert "songnuan.part_of.01B 241000 183000" in every  # one report's violation
    assert "青海省总工会" in every  # the tree
    assert "songnuan.group.funds_raised_by_source" in every  # the province's validation
    assert "632800" in every  # the planted gap, traced
    assert "not in the tree" in every  # the warned unknown unit
    assert "12万" in every  # a bad cell named
    from unionstat.sample import planted_mistakes

    slip = planted_mistakes().query("found_by == 'outliers'")["unit"].iloc[0]
    assert slip in every and "magnitude" in every  # the 元-for-万元 slip found
    assert "疑似将元填入万元栏" in every  # and said why
    svgs = [
        o["data"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "image/svg+xml" in o.get("data", {}) or "<svg" in o.get("data", {}).get("text/html", "")
    ]
    assert len(svgs) >= 2  # a distribution and a roll-up bar chart
