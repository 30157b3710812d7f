"""Load what the demo venues sell (`offers.py`) and a few months of their billing. Idempotent like the rest
of the demo: plans, credit types and subscriptions are found by their natural keys, payments by a demo
reference, so a second run adds only what is missing.

Everything goes through the platform's services — plans, subscriptions, the billing run, payments and
credit notes — so the demo invoices are numbered, chained and checked like real ones.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation, User
from lieux.billing.models import BillingProfile, DocumentKind, Invoice, InvoiceStatus, PaymentMethod
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.payments import balance, record_payment
from lieux.core.errors import DomainError
from lieux.demo import offers
from lieux.memberships.models import CreditRate, CreditType, Plan, Subscription
from lieux.memberships.services.billing_run import run_billing
from lieux.memberships.services.credits import local_today
from lieux.memberships.services.plans import CreditGrantInput, PriceStepInput, create_plan
from lieux.memberships.services.subscriptions import subscribe
from lieux.venues.models import Resource, Role, Venue, VenueRole

# The demo's unpaid invoices: these people pay late, so reminders and the past-due screens have data.
LATE_PAYERS = {"aurore@demo.lieux-communs.org"}
DEMO_REFERENCE = "DEMO"


@dataclass
class OffersReport:
    plans: int = 0
    subscriptions: int = 0
    invoices: int = 0
    payments: int = 0
    skipped: int = 0


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _manager(venue: Venue) -> User:
    role = VenueRole.objects.filter(venue=venue, role=Role.MANAGER).select_related("user").first()
    if role is None:
        raise RuntimeError(f"the demo venue {venue.slug} has no manager")
    return role.user


def ensure_billing_profile(venue: Venue, spec: offers.BillingSpec) -> None:
    BillingProfile.objects.update_or_create(
        venue=venue,
        defaults={
            "invoice_prefix": spec.prefix,
            "iban": spec.iban,
            "bic": spec.bic,
            "sepa_creditor_id": spec.creditor_id,
            "rcs_city": spec.rcs_city,
            "share_capital": spec.share_capital,
        },
    )


def ensure_credit_types(venue: Venue, specs: tuple[offers.CreditSpec, ...]) -> dict[str, CreditType]:
    types = {}
    for spec in specs:
        credit_type, _created = CreditType.objects.get_or_create(
            venue=venue, code=spec.code, defaults={"name": spec.name}
        )
        for slug, per_hour in spec.rates:
            resource = Resource.objects.get(venue=venue, slug=slug)
            CreditRate.objects.get_or_create(
                credit_type=credit_type, resource=resource, defaults={"credits_per_hour": Decimal(per_hour)}
            )
        types[spec.code] = credit_type
    return types


def ensure_plan(
    venue: Venue, spec: offers.PlanSpec, types: dict[str, CreditType], *, first_month: date, actor: User
) -> bool:
    if Plan.objects.filter(venue=venue, slug=spec.slug).exists():
        return False
    create_plan(
        venue=venue,
        actor=actor,
        slug=spec.slug,
        name=spec.name,
        kind=spec.kind,
        interval=spec.interval,
        prices=[
            PriceStepInput(months_before(first_month, -months), Decimal(amount), label)
            for months, amount, label in spec.prices
        ],
        vat_rate=Decimal(spec.vat_rate),
        credit_grants=[
            CreditGrantInput(types[code], Decimal(quantity), rollover, carry_months)
            for code, quantity, rollover, carry_months in spec.credits
        ],
        description=spec.description,
        commitment_months=spec.commitment_months,
        notice_days=spec.notice_days,
        proration=spec.proration,
        desk_mode=spec.desk_mode,
        trial_days=spec.trial_days,
        pack_days=spec.pack_days,
        validity_days=spec.validity_days,
        members_only=spec.members_only,
    )
    return True


def ensure_subscription(spec: offers.SubscriptionSpec, venues: dict[str, Venue]) -> bool:
    venue = venues[spec.venue]
    plan = Plan.objects.get(venue=venue, slug=spec.plan)
    member = User.objects.get(email=spec.person)
    if Subscription.objects.filter(plan=plan, member=member).exists():
        return False
    subscribe(
        plan=plan,
        member=member,
        payer_organisation=Organisation.objects.get(name=spec.organisation) if spec.organisation else None,
        starts_on=months_before(local_today(venue), spec.months_ago),
        desk=Resource.objects.get(venue=venue, slug=spec.desk) if spec.desk else None,
        actor=_manager(venue),
    )
    return True


def settle(venue: Venue, report: OffersReport) -> None:
    """Pay the demo invoices, alternating transfer and SEPA debit, except the late payers'; and credit one
    invoice so the demo shows a credit note (avoir)."""
    manager = _manager(venue)
    invoices = (
        Invoice.objects.filter(venue=venue, kind=DocumentKind.INVOICE, status=InvoiceStatus.ISSUED)
        # Invoices between venues of the network are paid on the network's own rhythm (load_interlieux).
        .exclude(source_key__startswith="clearing:")
        .order_by("sequence")
    )
    for position, invoice in enumerate(invoices):
        if (invoice.buyer.get("email") or "") in LATE_PAYERS:
            continue
        due = balance(invoice).due
        if due <= 0:
            continue
        record_payment(
            invoice,
            amount=due,
            method=PaymentMethod.TRANSFER if position % 2 else PaymentMethod.SEPA_DEBIT,
            received_on=invoice.issued_on or local_today(venue),
            reference=f"{DEMO_REFERENCE} {invoice.number}",
            external_id=f"{DEMO_REFERENCE}-{invoice.number}",
            recorded_by=manager,
        )
        report.payments += 1
    first = invoices.first()
    if first is not None and not first.credit_notes.exists():
        issue_credit_note(
            first,
            reason=_("Demo: the first month offered after a heating breakdown"),
            actor=manager,
            source_key=f"{DEMO_REFERENCE}-credit-{first.number}",
        )


def load_offers(venues: dict[str, Venue], stdout: TextIO | None = None) -> OffersReport:
    report = OffersReport()
    for slug, venue in venues.items():
        first_month = months_before(local_today(venue), 12)
        with transaction.atomic():
            ensure_billing_profile(venue, offers.BILLING[slug])
            types = ensure_credit_types(venue, offers.CREDITS[slug])
            report.plans += sum(
                ensure_plan(venue, spec, types, first_month=first_month, actor=_manager(venue))
                for spec in offers.PLANS[slug]
            )
    for spec in offers.SUBSCRIPTIONS:
        try:
            report.subscriptions += ensure_subscription(spec, venues)
        except DomainError as error:  # a desk taken meanwhile, a plan withdrawn: skipped, never fatal
            report.skipped += 1
            if stdout is not None:
                stdout.write(f"  {spec.person} / {spec.plan}: {error.message}\n")
    for venue in venues.values():
        run = run_billing(period=local_today(venue).replace(day=1), venue=venue, progress=None)
        report.invoices += run.invoices
        settle(venue, report)
    if stdout is not None:
        stdout.write(
            _(
                "Offers: %(plans)s new plans, %(subscriptions)s new subscriptions, %(invoices)s invoices "
                "from the billing run, %(payments)s payments recorded."
            )
            % vars(report)
            + "\n"
        )
    return report
