"""The geometry of the contributions' pictures: a budget's burn-down as lines over its period, and hours by
activity as bars stacked month by month. Pure functions, drawn as inline SVG by the templates, each picture
coming with the numbers it shows (the templates give them as a table too). Coordinates leave as strings
with a dot, like `charts`: the template engine would print 12,5 in French."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from lieux.web.charts import GridLine, nice_ceiling
from lieux.web.templatetags.lieux_money import quantity

# Distinct for most colour vision deficiencies (Okabe–Ito order), then a grey for the rest.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
OTHERS_COLOUR = "#8a939e"


def _n(value: float) -> str:
    return f"{value:.2f}"


# Burn-down ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    key: str  # envelope_left, ideal, committed, granted, received
    points: str  # the polyline's "x,y x,y …"; empty when the series has no value yet
    dots: list[tuple[str, str]]  # the actual points, so one step alone still shows


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    zero_y: str
    grid: list[GridLine]
    labels: list[tuple[str, str]]  # (x, text) under the axis, thinned out so they never overlap
    series: list[Series]
    today_x: str | None  # a marker at the last step that has begun

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def label_y(self) -> str:
        return _n(self.plot_bottom + 16)


def line_chart(
    steps: Sequence[tuple[str, dict[str, Decimal | None]]],
    *,
    keys: Sequence[str],
    width: int = 640,
    height: int = 240,
    left: int = 72,
    right: int = 36,
    max_labels: int = 12,
) -> LineChart:
    """Lines through `steps` — (label, {key: value or None}) in order — one per key. A None value (a step
    that has not begun) breaks nothing: the line stops at the last known value. The scale covers zero and
    every value, on round grid lines, and goes below zero when a value does (a budget in deficit)."""
    top, bottom = 10, height - 26
    values = [v for _label, row in steps for k in keys if (v := row.get(k)) is not None]
    highest = max([*values, Decimal(0)])
    lowest = min([*values, Decimal(0)])
    if lowest < 0:
        # Round steps below zero as well as above, so that zero stays on a grid line.
        step = nice_ceiling(highest - lowest) / 4
        below = (-lowest / step).to_integral_value(rounding=ROUND_CEILING) * step
        above = max((highest / step).to_integral_value(rounding=ROUND_CEILING) * step, step)
        grid_steps = int((above + below) / step)
    else:
        below, above, grid_steps = Decimal(0), nice_ceiling(highest), 4
    total = above + below
    plot = bottom - top

    def y(value: Decimal) -> float:
        return top + float((above - value) / total) * plot

    count = max(len(steps), 1)
    slot = (width - left - right) / max(count - 1, 1)

    def x(index: int) -> float:
        return left + (index * slot if count > 1 else (width - left - right) / 2)

    series = []
    for key in keys:
        known = [(x(i), y(row[key])) for i, (_l, row) in enumerate(steps) if row.get(key) is not None]  # type: ignore[arg-type]
        series.append(
            Series(
                key=key,
                points=" ".join(f"{_n(px)},{_n(py)}" for px, py in known),
                dots=[(_n(px), _n(py)) for px, py in known],
            )
        )
    every = -(-count // max_labels)
    labels = [(_n(x(i)), label) for i, (label, _row) in enumerate(steps) if i % every == 0]
    grid = [
        GridLine(y=_n(y(above - total * i / grid_steps)), value=(above - total * i / grid_steps).normalize())
        for i in range(grid_steps + 1)
    ]
    begun = [
        i for i, (_l, row) in enumerate(steps) if any(row.get(k) is not None for k in keys if k != "ideal")
    ]
    return LineChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=width - right,
        plot_top=top,
        plot_bottom=bottom,
        zero_y=_n(y(Decimal(0))),
        grid=grid,
        labels=labels,
        series=series,
        today_x=_n(x(begun[-1])) if begun and len(begun) < count else None,
    )


# Hours by activity, stacked by month ------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    activity: str
    colour: str
    y: str
    height: str
    title: str  # « mars 2026 — Communication : 12,5 h »


@dataclass(frozen=True)
class Stack:
    label: str
    title: str  # the month and its total
    x: str
    width: str
    label_x: str
    segments: list[Segment]


@dataclass(frozen=True)
class LegendItem:
    activity: str
    colour: str


@dataclass(frozen=True)
class StackedChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    stacks: list[Stack]
    grid: list[GridLine]
    legend: list[LegendItem]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def label_y(self) -> str:
        return _n(self.plot_bottom + 16)


def colours(activities: Sequence[str]) -> dict[str, str]:
    """A colour per activity in the order given (most hours first); beyond the palette, grey."""
    return {name: PALETTE[i] if i < len(PALETTE) else OTHERS_COLOUR for i, name in enumerate(activities)}


def stacked_chart(
    months: Sequence[tuple[date, str, str]],
    activities: Sequence[tuple[str, str]],
    hours: dict[tuple[date, str], Decimal],
    *,
    segment_title: str = "%(month)s — %(activity)s: %(hours)s",
    width: int = 640,
    height: int = 220,
    left: int = 48,
    max_labels: int = 12,
) -> StackedChart:
    """One column per (month, short label, title), its activities' hours stacked from the baseline in the
    order of `activities` — (key, shown name). `segment_title` words each piece for its tooltip."""
    top, bottom = 8, height - 24
    plot = bottom - top
    palette = colours([key for key, _name in activities])
    totals = [
        sum((hours.get((m, key), Decimal(0)) for key, _name in activities), Decimal(0)) for m, *_ in months
    ]
    scale = nice_ceiling(max(totals, default=Decimal(0)))
    slot = (width - left) / max(len(months), 1)
    bar = slot * 0.64
    every = -(-len(months) // max_labels) if months else 1
    stacks = []
    for index, (month, label, title) in enumerate(months):
        x = left + index * slot + (slot - bar) / 2
        base = float(bottom)
        segments = []
        for key, name in activities:
            value = hours.get((month, key), Decimal(0))
            if value <= 0:
                continue
            size = float(value / scale) * plot
            base -= size
            segments.append(
                Segment(
                    activity=name,
                    colour=palette[key],
                    y=_n(base),
                    height=_n(size),
                    title=segment_title % {"month": title, "activity": name, "hours": _hours(value)},
                )
            )
        stacks.append(
            Stack(
                label=label if index % every == 0 else "",
                title=title,
                x=_n(x),
                width=_n(bar),
                label_x=_n(x + bar / 2),
                segments=segments,
            )
        )
    grid = [GridLine(y=_n(bottom - plot * i / 4), value=(scale * i / 4).normalize()) for i in range(5)]
    legend = [LegendItem(name, palette[key]) for key, name in activities]
    return StackedChart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=bottom,
        stacks=stacks,
        grid=grid,
        legend=legend,
    )


def _hours(value: Decimal) -> str:
    return f"{quantity(value)} h"
