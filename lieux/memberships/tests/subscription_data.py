"""Builders and a clock for the subscription and billing-run tests."""

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Count

from lieux.billing.models import Invoice
from lieux.memberships.models import Plan, SubscriptionInvoice
from lieux.memberships.services.plans import CreditGrantInput, PriceStepInput, create_plan
from tests.factories import PARIS

D = Decimal


def make_plan(
    venue,
    *,
    slug: str = "coworking",
    name: str = "Coworking au mois",
    kind: str = "subscription",
    interval: str = "month",
    prices: Iterable[tuple[str, str] | tuple[str, str, str]] = (("2020-01-01", "100"),),
    vat_rate: str = "20",
    credit_grants: Iterable[CreditGrantInput] = (),
    **options: Any,
) -> Plan:
    steps = [
        PriceStepInput(date.fromisoformat(p[0]), D(p[1]), p[2] if len(p) > 2 else "")  # type: ignore[misc]
        for p in prices
    ]
    return create_plan(
        venue=venue,
        actor=None,
        slug=slug,
        name=name,
        kind=kind,
        interval=interval,
        prices=steps,
        vat_rate=D(vat_rate),
        credit_grants=list(credit_grants),
        **options,
    )


class Clock:
    """The memberships services' clock, set to noon (Paris) of a chosen day."""

    MODULES = (
        "lieux.memberships.services.invoicing",
        "lieux.memberships.services.subscriptions",
        "lieux.memberships.services.billing_run",
    )

    def __init__(self, monkeypatch) -> None:
        self.instant = datetime.combine(date(2027, 1, 15), time(12)).replace(tzinfo=PARIS)
        for module in self.MODULES:
            monkeypatch.setattr(f"{module}.now", lambda: self.instant)

    def set(self, day: date | str) -> date:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        self.instant = datetime.combine(day, time(12)).replace(tzinfo=PARIS)
        return day

    @property
    def today(self) -> date:
        return self.instant.date()


def d(text: str) -> date:
    return date.fromisoformat(text)


def sequences(venue, kind: str = "invoice") -> list[int]:
    issued = Invoice.objects.filter(venue=venue, kind=kind, status="issued")
    return sorted(int(n) for n in issued.values_list("sequence", flat=True) if n is not None)


def assert_gapless(venue, kind: str = "invoice") -> int:
    numbers = sequences(venue, kind)
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    return len(numbers)


def assert_one_invoice_per_period() -> None:
    duplicates = (
        SubscriptionInvoice.objects.values("subscription_id", "period_start")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(duplicates) == []
    keys = Invoice.objects.exclude(source_key=None).values("venue_id", "source_key").annotate(n=Count("id"))
    assert [k for k in keys if k["n"] > 1] == []
