"""Charts for the HTML pack, drawn with matplotlib and inlined as SVG.

Why matplotlib SVG: it is a well-kept library, its SVG needs no JavaScript and no network (the
pack must open on a locked-down DWP laptop, attached to an email), and it is deterministic once
``svg.hashsalt`` is fixed and the metadata date is removed, so the pack is byte-identical run to
run. Text stays text (``svg.fonttype = none``): smaller files, searchable and selectable labels.

Every function takes plain lists (already taken out of the result dicts) and returns an ``<svg>``
element as a string. Figures are made with :class:`matplotlib.figure.Figure` directly, never with
pyplot, so no global figure state is kept between charts.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: the pack is written on servers and in CI

from matplotlib import rc_context  # noqa: E402 - after choosing the backend
from matplotlib.colors import LinearSegmentedColormap, ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: GOV.UK Design System colours: the pack reads like the DWP MI it stands beside.
GREEN, RED, AMBER, GREY = "#00703c", "#d4351c", "#f47738", "#b1b4b6"
BLUE, DARK, MID, LIGHT = "#1d70b8", "#0b0c0c", "#505a5f", "#f3f2f1"
SERIES = (BLUE, "#912b88", "#28a197", "#f499be", "#85994b", "#6f72af", "#b58840", "#5694ca")
RAG = {True: GREEN, False: RED, None: GREY}
LEVELS = ("#ffffff", "#cce2d8", "#ffdd00", AMBER, RED)  # 0 none, then levels 1-4

RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
    "font.size": 9,
    "axes.edgecolor": "#b1b4b6",
    "axes.labelcolor": DARK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "xtick.color": MID,
    "ytick.color": MID,
    "legend.frameon": False,
    "legend.fontsize": 8,
}

_HEADER = re.compile(r"\A.*?(?=<svg)", re.S)


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element: no XML header, no date, ids salted by ``salt`` so
    that two charts on one page never share a clip-path id."""
    buf = io.StringIO()
    with rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _HEADER.sub("", buf.getvalue(), count=1).strip()


def _figure(width: float, height: float, left: float = 0.55, right: float = 0.15,
            top: float = 0.3, bottom: float = 0.35) -> Figure:
    """A figure with fixed margins in inches: a layout engine would cost four times the
    drawing, and the pack draws a hundred charts."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height)
    return fig


def _ticks(ax, labels: Sequence[str], most: int = 12) -> None:  # type: ignore[no-untyped-def]
    """Period labels on the x axis, thinned to at most ``most`` so they never overlap."""
    step = max(1, math.ceil(len(labels) / most))
    idx = list(range(0, len(labels), step))
    ax.set_xticks(idx, [labels[i] for i in idx], rotation=0)
    ax.set_xlim(-0.5, len(labels) - 0.5)


def _legend_top(ax, ncols: int) -> None:  # type: ignore[no-untyped-def]
    """The legend above the plot on the right, level with the title: never over the data."""
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=ncols, fontsize=7,
              borderaxespad=0.2, handlelength=1.6, columnspacing=1)


def _label_room(labels: Sequence[str]) -> float:
    """Inches of left margin for the longest y-axis label at 8 points."""
    return min(3.2, 0.25 + 0.065 * max((len(s) for s in labels), default=4))


def trend(salt: str, title: str, periods: Sequence[str],
          series: Sequence[tuple[str, Sequence[float | None]]],
          met: Sequence[bool | None], target: Sequence[float | None],
          edges: Sequence[tuple[str, float]] = (), percent: bool = True) -> str:
    """Each series by period (the first marked green/red/grey by whether it met its target),
    the target as a dashed line and each band's lower edge as a dotted line."""
    with rc_context(RC):
        fig = _figure(9.2, 2.6)
        ax = fig.add_subplot()
        x = list(range(len(periods)))
        scale = 100.0 if percent else 1.0
        for i, (label, values) in enumerate(series):
            ys = [math.nan if v is None else v * scale for v in values]
            ax.plot(x, ys, color=SERIES[i % len(SERIES)], lw=1.8 if i == 0 else 1.2,
                    alpha=1 if i == 0 else 0.8, label=label, zorder=3 - i * 0.1)
            if i == 0:
                ax.scatter(x, ys, c=[RAG[m] for m in met], s=14, zorder=4, linewidths=0)
        if any(t is not None for t in target):
            ts = [math.nan if t is None else t * scale for t in target]
            ax.step(x, ts, where="mid", color=DARK, lw=1.2, ls="--", label="target", zorder=2)
        for label, edge in edges:
            ax.axhline(edge * scale, color=AMBER, lw=0.9, ls=":", zorder=1)
            ax.annotate(label, (1, edge * scale), xycoords=("axes fraction", "data"),
                        fontsize=7, color=MID, ha="right", va="bottom")
        _ticks(ax, periods, most=9)
        if percent:
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:g}%")
        ax.set_title(title)
        ax.grid(axis="y", color="#e6e6e6", lw=0.6)
        _legend_top(ax, ncols=len(series) + 1)
        return to_svg(fig, salt)


def profile(salt: str, title: str, periods: Sequence[str], actual: Sequence[float | None],
            expected: Sequence[float | None], met: Sequence[bool | None],
            share: float | None = None) -> str:
    """Cumulative actual against the profile's expected figure (and the share of it required)."""
    with rc_context(RC):
        fig = _figure(9.2, 2.6)
        ax = fig.add_subplot()
        x = list(range(len(periods)))
        exp = [math.nan if v is None else v for v in expected]
        act = [math.nan if v is None else v for v in actual]
        ax.fill_between(x, exp, color=LIGHT, zorder=1)
        ax.plot(x, exp, color=MID, ls="--", lw=1.2, label="expected (profile)", zorder=2)
        if share is not None and share != 1:
            ax.plot(x, [e * share for e in exp], color=AMBER, ls=":", lw=1,
                    label=f"required ({share:.0%} of expected)", zorder=2)
        ax.plot(x, act, color=BLUE, lw=1.8, label="actual", zorder=3)
        ax.scatter(x, act, c=[RAG[m] for m in met], s=14, zorder=4, linewidths=0)
        _ticks(ax, periods, most=9)
        ax.set_title(title)
        ax.grid(axis="y", color="#e6e6e6", lw=0.6)
        _legend_top(ax, ncols=3)
        return to_svg(fig, salt)


#: Actual minus expected conversion, in points: red below the profile, green above it.
_DIVERGE = LinearSegmentedColormap.from_list("pmirc", [RED, "#f8d7d0", "#ffffff", "#cce2d8",
                                                       GREEN])


def heatmap(salt: str, title: str, cohorts: Sequence[str], starts: Sequence[int],
            actual: Sequence[Sequence[float | None]],
            expected: Sequence[Sequence[float | None]]) -> str:
    """The cohort triangle: one row per cohort, one column per month since start, each cell's
    conversion written in it and shaded by how far it is above (green) or below (red) the
    profile's expected conversion at that point."""
    width = max((len(r) for r in actual), default=1)
    diff = [[math.nan if a is None or e is None else (a - e) * 100
             for a, e in zip(row, erow)] + [math.nan] * (width - len(row))
            for row, erow in zip(actual, expected)]
    spread = max([abs(v) for row in diff for v in row if not math.isnan(v)] + [1.0])
    with rc_context(RC):
        fig = _figure(min(12.4, 2.4 + 0.4 * width), 0.95 + 0.22 * len(cohorts), left=1.25,
                      right=0.2, top=0.6, bottom=0.1)
        ax = fig.add_subplot()
        img = ax.imshow(diff, cmap=_DIVERGE, vmin=-spread, vmax=spread, aspect="auto",
                        interpolation="nearest")
        for i, row in enumerate(actual):
            for j, a in enumerate(row):
                if a is not None:
                    ax.text(j, i, f"{a * 100:.0f}", ha="center", va="center", fontsize=6.5,
                            color=DARK)
        ax.set_yticks(range(len(cohorts)),
                      [f"{c} ({s:,})" for c, s in zip(cohorts, starts)], fontsize=7)
        ax.set_xticks(range(width), [f"+{k}" for k in range(width)], fontsize=7)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        bar = fig.colorbar(img, ax=ax, shrink=0.8, pad=0.01)
        bar.set_label("points above (+) or below (-) the profile", fontsize=7)
        bar.ax.tick_params(labelsize=7)
        ax.set_title(title, pad=14)
        return to_svg(fig, salt)


def bars(salt: str, title: str, labels: Sequence[str], values: Sequence[float | None],
         met: Sequence[bool | None], line: float | None = None, line_label: str = "",
         percent: bool = True) -> str:
    """One horizontal bar per group, coloured by whether it met its target, with a reference
    line (100% of the MPL, a national average)."""
    scale = 100.0 if percent else 1.0
    with rc_context(RC):
        fig = _figure(6.4, 0.75 + 0.28 * len(labels), left=_label_room(labels), right=0.5)
        ax = fig.add_subplot()
        ys = list(range(len(labels)))[::-1]
        vals = [0.0 if v is None else v * scale for v in values]
        ax.barh(ys, vals, color=[RAG[m] for m in met], height=0.62, zorder=2)
        for y, v, raw in zip(ys, vals, values):
            text = "-" if raw is None else (f"{v:.1f}%" if percent else f"{v:,.2f}")
            ax.annotate(text, (v, y), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=7, color=DARK)
        if line is not None:
            ax.axvline(line * scale, color=DARK, ls="--", lw=1, label=line_label, zorder=3)
            ax.legend(loc="lower right", fontsize=7)
        ax.set_yticks(ys, labels, fontsize=8)
        ax.set_xlim(0, max(vals + [(line or 0) * scale, 1e-9]) * 1.15)
        if percent:
            ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}%")
        ax.set_title(title)
        ax.grid(axis="x", color="#e6e6e6", lw=0.6)
        return to_svg(fig, salt)


def stacked(salt: str, title: str, periods: Sequence[str],
            parts: Sequence[tuple[str, str, Sequence[float]]], unit: str = "") -> str:
    """Stacked bars by period: ``parts`` is (label, colour, values) from the bottom up."""
    with rc_context(RC):
        fig = _figure(9.2, 2.6)
        ax = fig.add_subplot()
        x = list(range(len(periods)))
        bottom = [0.0] * len(periods)
        for label, colour, values in parts:
            ax.bar(x, values, bottom=bottom, color=colour, label=label, width=0.75, zorder=2)
            bottom = [b + v for b, v in zip(bottom, values)]
        _ticks(ax, periods, most=9)
        if unit == "£":
            ax.yaxis.set_major_formatter(lambda v, _: f"£{v:,.0f}")
        ax.set_title(title)
        ax.grid(axis="y", color="#e6e6e6", lw=0.6)
        _legend_top(ax, ncols=len(parts))
        return to_svg(fig, salt)


def levels(salt: str, title: str, groups: Sequence[str], months: Sequence[str],
           grid: Sequence[Sequence[int]], names: Sequence[tuple[int, str]]) -> str:
    """Escalation level per group per month: one coloured strip per group (0: no level)."""
    with rc_context(RC):
        fig = _figure(6.4, 1.1 + 0.3 * len(groups), left=_label_room(groups), bottom=0.75)
        ax = fig.add_subplot()
        cmap = ListedColormap(LEVELS[: max(len(names) + 1, 2)])
        ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, aspect="auto",
                  interpolation="nearest")
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=6.5, color=DARK)
        ax.set_yticks(range(len(groups)), groups, fontsize=8)
        _ticks(ax, months, most=12)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        handles = [matplotlib.patches.Patch(color=LEVELS[n], label=f"{n} {t}") for n, t in names
                   if n < len(LEVELS)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.35 / (0.3 * len(groups))),
                  ncols=2, fontsize=7)
        ax.set_title(title)
        return to_svg(fig, salt)
