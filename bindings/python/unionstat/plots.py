"""Pictures where people would rather look than read: a field's distribution among a
unit's peers with the outliers marked, and a bar chart of a roll-up by child unit.

Drawn with matplotlib — an optional dependency (``pip install unionstat[plot]``) — as
inline SVG that Jupyter shows and an HTML page embeds; text stays text (``svg.fonttype
none``), so Chinese labels render in the reader's fonts. Without matplotlib,
:func:`available` is False and the functions raise :class:`PlotError` saying so; the
rest of the package does not need it.

These functions take plain arrays and labels; the objects that have data
(:meth:`OutlierResult.plot`, :meth:`RollupView.plot`) gather it and call down here.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import Error

__all__ = ["PlotError", "Svg", "available", "bars_svg", "curve_svg", "distribution_svg"]

#: What the HTML says where a plot would be without matplotlib.
MISSING = "plots need matplotlib: pip install unionstat[plot]"

_OUTLIER = "#d62728"
_PEER = "#9aa7b8"


class PlotError(Error, ImportError):
    """A plot was asked for but matplotlib is not installed."""


class Svg(str):
    """An SVG document (text) that Jupyter displays as a picture."""

    def _repr_svg_(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return str(self)


def available() -> bool:
    """Whether matplotlib can be imported (plots can be drawn)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float) -> Any:
    if not available():
        raise PlotError(MISSING)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96)


def _cjk_fonts() -> list[str]:
    """Installed fonts with CJK glyphs, best first (none on a bare machine)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    wanted = [
        "Noto Sans CJK SC",
        "Noto Sans SC",
        "Source Han Sans SC",
        "WenQuanYi Zen Hei",
        "WenQuanYi Micro Hei",
        "SimHei",
        "Microsoft YaHei",
        "PingFang SC",
        "Droid Sans Fallback",
    ]
    return [w for w in wanted if w in names]


def _svg(fig: Any) -> Svg:
    """The figure as an inline ``<svg>`` element (no XML prolog), text kept as text."""
    import matplotlib

    buf = io.StringIO()
    with (
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "font.family": "sans-serif",
                "font.sans-serif": [*_cjk_fonts(), "DejaVu Sans"],
                "svg.hashsalt": "unionstat",
            }
        ),
        warnings.catch_warnings(),
    ):
        # Without a CJK font matplotlib measures Chinese text with DejaVu's metrics and
        # says so per glyph; the SVG keeps the text and the browser draws it.
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from.*")
        warnings.filterwarnings("ignore", message=r".*[Mm]atplotlib currently does not support.*")
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return Svg(text[text.index("<svg") :])


def distribution_svg(
    values: np.ndarray,
    marked: np.ndarray,
    *,
    title: str,
    subtitle: str = "",
    log: bool = False,
    unit: str = "",
    width: float = 6.0,
    height: float = 2.6,
) -> Svg:
    """A field's values among peers: a histogram of the peers (grey), the outliers as red
    marks under it with their values, the peers' median as a dashed line. ``log`` spaces
    the bins by powers of ten (positive values only)."""
    fig = _figure(width, height)
    ax = fig.add_subplot()
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(marked, dtype=bool)
    keep = np.isfinite(v) & ((v > 0) if log else True)
    v, m = v[keep], m[keep]
    if len(v):
        lo, hi = float(v.min()), float(v.max())
        if log:
            edges = np.logspace(np.log10(lo), np.log10(hi) if hi > lo else np.log10(lo) + 1, 41)
            ax.set_xscale("log")
        else:
            edges = np.linspace(lo, hi if hi > lo else lo + 1, 41)
        _n, _b, patches = ax.hist(v[~m], bins=edges, color=_PEER, label="peers 同级单位")
        for p in patches:
            p.set_gid("peers")
        med = float(np.median(v))
        line = ax.axvline(med, color="#333", linestyle="--", linewidth=1, label=f"median 中位数 {med:,.4g}")
        line.set_gid("median")
        if m.any():
            pts = ax.plot(
                v[m],
                np.zeros(int(m.sum())),
                linestyle="none",
                marker="v",
                markersize=9,
                color=_OUTLIER,
                label=f"outliers 异常值 ({int(m.sum())})",
                clip_on=False,
            )[0]
            pts.set_gid("outliers")
            for x in v[m][:5]:
                ax.annotate(
                    f"{x:,.4g}",
                    (x, 0),
                    xytext=(0, 10),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    color=_OUTLIER,
                )
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no values 无数据", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    ax.set_xlabel(unit, fontsize=8)
    ax.set_ylabel("reports 报表数", fontsize=8)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def bars_svg(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    unit: str = "",
    highlight: Sequence[str] = (),
    width: float = 6.0,
    bar_height: float = 0.28,
) -> Svg:
    """A horizontal bar chart (a roll-up by child unit, say), largest first; the bars of
    ``highlight`` labels in red."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.nan_to_num(v), kind="stable")
    labels = [labels[i] for i in order]
    v = v[order]
    fig = _figure(width, max(1.6, 0.6 + bar_height * len(labels)))
    ax = fig.add_subplot()
    marked = set(highlight)
    colors = [_OUTLIER if lab in marked else "#4c78a8" for lab in labels]
    bars = ax.barh(range(len(labels)), np.nan_to_num(v), color=colors)
    for b, lab in zip(bars, labels):
        b.set_gid("bar-outlier" if lab in marked else "bar")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    for i, x in enumerate(v):
        ax.annotate(
            f"{x:,.6g}" if np.isfinite(x) else "空",
            (np.nan_to_num(x), i),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit, fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def curve_svg(
    times: Sequence[Any],
    share: Sequence[float],
    *,
    deadline: Any = None,
    title: str,
    label: str = "",
    width: float = 6.0,
    height: float = 2.8,
) -> Svg:
    """A cumulative reporting curve: the share of the expected units reported (a step up
    at each submission time), the deadline as a dashed line; the steps after it in red."""
    import datetime as dt

    fig = _figure(width, height)
    ax = fig.add_subplot()
    y = np.asarray(share, dtype=np.float64) * 100
    t = list(times)
    if t:
        end = None
        if deadline is not None:
            end = (
                deadline
                if isinstance(deadline, dt.datetime)
                else (dt.datetime(deadline.year, deadline.month, deadline.day) + dt.timedelta(days=1))
            )
        after = [i for i, x in enumerate(t) if end is not None and x >= end]
        line = ax.step(t, y, where="post", color="#4c78a8", label=f"reported 已报送 {label}".strip())[0]
        line.set_gid("curve")
        if after:
            late = ax.plot(
                [t[i] for i in after],
                y[after],
                linestyle="none",
                marker="o",
                markersize=4,
                color=_OUTLIER,
                label=f"late 逾期 ({len(after)})",
            )[0]
            late.set_gid("late")
        if end is not None:
            dl = ax.axvline(end, color="#333", linestyle="--", linewidth=1, label=f"deadline 截止 {deadline}")
            dl.set_gid("deadline")
        ax.legend(fontsize=8, frameon=False, loc="lower right")
        fig.autofmt_xdate()
    else:
        ax.text(0.5, 0.5, "no submission times 无报送时间", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of units 单位占比", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)
