"""HelloAsso import, replayed from recorded API payloads (tests/fixtures/helloasso): no network."""

import json
import urllib.parse
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lieux.accounts.models import User
from lieux.billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod
from lieux.billing.services.payments import Settlement, balance, record_payment
from lieux.core.errors import ValidationError
from lieux.core.models import AuditEvent
from lieux.memberships.models import (
    HelloAssoOrder,
    PlanKind,
    Subscription,
    SubscriptionInvoice,
    SubscriptionStatus,
)
from lieux.memberships.services import helloasso
from lieux.venues.models import Role, VatStatus, VenueRole
from tests.credits_data import plan

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "helloasso"
FORM = "adhesion-2026-2027"
ORDERS_PATH = f"/v5/organizations/la-coroutine/forms/Membership/{FORM}/orders"
D = Decimal


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Recorded:
    """Answers like the HelloAsso API from recorded payloads, and keeps every call it received."""

    def __init__(self, *, overrides: dict[str, tuple[int, bytes]] | None = None) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.overrides = overrides or {}
        self.tokens_issued = 0

    def __call__(self, method, url, headers, body):
        parsed = urllib.parse.urlparse(url)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        self.calls.append((method, parsed.path, query))
        if parsed.path in self.overrides:
            return self.overrides[parsed.path]
        if parsed.path == "/oauth2/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            assert method == "POST" and headers["Content-Type"] == "application/x-www-form-urlencoded"
            if form != {
                "client_id": "id-test",
                "client_secret": "secret-test",
                "grant_type": "client_credentials",
            }:
                return 400, b'{"error": "unauthorized_client"}'
            self.tokens_issued += 1
            return 200, fixture("token.json")
        token = json.loads(fixture("token.json"))["access_token"]
        if headers.get("Authorization") != f"Bearer {token}":
            return 401, b""
        if parsed.path == ORDERS_PATH:
            page = {None: 1, "MjAyNi0wOS0xNVQxODowMjoxMS4wMjA": 2, "MjAyNi0wOS0zMFQyMzo0MDowNS45MDE": 3}
            return 200, fixture(f"orders-page-{page[query.get('continuationToken')]}.json")
        if parsed.path.startswith("/v5/orders/"):
            return 200, fixture(f"order-{parsed.path.rsplit('/', 1)[1]}.json")
        return 404, b'{"message": "not found"}'

    def reads(self) -> list[str]:
        return [path.rsplit("/", 1)[1] for method, path, _ in self.calls if path.startswith("/v5/orders/")]


def client(transport) -> helloasso.HelloAssoClient:
    return helloasso.HelloAssoClient(
        client_id="id-test", client_secret="secret-test", organization="la-coroutine", transport=transport
    )


@pytest.fixture
def association(venue):
    venue.vat_status = VatStatus.NOT_LIABLE
    venue.save()
    return venue


@pytest.fixture
def membership(association):
    return plan(association, "adhesion", kind=PlanKind.MEMBERSHIP_FEE, interval="year", name="Adhésion")


def run(venue, offer, transport):
    return helloasso.import_form(client=client(transport), venue=venue, plan=offer, form_slug=FORM)


def counts():
    return (
        User.objects.count(),
        Subscription.objects.count(),
        Invoice.objects.count(),
        Payment.objects.count(),
        HelloAssoOrder.objects.count(),
        SubscriptionInvoice.objects.count(),
        VenueRole.objects.count(),
        AuditEvent.objects.count(),
    )


def test_paid_orders_become_a_member_a_membership_an_invoice_and_a_payment(association, membership, member):
    transport = Recorded()
    report = run(association, membership, transport)

    assert report.imported == ["1001", "1003"]
    assert report.skipped == [("1002", "it was refunded")]
    assert transport.reads() == ["1001", "1002", "1003"]  # every order read again before recording

    louise = User.objects.get(email="louise.martin@example.org")
    assert (louise.first_name, louise.last_name) == ("Louise", "Martin")
    assert VenueRole.objects.filter(user=louise, venue=association, role=Role.MEMBER).exists()
    sub = Subscription.objects.get(member=louise)
    assert (sub.plan, sub.status) == (membership, SubscriptionStatus.ACTIVE)
    assert (sub.started_on, sub.current_period_end, sub.ends_on) == (
        date(2026, 9, 14),
        date(2027, 9, 13),
        date(2027, 9, 13),
    )
    assert sub.billing_anchor_on == date(2026, 9, 14)
    assert list(sub.events.values_list("kind", flat=True)) == ["transition", "invoice", "payment"]
    invoice = SubscriptionInvoice.objects.get(subscription=sub).invoice
    assert invoice.status == InvoiceStatus.ISSUED and invoice.source_key == "helloasso:1001"
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (D(20), D(0), D(20))
    assert invoice.vat_regime == "not_liable" and invoice.buyer_user == louise
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.method, payment.external_id, payment.amount) == (PaymentMethod.HELLOASSO, "33001", D(20))
    assert payment.received_on == date(2026, 9, 14)

    # The existing person (e-mail in another case) is reused; the donation in the order is not invoiced.
    assert not User.objects.filter(email="MEMBRE@example.org").exclude(pk=member.pk).exists()
    theirs = Subscription.objects.get(member=member)
    their_invoice = SubscriptionInvoice.objects.get(subscription=theirs).invoice
    assert their_invoice.gross_amount == D(10)
    assert Payment.objects.get(invoice=their_invoice).amount == D(10)
    assert theirs.started_on == date(2026, 9, 30)  # 23:40 in Paris, not the next day in UTC

    record = HelloAssoOrder.objects.get(order_id="1001")
    assert record.subscription == sub and record.form_slug == FORM and record.payload["id"] == 1001
    assert not Subscription.objects.filter(member__email="paul.durand@example.org").exists()
    assert AuditEvent.objects.filter(action="memberships.helloasso.imported").count() == 2


def test_running_the_import_again_changes_nothing(association, membership, member):
    run(association, membership, Recorded())
    before = counts()

    transport = Recorded()
    report = run(association, membership, transport)

    assert counts() == before
    assert report.imported == [] and report.already == ["1001", "1003"]
    assert report.skipped == [("1002", "it was refunded")]
    assert transport.reads() == ["1002"]  # recorded orders are not even read again


def test_payments_go_through_billing_and_settle_the_invoice_once(association, membership, member):
    run(association, membership, Recorded())
    invoice = Invoice.objects.get(source_key="helloasso:1001")
    payment = Payment.objects.get(invoice=invoice)
    assert balance(invoice).state == Settlement.PAID
    assert AuditEvent.objects.filter(action="payment.recorded", object_id=str(payment.pk)).count() == 1

    # The HelloAsso payment id is the payment's identity in billing: no other path records it again.
    again = record_payment(
        invoice,
        amount=D(20),
        method=PaymentMethod.HELLOASSO,
        received_on=date(2026, 9, 14),
        external_id="33001",
    )
    assert again == payment and Payment.objects.filter(invoice=invoice).count() == 1

    before = counts()
    run(association, membership, Recorded())
    assert counts() == before and balance(invoice).state == Settlement.PAID


def test_recording_the_same_order_twice_records_it_once(association, membership):
    order = json.loads(fixture("order-1001.json"))
    assert helloasso.record_order(venue=association, plan=membership, form_slug=FORM, order=order)
    before = counts()
    assert helloasso.record_order(venue=association, plan=membership, form_slug=FORM, order=order) is None
    assert counts() == before


def test_the_listing_is_followed_to_its_last_page_with_one_token(association, membership):
    transport = Recorded()
    run(association, membership, transport)
    listing = [query for method, path, query in transport.calls if path == ORDERS_PATH]
    assert [q.get("continuationToken") for q in listing] == [
        None,
        "MjAyNi0wOS0xNVQxODowMjoxMS4wMjA",
        "MjAyNi0wOS0zMFQyMzo0MDowNS45MDE",
    ]
    assert transport.tokens_issued == 1


def test_an_expired_token_is_renewed_once(association, membership):
    transport = Recorded()
    api = client(transport)
    api.token()
    api._token = "expired"  # as HelloAsso sees a token past its lifetime
    assert api.order("1001")["id"] == 1001
    assert transport.tokens_issued == 2


def test_refused_credentials_and_server_errors_are_clear(association, membership):
    with pytest.raises(helloasso.HelloAssoError) as caught:
        helloasso.HelloAssoClient(
            client_id="id-test", client_secret="wrong", organization="la-coroutine", transport=Recorded()
        ).token()
    assert caught.value.code == "helloasso_auth"
    broken = Recorded(overrides={ORDERS_PATH: (503, b"")})
    with pytest.raises(helloasso.HelloAssoError, match="503"):
        run(association, membership, broken)
    assert not HelloAssoOrder.objects.exists()


def test_only_paid_memberships_of_the_form_are_recorded():
    paid = json.loads(fixture("order-1001.json"))
    assert helloasso.skip_reason(paid, FORM) is None
    pending = json.loads(fixture("order-1001.json"))
    pending["payments"][0]["state"] = "Pending"
    assert helloasso.skip_reason(pending, FORM) == "it is not paid (payment Pending)"
    cancelled = json.loads(fixture("order-1001.json"))
    cancelled["items"][0]["state"] = "Canceled"
    assert helloasso.skip_reason(cancelled, FORM) == "the membership was cancelled"
    assert helloasso.skip_reason(paid, "autre-formulaire") == f"it belongs to another form ({FORM})"
    anonymous = json.loads(fixture("order-1001.json"))
    anonymous["payer"]["email"] = ""
    assert helloasso.skip_reason(anonymous, FORM) == "the payer has no e-mail address"
    partly = json.loads(fixture("order-1001.json"))
    partly["amount"]["total"] = 4000
    assert helloasso.skip_reason(partly, FORM) == "it is not fully paid yet"


def test_a_venue_liable_to_vat_invoices_the_paid_amount_vat_included(venue):
    offer = plan(venue, "adhesion", kind=PlanKind.MEMBERSHIP_FEE, interval="year")
    run(venue, offer, Recorded())
    invoice = Invoice.objects.get(source_key="helloasso:1001")
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (D("16.67"), D("3.33"), D(20))
    assert helloasso.net_for_gross(D("10.00"), D("5.5")) + D("0.52") == D("10.00")


def test_only_a_membership_fee_plan_of_the_venue_is_accepted(association, other_venue):
    coworking = plan(association, "coworking")
    with pytest.raises(ValidationError):
        run(association, coworking, Recorded())
    elsewhere = plan(other_venue, "adhesion", kind=PlanKind.MEMBERSHIP_FEE, interval="year")
    with pytest.raises(ValidationError):
        run(association, elsewhere, Recorded())


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("HELLOASSO_CLIENT_ID", "id-test")
    monkeypatch.setenv("HELLOASSO_CLIENT_SECRET", "secret-test")
    monkeypatch.setenv("HELLOASSO_ORGANIZATION", "la-coroutine")
    monkeypatch.setattr(helloasso, "default_transport", Recorded())


def test_the_command_prints_its_progress_and_a_summary(credentials, association, membership):
    out = StringIO()
    call_command(
        "helloasso_import", "--venue", "la-coroutine", "--form", FORM, "--plan", "adhesion", stdout=out
    )
    text = out.getvalue()
    assert "order 1001: imported (louise.martin@example.org)" in text
    assert "order 1002: skipped, it was refunded" in text
    assert "2 imported, 0 already imported, 1 skipped" in text
    again = StringIO()
    call_command(
        "helloasso_import", "--venue", "la-coroutine", "--form", FORM, "--plan", "adhesion", stdout=again
    )
    assert "0 imported, 2 already imported, 1 skipped" in again.getvalue()


def test_the_command_names_what_is_missing(credentials, association, membership, monkeypatch):
    with pytest.raises(CommandError, match="nowhere"):
        call_command("helloasso_import", "--venue", "nowhere", "--form", FORM, "--plan", "adhesion")
    with pytest.raises(CommandError, match="'cotisation'"):
        call_command("helloasso_import", "--venue", "la-coroutine", "--form", FORM, "--plan", "cotisation")
    monkeypatch.delenv("HELLOASSO_CLIENT_SECRET")
    with pytest.raises(CommandError, match="HELLOASSO_CLIENT_SECRET"):
        call_command("helloasso_import", "--venue", "la-coroutine", "--form", FORM, "--plan", "adhesion")
