"""Invoices, plans and subscriptions for the API, web and browser tests of the billing screens."""

from datetime import date
from decimal import Decimal

from lieux.billing.models import Invoice
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from lieux.memberships.models import Plan
from lieux.memberships.services.plans import PriceStepInput, create_plan

D = Decimal


def invoice(
    venue,
    *,
    buyer=None,
    organisation=None,
    amount: str = "100.00",
    description: str = "Abonnement coworking",
    issued: bool = True,
    service: tuple[date, date] = (date(2026, 12, 1), date(2026, 12, 31)),
) -> Invoice:
    """An invoice of one line at 20 % VAT, issued unless told otherwise."""
    draft = create_draft(
        venue=venue,
        buyer_user=buyer,
        buyer_organisation=organisation,
        lines=[DraftLine(description, D(1), D(amount))],
        service_from=service[0],
        service_to=service[1],
    )
    return issue_invoice(draft.pk) if issued else draft


def plan(
    venue,
    *,
    slug: str = "coworking",
    name: str = "Coworking au mois",
    kind: str = "subscription",
    interval: str = "month",
    prices: tuple[tuple[str, str], ...] = (("2020-01-01", "100"),),
    **options,
) -> Plan:
    return create_plan(
        venue=venue,
        actor=None,
        slug=slug,
        name=name,
        kind=kind,
        interval=interval,
        prices=[PriceStepInput(date.fromisoformat(day), D(amount)) for day, amount in prices],
        **options,
    )
