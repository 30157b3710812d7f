"""Memberships paid on HelloAsso, imported through its API v5 so that the member, the membership and the
payment appear here once.

The client speaks OAuth2 client credentials and lists a form's orders page by page (continuation token).
Each listed order is read again by id before anything is recorded: the listing may be stale (an order
refunded since), and HelloAsso signs nothing, so only a fresh read is trusted. Each order is recorded in one
transaction (person, subscription, invoice, payment, HelloAssoOrder); the HelloAssoOrder row, unique per
venue and order id, makes a second import of the same order a no-op.

HTTP goes through a `transport` callable (urllib from the standard library by default), so tests replay
recorded JSON payloads without a network.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.billing import rules as billing_rules
from lieux.billing.models import Invoice, Payment, PaymentMethod
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from lieux.billing.services.payments import record_payment
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import DomainError, ValidationError
from lieux.core.money import ZERO, cents, from_minor_units, vat_of
from lieux.core.time import now
from lieux.memberships.models import (
    HelloAssoOrder,
    Plan,
    PlanKind,
    Subscription,
    SubscriptionInvoice,
)
from lieux.memberships.rules import periods, states
from lieux.memberships.services import invoicing
from lieux.venues.models import Role, Venue, VenueRole

API_URL = "https://api.helloasso.com"
TOKEN_PATH = "/oauth2/token"
PAGE_SIZE = 100
TIMEOUT_SECONDS = 30
# A payment in this state has been paid and kept; every other state (Refunded, Refunding, Canceled,
# Contested, Refused, Pending, Waiting…) means the money is not, or no longer, ours.
PAID = "Authorized"
MEMBERSHIP_ITEM = "Membership"
LIVE_ITEM_STATES = {"Processed", "Registered"}

Transport = Callable[[str, str, Mapping[str, str], bytes | None], tuple[int, bytes]]


class HelloAssoError(DomainError):
    """HelloAsso refused a call or could not be reached."""

    status = 502
    code = "helloasso_error"


def urllib_transport(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None
) -> tuple[int, bytes]:
    """One HTTP exchange with the standard library; returns (status, body) for any HTTP answer."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, TimeoutError) as error:
        raise HelloAssoError(_("HelloAsso cannot be reached: %(error)s") % {"error": error}) from error


# The transport new clients use unless told otherwise (tests replace it with recorded payloads).
default_transport: Transport = urllib_transport


class HelloAssoClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        organization: str,
        transport: Transport | None = None,
        base_url: str = API_URL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.organization = organization
        self.transport = transport or default_transport
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self._token: str | None = None
        self._token_expires = 0.0

    def _call(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> tuple[int, Any]:
        status, raw = self.transport(method, url, headers, body)
        try:
            payload = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        return status, payload

    def token(self) -> str:
        """A bearer token from the client-credentials grant, kept until a minute before it expires."""
        if self._token and self.clock() < self._token_expires:
            return self._token
        body = urllib.parse.urlencode(
            {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "client_credentials",
            }
        ).encode()
        status, payload = self._call(
            "POST",
            self.base_url + TOKEN_PATH,
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            body,
        )
        if status != 200 or not isinstance(payload, dict) or not payload.get("access_token"):
            raise HelloAssoError(
                _("HelloAsso refused the credentials (HTTP %(status)s); check the client id and secret.")
                % {"status": status},
                code="helloasso_auth",
            )
        self._token = str(payload["access_token"])
        self._token_expires = self.clock() + max(int(payload.get("expires_in", 0)) - 60, 0)
        return self._token

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET /v5{path}; a token refused mid-way is renewed once."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"{self.base_url}/v5{path}{query}"
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            status, payload = self._call("GET", url, headers, None)
            if status == 401 and attempt == 0:
                self._token = None
                continue
            if status == 200 and payload is not None:
                return payload
            raise HelloAssoError(
                _("HelloAsso answered HTTP %(status)s to %(path)s.") % {"status": status, "path": path},
                http_status=status,
            )
        raise AssertionError("unreachable")

    def form_orders(self, form_type: str, form_slug: str, *, page_size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every order of a form, oldest pages first. HelloAsso returns a continuation token even with the
        last page, so the listing ends on an empty page or a token that does not move."""
        path = (
            f"/organizations/{urllib.parse.quote(self.organization)}/forms/"
            f"{urllib.parse.quote(form_type)}/{urllib.parse.quote(form_slug)}/orders"
        )
        token: str | None = None
        while True:
            params: dict[str, Any] = {"pageSize": page_size, "withDetails": "true"}
            if token:
                params["continuationToken"] = token
            page = self.get(path, params)
            orders = page.get("data") or []
            yield from orders
            following = (page.get("pagination") or {}).get("continuationToken")
            if not orders or not following or following == token:
                return
            token = following

    def order(self, order_id: str) -> dict:
        return self.get(f"/orders/{urllib.parse.quote(str(order_id))}")


# Reading an order (pure: no ORM, no I/O)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def membership_items(order: Mapping[str, Any]) -> list[dict]:
    return [item for item in order.get("items") or [] if item.get("type") == MEMBERSHIP_ITEM]


def skip_reason(order: Mapping[str, Any], form_slug: str) -> str | None:
    """Why an order (as just re-read) must not be recorded, or None when it is a paid membership."""
    if order.get("formSlug") != form_slug:
        return _("it belongs to another form (%(form)s)") % {"form": order.get("formSlug")}
    if not ((order.get("payer") or {}).get("email") or "").strip():
        return _("the payer has no e-mail address")
    items = membership_items(order)
    if not items:
        return _("it holds no membership")
    if any(item.get("state") not in LIVE_ITEM_STATES for item in items):
        return _("the membership was cancelled")
    payments = order.get("payments") or []
    if not payments:
        return _("it has not been paid")
    refunded = [
        p for p in payments if p.get("state") in {"Refunded", "Refunding"} or p.get("refundOperations")
    ]
    if refunded:
        return _("it was refunded")
    unpaid = [p.get("state") for p in payments if p.get("state") != PAID]
    if unpaid:
        return _("it is not paid (payment %(state)s)") % {"state": ", ".join(str(s) for s in unpaid)}
    total = int((order.get("amount") or {}).get("total") or 0)
    if sum(int(p.get("amount") or 0) for p in payments) < total:
        return _("it is not fully paid yet")
    return None


def membership_share(payment: Mapping[str, Any], item_ids: set[int]) -> int:
    """Cents of `payment` that pay for the membership items (a donation in the same order is not ours to
    invoice); the whole payment when HelloAsso gives no split."""
    shares = payment.get("items")
    if not shares:
        return int(payment.get("amount") or 0)
    return sum(int(share.get("shareAmount") or 0) for share in shares if share.get("id") in item_ids)


def net_for_gross(gross: Decimal, vat_rate: Decimal) -> Decimal:
    """The net price whose invoice total (net + VAT rounded to the cent) is exactly `gross`, or the
    closest one below when no cent gives it."""
    net = cents(gross * 100 / (100 + vat_rate))
    for candidate in (net, net - Decimal("0.01"), net + Decimal("0.01")):
        if candidate + vat_of(candidate, vat_rate) == gross:
            return candidate
    return net


# Recording an order


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


Progress = Callable[[str, str, str], None]


def _person(payer: Mapping[str, Any]) -> tuple[User, bool]:
    email = payer["email"].strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing, False
    person = User.objects.create_user(
        email,
        first_name=(payer.get("firstName") or "")[:150],
        last_name=(payer.get("lastName") or "")[:150],
    )
    return person, True


def _membership_period(plan: Plan, start: date) -> periods.Period:
    if plan.interval in periods.RECURRING:
        return periods.nth_period(start, plan.interval, 0)
    return periods.once_period(start, plan.validity_days)


def _subscription(
    *, venue: Venue, plan: Plan, person: User, period: periods.Period, order_id: str
) -> Subscription:
    """The membership the order paid for, written the way the subscription service writes one (anchor,
    event log, audit row, hooks, credits) but not through `subscribe`: HelloAsso sold it at the price the
    member chose on the form (a solidarity tier, a free price), and a new HelloAsso order, not the billing
    run, renews it. So it is active for its first period and ends with it (`ends_on`), which the billing
    run honours by ending it instead of invoicing a next period."""
    subscription = Subscription.objects.create(
        venue=venue,
        plan=plan,
        member=person,
        status=states.ACTIVE,
        started_on=period.start,
        current_period_start=period.start,
        current_period_end=period.end,
        billing_anchor_on=period.start,
        ends_on=period.end,
    )
    invoicing.log_event(
        subscription, "transition", to_status=states.ACTIVE, plan=plan.pk, source="helloasso", order=order_id
    )
    audit.record(
        "memberships.subscription.started",
        subscription,
        venue_id=venue.pk,
        plan=plan.pk,
        member=person.pk,
        status=states.ACTIVE,
        starts_on=period.start.isoformat(),
        source="helloasso",
    )
    invoicing.run_started_hooks(subscription)
    invoicing.grant_credits(subscription=subscription, period=period)
    return subscription


def _invoice(
    *, venue: Venue, plan: Plan, person: User, period: periods.Period, items: list[dict], order_id: str
) -> Invoice | None:
    """The issued invoice of the membership items; None when they cost nothing (no 0 € invoice)."""
    regime = billing_rules.vat_regime(venue.vat_status, sold_to_member=True)
    lines = []
    for item in items:
        gross = from_minor_units(int(item.get("amount") or 0))
        if gross <= 0:
            continue
        net = net_for_gross(gross, plan.vat_rate) if regime.charges_vat else gross
        name = item.get("name") or plan.name
        lines.append(
            DraftLine(
                description=f"{plan.name} — {name}"[:300] if name != plan.name else plan.name,
                quantity=Decimal(1),
                unit_net_amount=net,
                vat_rate=plan.vat_rate,
                service_from=period.start,
                service_to=period.end,
            )
        )
    if not lines:
        return None
    draft = create_draft(
        venue=venue,
        lines=lines,
        service_from=period.start,
        service_to=period.end,
        buyer_user=person,
        sold_to_member=True,
        source_key=f"helloasso:{order_id}",
    )
    return issue_invoice(draft.pk)


def record_order(
    *, venue: Venue, plan: Plan, form_slug: str, order: Mapping[str, Any]
) -> HelloAssoOrder | None:
    """Record one paid membership order in one transaction; None when it was recorded before (by an
    earlier or a concurrent import)."""
    order_id = str(order["id"])

    def write() -> HelloAssoOrder | None:
        if HelloAssoOrder.objects.filter(venue=venue, order_id=order_id).exists():
            return None
        ordered_at = _when(order.get("date")) or now()
        start = ordered_at.astimezone(venue.tz).date()
        period = _membership_period(plan, start)
        person, created = _person(order["payer"])
        VenueRole.objects.get_or_create(user=person, venue=venue, role=Role.MEMBER)
        items = membership_items(order)
        subscription = _subscription(venue=venue, plan=plan, person=person, period=period, order_id=order_id)
        invoice = _invoice(
            venue=venue, plan=plan, person=person, period=period, items=items, order_id=order_id
        )
        payments: list[Payment] = []
        if invoice is not None:
            SubscriptionInvoice.objects.create(
                subscription=subscription, period_start=period.start, period_end=period.end, invoice=invoice
            )
            item_ids = {int(item["id"]) for item in items if item.get("id") is not None}
            for paid in order.get("payments") or []:
                amount = from_minor_units(membership_share(paid, item_ids))
                if amount <= ZERO:
                    continue
                paid_at = _when(paid.get("date")) or ordered_at
                # Through billing's own service (audit row included): the HelloAsso payment id is the
                # external id, so a payment already known is found, never recorded a second time.
                payments.append(
                    record_payment(
                        invoice,
                        amount=amount,
                        method=PaymentMethod.HELLOASSO,
                        received_on=paid_at.astimezone(venue.tz).date(),
                        reference=f"HelloAsso {order_id}",
                        external_id=str(paid["id"]),
                    )
                )
            invoicing.log_document(subscription, invoice, plan=plan.pk, source="helloasso")
            for payment in payments:
                invoicing.log_event(
                    subscription,
                    "payment",
                    invoice=invoice.pk,
                    number=invoice.number,
                    amount=str(payment.amount),
                    method=payment.method,
                )
        try:
            with transaction.atomic():
                record = HelloAssoOrder.objects.create(
                    venue=venue,
                    order_id=order_id,
                    form_slug=form_slug,
                    subscription=subscription,
                    payload=order,
                )
        except IntegrityError:
            # Another import recorded it meanwhile: undo everything written for it here.
            raise _AlreadyRecorded() from None
        audit.record(
            "memberships.helloasso.imported",
            record,
            venue_id=venue.pk,
            order=order_id,
            person=person.pk,
            person_created=created,
            subscription=subscription.pk,
            invoice=invoice.pk if invoice else None,
            payments=[p.pk for p in payments],
        )
        return record

    try:
        return atomic_with_retry(write)
    except _AlreadyRecorded:
        return None


class _AlreadyRecorded(Exception):
    pass


def import_form(
    *,
    client: HelloAssoClient,
    venue: Venue,
    plan: Plan,
    form_slug: str,
    form_type: str = "Membership",
    progress: Progress | None = None,
) -> ImportReport:
    """Import every paid membership order of a HelloAsso form into `plan`. Re-running it records nothing
    new for orders already recorded (they are not even read again)."""
    if plan.venue_id != venue.pk:
        raise ValidationError(_("This plan belongs to another venue."), code="plan_other_venue")
    if plan.kind != PlanKind.MEMBERSHIP_FEE:
        raise ValidationError(
            _("HelloAsso memberships are imported into a membership-fee plan."),
            code="plan_not_membership_fee",
        )
    report = ImportReport()
    tell = progress or (lambda order_id, outcome, detail: None)
    known = set(HelloAssoOrder.objects.filter(venue=venue).values_list("order_id", flat=True))
    for listed in client.form_orders(form_type, form_slug):
        order_id = str(listed.get("id"))
        if order_id in known:
            report.already.append(order_id)
            tell(order_id, "already", "")
            continue
        order = client.order(order_id)
        reason = skip_reason(order, form_slug)
        if reason:
            report.skipped.append((order_id, reason))
            tell(order_id, "skipped", reason)
            continue
        record = record_order(venue=venue, plan=plan, form_slug=form_slug, order=order)
        known.add(order_id)
        if record is None:
            report.already.append(order_id)
            tell(order_id, "already", "")
        else:
            report.imported.append(order_id)
            tell(order_id, "imported", record.subscription.member.email)
    return report


def client_from_env(environ: Mapping[str, str], *, transport: Transport | None = None) -> HelloAssoClient:
    """A client from HELLOASSO_CLIENT_ID, HELLOASSO_CLIENT_SECRET and HELLOASSO_ORGANIZATION."""
    names = ("HELLOASSO_CLIENT_ID", "HELLOASSO_CLIENT_SECRET", "HELLOASSO_ORGANIZATION")
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise ValidationError(
            _("Missing HelloAsso settings: %(names)s.") % {"names": ", ".join(missing)},
            code="helloasso_config",
        )
    return HelloAssoClient(
        client_id=environ["HELLOASSO_CLIENT_ID"],
        client_secret=environ["HELLOASSO_CLIENT_SECRET"],
        organization=environ["HELLOASSO_ORGANIZATION"],
        transport=transport,
        base_url=environ.get("HELLOASSO_API_URL", API_URL),
    )
