"""The geometry of the clearing's pictures that `charts` does not draw: balances that go both ways, and the
colour steps of the visit matrix. Pure functions; coordinates leave as strings with a dot, like `charts`."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lieux.web.charts import GridLine, nice_ceiling

HEAT_STEPS = 5


def heat_level(value: int | None, highest: int) -> int:
    """0 for nothing (or hidden), then 1..HEAT_STEPS in proportion to the busiest cell."""
    if not value or highest <= 0:
        return 0
    return max(1, min(HEAT_STEPS, -(-value * HEAT_STEPS // highest)))


def _n(value: float) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class SignedColumn:
    label: str
    title: str
    x: str
    width: str
    y: str
    height: str
    positive: bool
    label_x: str


@dataclass(frozen=True)
class SignedChart:
    width: int
    height: int
    plot_left: int
    zero_y: str
    columns: list[SignedColumn]
    grid: list[GridLine]
    label_y: str

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def signed_column_chart(
    values: Sequence[tuple[str, str, Decimal]], *, width: int = 640, height: int = 220, left: int = 64
) -> SignedChart:
    """One column per (label, title, amount), up from the zero line when positive, down when negative;
    the scale is symmetric and round, so a month received and a month paid compare at a glance."""
    top, bottom = 8, height - 24
    middle = (top + bottom) / 2
    half = (bottom - top) / 2
    scale = nice_ceiling(max((abs(amount) for _l, _t, amount in values), default=Decimal(0)))
    slot = (width - left) / max(len(values), 1)
    bar = slot * 0.64
    columns = []
    for index, (label, title, amount) in enumerate(values):
        size = float(abs(amount) / scale) * half
        x = left + index * slot + (slot - bar) / 2
        columns.append(
            SignedColumn(
                label=label,
                title=title,
                x=_n(x),
                width=_n(bar),
                y=_n(middle - size if amount >= 0 else middle),
                height=_n(size),
                positive=amount >= 0,
                label_x=_n(x + bar / 2),
            )
        )
    grid = [
        GridLine(y=_n(middle - half * step / 2), value=(scale * step / 2).normalize())
        for step in (-2, -1, 0, 1, 2)
    ]
    return SignedChart(
        width=width,
        height=height,
        plot_left=left,
        zero_y=_n(middle),
        columns=columns,
        grid=grid,
        label_y=_n(bottom + 16),
    )
