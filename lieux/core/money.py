"""Money arithmetic shared by every app: Decimal euros rounded half-up to the cent, never floats."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal | int | str) -> Decimal:
    """Round to the cent the way French invoices do (half-up, not banker's rounding)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_of(net_amount: Decimal, rate: Decimal) -> Decimal:
    """VAT on a net amount at `rate` percent (20, 10, 5.5…)."""
    return cents(net_amount * rate / 100)


def to_minor_units(amount: Decimal) -> int:
    """Integer cents, for payment providers only."""
    return int(cents(amount) * 100)


def from_minor_units(value: int) -> Decimal:
    return cents(Decimal(value) / 100)
