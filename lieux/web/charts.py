"""The geometry of the small money pictures: invoice totals per month and credit balances.

Pure functions, no ORM and no I/O, drawn as inline SVG by the templates. Every coordinate leaves here as
a string with a dot (the template engine would print 12,5 in French), and every picture comes with the
numbers it shows, which the templates also give as text for people who do not see it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


def _n(value: float) -> str:
    return f"{value:.2f}"


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at least `value`: a scale whose grid lines read well."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for _attempt in range(2):
        unit = Decimal(10) ** exponent
        for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
            if step * unit >= value:
                return (step * unit).normalize()
        exponent += 1
    return value  # unreachable: 10 × 10ⁿ ≥ value for n = value.adjusted()


@dataclass(frozen=True)
class Column:
    label: str  # under the column, e.g. "déc."
    title: str  # the tooltip and the text alternative, e.g. "décembre 2026 : 1 200,00 €"
    x: str
    width: str
    y: str  # top of the whole column
    height: str
    part_y: str  # the highlighted part at the top of the column (credited amounts)
    part_height: str
    label_x: str


@dataclass(frozen=True)
class GridLine:
    y: str
    value: Decimal


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    columns: list[Column]
    grid: list[GridLine]
    scale: Decimal

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def label_y(self) -> str:
        return _n(self.plot_bottom + 16)


def column_chart(
    values: Sequence[tuple[str, str, Decimal, Decimal]],
    *,
    width: int = 640,
    height: int = 200,
    left: int = 56,
    grid_lines: int = 4,
) -> ColumnChart:
    """One column per (label, title, total, part) — `part` is drawn as the top of its column, e.g. what
    credit notes took back from a month's invoices. The scale starts at zero and ends on a nice round
    number; negative totals are drawn as empty columns."""
    top, bottom = 8, height - 24
    plot_height = bottom - top
    highest = max((max(total, Decimal(0)) for _l, _t, total, _p in values), default=Decimal(0))
    scale = nice_ceiling(highest)
    slot = (width - left) / max(len(values), 1)
    bar = slot * 0.64
    columns = []
    for index, (label, title, total, part) in enumerate(values):
        total = max(total, Decimal(0))
        part = min(max(part, Decimal(0)), total)
        full = float(total / scale) * plot_height
        piece = float(part / scale) * plot_height
        x = left + index * slot + (slot - bar) / 2
        columns.append(
            Column(
                label=label,
                title=title,
                x=_n(x),
                width=_n(bar),
                y=_n(bottom - full),
                height=_n(full),
                part_y=_n(bottom - full),
                part_height=_n(piece),
                label_x=_n(x + bar / 2),
            )
        )
    grid = [
        GridLine(y=_n(bottom - plot_height * i / grid_lines), value=(scale * i / grid_lines).normalize())
        for i in range(grid_lines + 1)
    ]
    return ColumnChart(
        width=width,
        height=height,
        plot_top=top,
        plot_bottom=bottom,
        plot_left=left,
        columns=columns,
        grid=grid,
        scale=scale,
    )


@dataclass(frozen=True)
class Meter:
    """One horizontal bar: what is left, and within it what expires soon."""

    label: str
    remaining: Decimal
    soon: Decimal
    width: str  # percent of the track
    soon_width: str


def meters(rows: Sequence[tuple[str, Decimal, Decimal]]) -> list[Meter]:
    """Bars for (label, remaining, expiring soon), scaled to the largest remaining amount so balances of
    one person compare at a glance."""
    highest = max((r for _l, r, _s in rows), default=Decimal(0))
    result = []
    for label, remaining, soon in rows:
        share = float(remaining / highest) * 100 if highest > 0 else 0.0
        soon_share = float(min(soon, remaining) / highest) * 100 if highest > 0 else 0.0
        result.append(Meter(label, remaining, soon, _n(share), _n(soon_share)))
    return result
