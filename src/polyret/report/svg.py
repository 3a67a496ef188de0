"""Hand-written inline SVG charts: grouped bars, lines and horizontal bars.

No plotting library: each chart is a ``<figure>`` with an ``<svg>`` (scaled by its
``viewBox``, so it fits any width), a ``<title>``/``aria-label`` saying what it shows, a
tooltip (``<title>``) on every mark, and an HTML legend. Colours are the Okabe-Ito palette
(distinguishable with the common colour-vision deficiencies); lines also differ by dash
pattern and marker shape so no series is told apart by colour alone. Text and axes use
``currentColor`` and CSS classes, so the page's light or dark theme styles them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from html import escape

PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#6B6B6B",  # grey
    "#B8A000",  # dark yellow (Okabe-Ito yellow darkened for contrast on white)
)
"""Series colours, in order."""

DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond")

Point = tuple[float, float]


def colour(index: int) -> str:
    """The colour of the ``index``-th series."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Frame:
    """Plot area geometry inside a ``width`` × ``height`` viewBox."""

    width: int = 640
    height: int = 300
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 44

    @property
    def inner_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> float:
        return self.height - self.top - self.bottom


SMALL = Frame(width=320, height=200, left=44, right=10, top=12, bottom=36)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2 or 5 times a power of 10).

    Example:
        >>> nice_ticks(0.0, 0.83)
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step + 1e-9) * step
    ticks = []
    value = start
    while value < high - 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    ticks.append(round(value, 10))
    return ticks


def format_number(value: float) -> str:
    """Short tick/tooltip label: ``0.25``, ``1,200``, ``3.2k``."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value / 1000:,.0f}k"
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.1f}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _figure(svg: str, caption: str, legend: str, heading: str | None = None, kind: str = "") -> str:
    if heading is not None:  # small multiples: a short heading above, no repeated legend
        return (
            f'<figure class="chart small"><figcaption>{escape(heading)}</figcaption>{svg}</figure>'
        )
    return (
        f'<figure class="chart {kind}">{svg}{legend}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _svg_open(frame: Frame, label: str) -> str:
    return (
        f'<svg viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(label)}</title>"
    )


def _y_axis(frame: Frame, ticks: Sequence[float], scale, label: str, percent: bool) -> list[str]:
    parts = []
    for tick in ticks:
        y = scale(tick)
        text = f"{tick:g}%" if percent else format_number(tick)
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{text}</text>"
        )
    if label:
        cy = frame.top + frame.inner_height / 2
        parts.append(
            f'<text class="axis-label" transform="translate(12 {cy:.1f}) rotate(-90)" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.width - frame.right}" '
        f'y1="{frame.top + frame.inner_height}" y2="{frame.top + frame.inner_height}"/>'
    )
    return parts


def _x_label(frame: Frame, label: str) -> str:
    if not label:
        return ""
    x = frame.left + frame.inner_width / 2
    return (
        f'<text class="axis-label" x="{x:.1f}" y="{frame.height - 4}" '
        f'text-anchor="middle">{escape(label)}</text>'
    )


def legend(
    names: Sequence[str],
    *,
    lines: bool = False,
    bold: Sequence[str] = (),
    colours: Mapping[str, str] | None = None,
) -> str:
    """An HTML legend: one swatch (a bar colour, or a line with its dash and marker) per name."""
    items = []
    for i, name in enumerate(names):
        if lines:
            dash = DASHES[i % len(DASHES)]
            width = 3 if name in bold else 2
            swatch = (
                f'<svg class="swatch-line" viewBox="0 0 28 12" aria-hidden="true">'
                f'<line x1="1" x2="27" y1="6" y2="6" stroke="{colour(i)}" '
                f'stroke-width="{width}" stroke-dasharray="{dash}"/>'
                f"{_marker(MARKERS[i % len(MARKERS)], 14, 6, colour(i), 3)}</svg>"
            )
        else:
            fill = (colours or {}).get(name, colour(i))
            swatch = f'<span class="swatch" style="background:{fill}"></span>'
        items.append(f"<li>{swatch}{escape(name)}</li>")
    return f'<ul class="legend">{"".join(items)}</ul>'


CUT_RATIO = 0.5
"""A bar chart's value axis is cut (does not start at 0) when its smallest value is more
than this fraction of its top: bars within a factor of two of each other."""

HEADROOM = 0.25
"""Below the smallest value, a cut axis leaves at least this fraction of the values' span
(so the smallest bar is still a visible bar, not a sliver)."""


def bar_axis(
    values: Sequence[float], *, top: float | None = None, zero: bool = False
) -> list[float]:
    """The ticks of a bar chart's value axis; ``ticks[0] > 0`` means the axis is cut.

    The axis starts at 0, so bar lengths are proportional to the values, when ``zero`` is
    set, when a value is negative, or when the values span widely (smallest ≤
    :data:`CUT_RATIO` × largest). Otherwise the differences would be a few pixels on top of
    long equal-looking bars (0.79 and 0.85 look alike from 0), so the axis starts at the
    round tick at or below ``smallest − max(HEADROOM × (largest − smallest), 0.05 ×
    largest)``: the smallest bar stays a visible bar. The chart then marks the cut.

    Args:
        values: The values drawn (non-finite ones are ignored).
        top: The top of the axis (default: from the data).
        zero: Always start at 0 (counts, where the ratio of two bars is what matters).

    Example:
        >>> bar_axis([0.79, 0.85])
        [0.7, 0.75, 0.8, 0.85]
        >>> bar_axis([0.2, 0.85])
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    finite = [v for v in values if math.isfinite(v)]
    high = top if top is not None else max([*finite, 0.0]) or 1.0
    low = min(finite, default=0.0)
    if zero or low <= CUT_RATIO * high:
        return nice_ticks(0.0, high)
    margin = max(HEADROOM * (max(finite) - low), 0.05 * high)
    ticks = nice_ticks(max(low - margin, 0.0), high)
    return ticks if ticks[0] > 0 else nice_ticks(0.0, high)


def grouped_bars(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    caption: str,
    y_label: str = "",
    y_max: float | None = None,
    zero: bool = False,
    digits: int | None = 3,
    marks: Mapping[str, Sequence[str]] | None = None,
    frame: Frame = Frame(),
) -> str:
    """Vertical bars: one cluster per group (e.g. language), one bar per series (system).

    The value axis follows :func:`bar_axis`: when it does not start at 0, a break mark on the
    axis and the caption say where it starts. Each bar's value is printed above it (rotated,
    ``digits`` decimals, followed by its mark) so a difference of 0.01 reads as digits even
    where bars look alike; bars too narrow for a label (many systems × groups) keep the value
    in their tooltip only.

    Args:
        groups: Cluster labels along the x axis.
        series: ``{series name: one value per group}``.
        caption: What the chart shows (also its accessible label).
        y_label: Y axis title.
        y_max: Top of the y axis (default: from the data).
        zero: Start the axis at 0 whatever the values (see :func:`bar_axis`).
        digits: Decimals of the printed values; ``None`` prints none.
        marks: ``{series name: one mark per group}`` appended to the printed value (e.g.
            ``"▲"`` where a system is significantly better than the baseline).
        frame: Geometry.

    Returns:
        An HTML ``<figure>``.
    """
    names = list(series)
    ticks = bar_axis([v for vs in series.values() for v in vs], top=y_max, zero=zero)
    low, high = ticks[0], ticks[-1]
    if low > 0:
        caption += f" (y axis starts at {format_number(low)}, not 0)"
    slot = frame.inner_width / max(len(groups), 1)
    bar = min(28.0, slot * 0.8 / max(len(names), 1))
    size = min(11.0, bar - 1)
    labelled = digits is not None and size >= 7
    mark_of = {name: list((marks or {}).get(name, [""] * len(groups))) for name in names}
    if labelled:
        rooms = [
            (v, 6 + 0.62 * size * len(f"{v:.{digits}f}") + (size + 1 if mark_of[n][gi] else 0))
            for n in names
            for gi, v in enumerate(series[n])
            if math.isfinite(v)
        ]
        frame = _room_above(frame, rooms, low, high)
    bottom = frame.top + frame.inner_height

    def scale(v: float) -> float:
        return frame.top + frame.inner_height * (1 - (v - low) / (high - low))

    parts = [_svg_open(frame, caption), *_y_axis(frame, ticks, scale, y_label, False)]
    for gi, group in enumerate(groups):
        x0 = frame.left + gi * slot + (slot - bar * len(names)) / 2
        for si, name in enumerate(names):
            value = series[name][gi]
            if not math.isfinite(value):
                continue
            y = scale(max(value, low))
            mark = mark_of[name][gi]
            parts.append(
                f'<rect x="{x0 + si * bar:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{bottom - y:.1f}" fill="{colour(si)}">'
                f"<title>{escape(name)} · {escape(group)}: {value:.4f}{escape(mark)}</title></rect>"
            )
            if labelled:
                parts.append(
                    _bar_label(x0 + si * bar + bar / 2, y, f"{value:.{digits}f}", mark, size)
                )
        cx = frame.left + gi * slot + slot / 2
        parts.append(
            f'<text class="tick" x="{cx:.1f}" y="{bottom + 16}" '
            f'text-anchor="middle">{escape(group)}</text>'
        )
    if low > 0:
        parts.append(_axis_break(frame, low))
    parts.append("</svg>")
    return _figure("".join(parts), caption, legend(names), kind="bars")


def _room_above(
    frame: Frame, rooms: Sequence[tuple[float, float]], low: float, high: float
) -> Frame:
    """``frame`` with a top margin so that each ``(value, room)`` bar has ``room`` units free
    above it (its printed value) inside the viewBox."""
    span = frame.height - frame.bottom  # the plot's bottom edge, fixed
    top = float(frame.top)
    for value, room in rooms:
        f = (high - value) / (high - low)  # the bar's top is top + (span - top) * f
        if f < 1:  # solve top + (span - top) * f >= room for top
            top = max(top, (room - span * f) / (1 - f))
    return replace(frame, top=math.ceil(top))


_MARK_CLASS = {"▲": "sig up", "▼": "sig down"}


def _bar_label(x: float, y: float, text: str, mark: str, size: float) -> str:
    """``text`` rotated upwards from a bar's top at (``x``, ``y``), ``mark`` upright below it."""
    parts = []
    if mark:
        parts.append(
            f'<text class="value {_MARK_CLASS.get(mark, "")}" x="{x:.1f}" y="{y - 3:.1f}" '
            f'text-anchor="middle" style="font-size:{size:.1f}px">{escape(mark)}</text>'
        )
        y -= size + 1
    parts.append(
        f'<text class="value" transform="translate({x + size / 3:.1f} {y - 3:.1f}) rotate(-90)" '
        f'style="font-size:{size:.1f}px">{text}</text>'
    )
    return "".join(parts)


def _axis_break(frame: Frame, low: float) -> str:
    """A zigzag across the foot of the y axis, and a note, marking an axis cut at ``low``."""
    x, y = frame.left, frame.top + frame.inner_height
    return (
        f'<path class="axis-break" d="M{x - 3} {y - 2} l3 -4 l3 8 l3 -4" fill="none"/>'
        f'<text class="axis-note" x="4" y="{frame.height - 4}">'
        f"y axis cut: starts at {format_number(low)}, not 0</text>"
    )


def _marker(shape: str, x: float, y: float, fill: str, r: float = 3.5) -> str:
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{fill}"/>'  # noqa: E501
    if shape == "triangle":
        points = (
            f"{x:.1f},{y - r * 1.2:.1f} {x - r:.1f},{y + r * 0.8:.1f} {x + r:.1f},{y + r * 0.8:.1f}"
        )
        return f'<polygon points="{points}" fill="{fill}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - r * 1.3:.1f} {x - r:.1f},{y:.1f} {x:.1f},{y + r * 1.3:.1f} {x + r:.1f},{y:.1f}"  # noqa: E501
        return f'<polygon points="{points}" fill="{fill}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}"/>'


def lines(
    series: Mapping[str, Sequence[Point]],
    *,
    caption: str,
    x_label: str = "",
    y_label: str = "",
    x_categories: Sequence[str] | None = None,
    y_range: tuple[float, float] | None = None,
    percent: bool = False,
    bold: Sequence[str] = (),
    markers: bool = True,
    frame: Frame = Frame(),
    heading: str | None = None,
) -> str:
    """Line chart: one line per series, with markers, dash patterns and point tooltips.

    Args:
        series: ``{name: [(x, y), ...]}``; with ``x_categories`` each x is a category index.
        caption: What the chart shows (also its accessible label).
        x_label: X axis title.
        y_label: Y axis title.
        x_categories: Evenly spaced category labels instead of a numeric x axis.
        y_range: Fixed y axis range (default: from the data, starting at 0 when all y >= 0).
        percent: Label y ticks as percentages.
        bold: Series drawn thicker (e.g. an overall mean among per-language lines).
        markers: Draw a marker at each point.
        frame: Geometry.
        heading: For small multiples: a short title above the chart, and no legend (the
            page shows one legend for the whole grid).

    Returns:
        An HTML ``<figure>``.
    """
    names = list(series)
    points = [p for ps in series.values() for p in ps if math.isfinite(p[1])]
    ys = [p[1] for p in points] or [0.0, 1.0]
    if y_range is None:
        low = 0.0 if min(ys) >= 0 and min(ys) <= 0.5 * max(ys) else min(ys)
        ticks = nice_ticks(low, max(ys))
    else:
        ticks = nice_ticks(*y_range)
    y_low, y_high = ticks[0], ticks[-1]

    def y_scale(v: float) -> float:
        return frame.top + frame.inner_height * (1 - (v - y_low) / ((y_high - y_low) or 1.0))

    if x_categories is not None:
        x_low, x_high = 0.0, float(max(len(x_categories) - 1, 1))
        pad = frame.inner_width * 0.04
    else:
        xs = [p[0] for p in points] or [0.0, 1.0]
        x_low, x_high = min(xs), max(xs)
        if x_high <= x_low:
            x_high = x_low + 1
        pad = 0.0

    def x_scale(v: float) -> float:
        return frame.left + pad + (frame.inner_width - 2 * pad) * (v - x_low) / (x_high - x_low)

    parts = [_svg_open(frame, caption), *_y_axis(frame, ticks, y_scale, y_label, percent)]
    baseline_y = frame.top + frame.inner_height + 16
    if x_categories is not None:
        for i, label in enumerate(x_categories):
            parts.append(
                f'<text class="tick" x="{x_scale(i):.1f}" y="{baseline_y}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    else:
        for tick in nice_ticks(x_low, x_high):
            if x_low - 1e-9 <= tick <= x_high + 1e-9:
                parts.append(
                    f'<text class="tick" x="{x_scale(tick):.1f}" y="{baseline_y}" '
                    f'text-anchor="middle">{format_number(tick)}</text>'
                )
    for si, name in enumerate(names):
        pts = [(x, y) for x, y in series[name] if math.isfinite(y)]
        if not pts:
            continue
        path = " ".join(f"{x_scale(x):.1f},{y_scale(y):.1f}" for x, y in pts)
        width = 3.2 if name in bold else 2.0
        dash = DASHES[si % len(DASHES)]
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour(si)}" '
            f'stroke-width="{width}" stroke-dasharray="{dash}" stroke-linejoin="round">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if markers and len(pts) <= 40:
            shape = MARKERS[si % len(MARKERS)]
            for x, y in pts:
                label = x_categories[int(x)] if x_categories is not None else format_number(x)
                shown = f"{y:.1f}%" if percent else f"{y:.4g}"
                parts.append(
                    f"<g>{_marker(shape, x_scale(x), y_scale(y), colour(si))}"
                    f"<title>{escape(name)} · {escape(str(label))}: {shown}</title></g>"
                )
    parts.append(_x_label(frame, x_label))
    parts.append("</svg>")
    return _figure("".join(parts), caption, legend(names, lines=True, bold=bold), heading)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    kinds: Sequence[str],
    *,
    caption: str,
    x_label: str = "",
    unit: str = "",
    kind_colours: Mapping[str, str] | None = None,
) -> str:
    """Horizontal bars, one per label, coloured by kind (e.g. computed / reused).

    Args:
        labels: One label per bar (drawn left of it).
        values: Bar lengths.
        kinds: The category of each bar; each distinct kind gets a colour and a legend entry.
        caption: What the chart shows (also its accessible label).
        x_label: X axis title.
        unit: Appended to the value printed at the end of each bar.
        kind_colours: Colour of each kind (default: the palette in order of appearance).

    Returns:
        An HTML ``<figure>``.
    """
    kind_names = list(dict.fromkeys(kinds))
    fills = {k: colour(i) for i, k in enumerate(kind_names)} | dict(kind_colours or {})
    row = 24
    longest = max((len(label) for label in labels), default=4)
    frame = Frame(
        width=640,
        height=16 + row * max(len(labels), 1) + 40,
        left=min(220, 14 + 7 * longest),
        right=64,
        top=12,
        bottom=40,
    )
    top = max([*values, 0.0]) or 1.0
    ticks = nice_ticks(0.0, top)

    def x_scale(v: float) -> float:
        return frame.left + frame.inner_width * v / ticks[-1]

    parts = [_svg_open(frame, caption)]
    for tick in ticks:
        x = x_scale(tick)
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" '
            f'y2="{frame.top + frame.inner_height}"/>'
            f'<text class="tick" x="{x:.1f}" y="{frame.top + frame.inner_height + 16}" '
            f'text-anchor="middle">{format_number(tick)}</text>'
        )
    for i, (label, value, kind) in enumerate(zip(labels, values, kinds, strict=True)):
        y = frame.top + i * row + 4
        fill = fills[kind]
        width = max(x_scale(value) - frame.left, 1.0)
        parts.append(
            f'<text class="tick" x="{frame.left - 6}" y="{y + 12}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{frame.left}" y="{y}" width="{width:.1f}" height="{row - 8}" fill="{fill}">'
            f"<title>{escape(label)} ({escape(kind)}): {value:.2f}{escape(unit)}</title></rect>"
            f'<text class="value" x="{frame.left + width + 4:.1f}" y="{y + 12}">'
            f"{format_number(value)}{escape(unit)}</text>"
        )
    parts.append(_x_label(frame, x_label))
    parts.append("</svg>")
    return _figure("".join(parts), caption, legend(kind_names, colours=fills), kind="hbar")
