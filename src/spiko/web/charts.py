"""Charts as inline SVG drawn on the server: no script, no library, nothing fetched at run time.

Each chart is an ``<svg role="img">`` labelled by the caption of the table the page prints
next to it (the same points, for screen readers and for copying). Values are plotted as floats
only to place pixels; every figure a reader sees comes from the Decimal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 8
PAD_RIGHT = 8
PAD_TOP = 12
PAD_BOTTOM = 24


@dataclass(frozen=True)
class Point:
    day: date
    value: Decimal


def _scale(values: Sequence[Decimal]) -> tuple[float, float]:
    low = min(float(v) for v in values)
    high = max(float(v) for v in values)
    low = min(low, 0.0)
    if high <= low:
        high = low + 1.0
    return low, high


def _y(value: Decimal, low: float, high: float) -> float:
    plot = HEIGHT - PAD_TOP - PAD_BOTTOM
    return PAD_TOP + plot * (1 - (float(value) - low) / (high - low))


def _x(index: int, count: int) -> float:
    width = WIDTH - PAD_LEFT - PAD_RIGHT
    return PAD_LEFT + (width * index / (count - 1) if count > 1 else width / 2)


def _frame(labelled_by: str, kind: str, body: str, points: Sequence[Point]) -> Markup:
    first, last = (points[0].day.isoformat(), points[-1].day.isoformat()) if points else ("", "")
    axis_y = HEIGHT - PAD_BOTTOM
    # Every piece of text in it is escaped above; the rest is numbers this module formatted.
    return Markup(  # noqa: S704
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(labelled_by)}" focusable="false">'
        f'<line class="axis" x1="{PAD_LEFT}" y1="{axis_y}" x2="{WIDTH - PAD_RIGHT}" y2="{axis_y}"/>'
        f"{body}"
        f'<text class="tick" x="{PAD_LEFT}" y="{HEIGHT - 6}">{escape(first)}</text>'
        f'<text class="tick" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{escape(last)}</text>'
        "</svg>"
    )


def line_chart(points: Sequence[Point], *, labelled_by: str) -> Markup:
    """A line of the values over the days (e.g. holdings), filled down to zero."""
    if not points:
        return _frame(labelled_by, "line", "", points)
    low, high = _scale([p.value for p in points])
    coordinates = [(_x(i, len(points)), _y(p.value, low, high)) for i, p in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    base = _y(Decimal(0), low, high)
    area = f"{coordinates[0][0]:.1f},{base:.1f} {path} {coordinates[-1][0]:.1f},{base:.1f}"
    body = f'<polygon class="area" points="{area}"/><polyline class="line" points="{path}"/>'
    return _frame(labelled_by, "line", body, points)


def bar_chart(points: Sequence[Point], *, labelled_by: str) -> Markup:
    """One bar per point (e.g. the yield of each day or span), up from zero or down for a loss."""
    if not points:
        return _frame(labelled_by, "bar", "", points)
    low, high = _scale([p.value for p in points])
    width = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(points)
    zero = _y(Decimal(0), low, high)
    bars = []
    for index, point in enumerate(points):
        top = _y(point.value, low, high)
        y, height = (top, zero - top) if top <= zero else (zero, top - zero)
        x = PAD_LEFT + index * width
        css = "bar" if point.value >= 0 else "bar negative"
        bars.append(
            f'<rect class="{css}" x="{x + width * 0.1:.1f}" y="{y:.1f}" '
            f'width="{max(width * 0.8, 0.5):.1f}" height="{max(height, 0.5):.1f}"/>'
        )
    return _frame(labelled_by, "bar", "".join(bars), points)
