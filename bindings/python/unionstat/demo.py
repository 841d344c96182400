"""The demo: validate sample reports of the bundled forms and write an HTML report."""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_demo"]


def run_demo(output: str = "unionstat-demo.html", *, quiet: bool = False) -> int:
    from .forms import forms

    form = forms()["songnuan-2018"]
    good = form.report(
        "630100", "2018",
        {"01A": 183000, "01B": 41000, "02A": 5200, "02B": 1300, "05A": "1523.40", "05B": "600.00",
         "05C": "500.00", "05D": "300.00", "05E": "100.40", "05F": "23.00", "07I": 1200, "07J": "180.5"},
    )
    bad = form.report(
        "630200", "2018",
        {"01A": 98000, "01B": 120000, "05A": "800", "05B": "300", "05C": "300", "05D": "150", "05E": "40",
         "05F": "10.03", "07I": 0, "07J": "12.5"},
    )
    html = []
    for rep in (good, bad):
        res = form.validate(rep)
        if not quiet:
            print(res)
            for o in res.violations:
                print(f"  [{o.severity}] {o.rule_id}: {o.message}")
        html.append(res._repr_html_())
    Path(output).write_text("<meta charset='utf-8'>" + "".join(html), encoding="utf-8")
    if not quiet:
        print(f"wrote {output}")
    return 0
