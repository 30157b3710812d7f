"""Payments through the API: an invoice's balance and settlement, a payment recorded by a venue's team, and
the payments each caller may list — a manager only their venue's, a member only their own."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lieux.billing.models import Payment
from lieux.billing.services.payments import record_payment
from lieux.core.models import AuditEvent
from lieux.core.time import now
from tests.api.conftest import assert_error, client_for
from tests.factories import organisation
from tests.invoice_data import invoice

pytestmark = pytest.mark.django_db

D = Decimal


def writes() -> tuple[int, int]:
    """What a refused request must leave untouched: payments and audit rows."""
    return Payment.objects.count(), AuditEvent.objects.count()


def today() -> date:
    return now().date()


@pytest.fixture
def bill(venue, member):
    return invoice(venue, buyer=member, amount="100.00")  # 120.00 incl. VAT


def body(**overrides) -> dict:
    return {"amount": "40.00", "method": "transfer", "received_on": today().isoformat(), **overrides}


# --- The balance on an invoice ---------------------------------------------------------------------------


def test_an_invoice_says_what_is_due_and_where_it_stands(as_member, bill):
    detail = as_member.get(f"/invoices/{bill.pk}").json()
    assert (detail["paid_amount"], detail["balance_due"], detail["settlement"]) == (
        "0.00",
        "120.00",
        "unpaid",
    )
    record_payment(bill, amount=D("120"), method="cheque", received_on=today())
    detail = as_member.get(f"/invoices/{bill.pk}").json()
    assert (detail["paid_amount"], detail["balance_due"], detail["settlement"]) == ("120.00", "0.00", "paid")


def test_a_draft_and_a_credit_note_have_no_settlement(as_manager, venue, member, bill):
    draft = invoice(venue, buyer=member, issued=False)
    detail = as_manager.get(f"/invoices/{draft.pk}").json()
    assert (detail["balance_due"], detail["settlement"]) == (None, None)
    note = as_manager.post(f"/invoices/{bill.pk}/credit-note", {"reason": "Erreur"}).json()
    assert note["settlement"] is None
    assert as_manager.get(f"/invoices/{bill.pk}").json()["settlement"] == "paid"  # credited in full


# --- Recording a payment ---------------------------------------------------------------------------------


def test_a_manager_records_a_partial_payment(as_manager, manager, bill):
    response = as_manager.post(f"/invoices/{bill.pk}/payments", body(reference="VIR 2026-11"))
    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["amount"], answer["method"], answer["reference"]) == ("40.00", "transfer", "VIR 2026-11")
    assert (answer["balance_due"], answer["settlement"]) == ("80.00", "partial")
    assert answer["invoice"]["id"] == bill.pk and answer["venue"] == "la-coroutine"
    payment = Payment.objects.get(pk=answer["id"])
    assert payment.recorded_by == manager
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1


def test_the_same_external_id_records_once(as_manager, bill):
    first = as_manager.post(f"/invoices/{bill.pk}/payments", body(external_id="releve-42"))
    again = as_manager.post(f"/invoices/{bill.pk}/payments", body(external_id="releve-42"))
    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.count() == 1


BAD = [
    (body(amount="0"), 422, "invalid_request"),
    (body(amount="-5.00"), 422, "invalid_request"),
    (body(amount="1.005"), 422, "invalid_request"),
    (body(amount="NaN"), 422, "invalid_request"),
    (body(amount="abc"), 422, "invalid_request"),
    (body(method="bitcoin"), 422, "invalid_request"),
    (body(received_on="2026-02-30"), 422, "invalid_request"),
    (body(received_on=20261201), 422, "invalid_request"),
    (body(received_on=(date.today() + timedelta(days=2)).isoformat()), 422, "received_in_future"),
    (body(reference="x" * 141), 422, "invalid_request"),
    (body(reference="nul\x00"), 422, "invalid_request"),
    (body(surprise=True), 422, "invalid_request"),
    ({"method": "cash"}, 422, "invalid_request"),
]


@pytest.mark.parametrize(("payload", "status", "code"), BAD)
def test_bad_input_is_a_4xx_and_writes_nothing(as_manager, bill, payload, status, code):
    before = writes()
    assert_error(as_manager.post(f"/invoices/{bill.pk}/payments", payload), status, code)
    assert writes() == before


def test_malformed_json_writes_nothing(as_manager, bill):
    before = writes()
    assert_error(as_manager.post(f"/invoices/{bill.pk}/payments", raw="{amount: 4"), 400, "malformed_json")
    assert writes() == before


def test_a_draft_takes_no_payment(as_manager, venue, member):
    draft = invoice(venue, buyer=member, issued=False)
    before = writes()
    assert_error(as_manager.post(f"/invoices/{draft.pk}/payments", body()), 409, "not_issued")
    assert writes() == before


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("member", 403, "not_venue_staff"),  # the buyer reads the invoice but may not pay it by hand
        ("other_member", 404, "unknown_invoice"),
        ("other_manager", 404, "unknown_invoice"),
        ("stranger", 404, "unknown_invoice"),
    ],
)
def test_only_the_venues_team_records_payments(request, bill, who, status, code):
    client = client_for(request.getfixturevalue(who))
    before = writes()
    assert_error(client.post(f"/invoices/{bill.pk}/payments", body()), status, code)
    assert writes() == before


def test_without_a_token_nothing_is_recorded(anonymous, bill):
    before = writes()
    assert_error(anonymous.post(f"/invoices/{bill.pk}/payments", body()), 401, "unauthenticated")
    assert writes() == before


# --- Listing payments ------------------------------------------------------------------------------------


@pytest.fixture
def world(venue, other_venue, member, other_member):
    coop = organisation("Coop des Communs", member)
    this_month = today()
    last_month = this_month.replace(day=1) - timedelta(days=1)

    def paid(bill, amount, on=this_month):
        return record_payment(bill, amount=D(amount), method="cheque", received_on=on)

    return {
        "mine": paid(invoice(venue, buyer=member), "10"),
        "coop": paid(invoice(venue, organisation=coop), "20"),
        "theirs": paid(invoice(venue, buyer=other_member), "30"),
        "old": paid(invoice(venue, buyer=other_member), "40", on=last_month),
        "elsewhere_mine": paid(invoice(other_venue, buyer=member), "50"),
        "elsewhere": paid(invoice(other_venue, buyer=other_member), "60"),
        "month": this_month,
        "last_month": last_month,
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_manager_lists_their_venues_payments_and_their_own(as_manager, world):
    w = world
    assert ids(as_manager.get("/payments")) == {w[k].pk for k in ("mine", "coop", "theirs", "old")}


def test_a_manager_of_another_venue_sees_none_of_this_venues_payments(as_other_manager, world):
    w = world
    assert ids(as_other_manager.get("/payments")) == {w["elsewhere_mine"].pk, w["elsewhere"].pk}
    assert ids(as_other_manager.get("/payments", {"venue": "la-coroutine"})) == set()


def test_a_member_lists_only_their_own_and_their_organisations(as_member, as_other_member, world):
    w = world
    assert ids(as_member.get("/payments")) == {w["mine"].pk, w["coop"].pk, w["elsewhere_mine"].pk}
    assert ids(as_member.get("/payments", {"venue": "baraka"})) == {w["elsewhere_mine"].pk}
    assert ids(as_other_member.get("/payments")) == {w["theirs"].pk, w["old"].pk, w["elsewhere"].pk}


def test_payments_are_filtered_by_month(as_manager, world):
    w = world
    assert ids(as_manager.get("/payments", {"month": f"{w['last_month']:%Y-%m}"})) == {w["old"].pk}
    assert ids(as_manager.get("/payments", {"month": "2001-01"})) == set()


def test_a_payment_in_the_list(as_member, world):
    row = as_member.get("/payments", {"venue": "baraka"}).json()["results"][0]
    assert (row["amount"], row["method"], row["venue"], row["reverses"]) == (
        "50.00",
        "cheque",
        "baraka",
        None,
    )
    assert row["invoice"]["number"] == world["elsewhere_mine"].invoice.number


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"month": "2026-13"}, 422, "invalid_request"),
        ({"month": "12/2026"}, 422, "invalid_request"),
        ({"venue": "nowhere"}, 404, "unknown_venue"),
        ({"limit": 0}, 422, "invalid_request"),
    ],
)
def test_bad_filters_are_refused(as_manager, world, params, status, code):
    assert_error(as_manager.get("/payments", params), status, code)


def test_listing_payments_needs_a_token(anonymous):
    assert_error(anonymous.get("/payments"), 401, "unauthenticated")
