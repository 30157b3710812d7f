"""The geometry of the reports' bar charts, drawn as inline SVG by the templates (WeasyPrint renders it in
the PDF, a browser renders the same markup). Pure functions.

Deliberately a small helper of its own rather than the web's: contributions may not import the web layer,
and the printed report needs only plain columns. Coordinates leave as strings with a dot, because the
templates render in French and would print 12,5 inside an SVG attribute.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def _n(value: float) -> str:
    return f"{value:.2f}"


def round_scale(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at least `value` (1 for nothing): the top of a scale whose grid
    lines read as round numbers."""
    if value <= 0:
        return Decimal(1)
    unit = Decimal(10) ** value.adjusted()
    return next(step * unit for step in STEPS if step * unit >= value).normalize()


@dataclass(frozen=True)
class Bar:
    label: str  # under the column, may be empty when columns are too many to label each
    title: str  # the tooltip and text alternative: « févr. 2026 : 12,5 h »
    x: str
    y: str
    width: str
    height: str
    label_x: str


@dataclass(frozen=True)
class Tick:
    y: str
    value: Decimal


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    bars: list[Bar]
    ticks: list[Tick]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def label_y(self) -> str:
        return _n(self.plot_bottom + 14)


def bar_chart(
    values: Sequence[tuple[str, str, Decimal]],
    *,
    width: int = 640,
    height: int = 180,
    left: int = 48,
    ticks: int = 4,
    max_labels: int = 18,
) -> BarChart:
    """One column per (label, title, value) from a zero baseline up to a round scale. With more columns
    than `max_labels`, only every n-th column keeps its label so they never overlap."""
    top, bottom = 8, height - 22
    plot = bottom - top
    scale = round_scale(max((max(v, Decimal(0)) for _l, _t, v in values), default=Decimal(0)))
    slot = (width - left) / max(len(values), 1)
    bar = slot * 0.7
    every = -(-len(values) // max_labels) if values else 1
    bars = []
    for index, (label, title, value) in enumerate(values):
        size = float(max(value, Decimal(0)) / scale) * plot
        x = left + index * slot + (slot - bar) / 2
        bars.append(
            Bar(
                label=label if index % every == 0 else "",
                title=title,
                x=_n(x),
                y=_n(bottom - size),
                width=_n(bar),
                height=_n(size),
                label_x=_n(x + bar / 2),
            )
        )
    grid = [
        Tick(y=_n(bottom - plot * i / ticks), value=(scale * i / ticks).normalize()) for i in range(ticks + 1)
    ]
    return BarChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=width,
        plot_bottom=bottom,
        bars=bars,
        ticks=grid,
    )
