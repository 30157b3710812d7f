"""The plans, subscriptions and credits API: what each person may read and do, and bad input refused with
nothing written."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lieux.billing.models import Invoice
from lieux.core.models import AuditEvent
from lieux.memberships.models import CreditEntry, CreditLot, Plan, PlanPrice, Subscription
from lieux.memberships.services.subscriptions import subscribe
from tests.api.conftest import assert_error, client_for
from tests.credits_data import credit_type
from tests.factories import UserFactory, add_role, organisation
from tests.invoice_data import plan

pytestmark = pytest.mark.django_db


def written() -> tuple[int, int, int, int, int]:
    """What a refused request must leave untouched."""
    return (
        Plan.objects.count(),
        PlanPrice.objects.count(),
        Subscription.objects.count(),
        Invoice.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def coworking(venue):
    return plan(venue, slug="coworking", name="Coworking au mois", prices=(("2020-01-01", "150"),))


@pytest.fixture
def withdrawn(venue):
    return plan(venue, slug="ancien", name="Ancienne formule", is_active=False)


@pytest.fixture
def baraka_plan(other_venue):
    return plan(other_venue, slug="resident", name="Résident Baraka", prices=(("2020-01-01", "90"),))


def plan_body(**changes):
    body = {
        "venue": "la-coroutine",
        "slug": "solidaire",
        "name": "Coworking solidaire",
        "kind": "subscription",
        "interval": "month",
        "vat_rate": "20",
        "prices": [
            {"starts_on": "2020-01-01", "net_amount": "80.00", "label": "Tarif solidaire"},
            {"starts_on": "2099-01-01", "net_amount": "120.00"},
        ],
        "notice_days": 30,
        "proration": "by_day",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


# --- Plans -----------------------------------------------------------------------------------------------


def test_members_see_plans_on_sale_with_their_price_steps(as_member, coworking, withdrawn, baraka_plan):
    response = as_member.get("/plans")
    assert response.status_code == 200
    by_slug = {p["slug"]: p for p in response.json()}
    assert set(by_slug) == {"coworking", "resident"}
    assert by_slug["coworking"]["price_today"] == "150.00"
    assert by_slug["coworking"]["prices"] == [
        {"starts_on": "2020-01-01", "net_amount": "150.00", "label": ""}
    ]
    assert by_slug["coworking"]["vat_rate"] == "20.00"


def test_a_venues_team_also_sees_its_withdrawn_plans_and_no_one_elses(
    as_manager, as_other_manager, coworking, withdrawn, baraka_plan, other_venue
):
    plan(other_venue, slug="cache", is_active=False)
    mine = {p["slug"] for p in as_manager.get("/plans").json()}
    assert mine == {"coworking", "ancien", "resident"}
    theirs = {p["slug"] for p in as_other_manager.get("/plans").json()}
    assert theirs == {"coworking", "resident", "cache"}
    assert_error(as_other_manager.get(f"/plans/{withdrawn.pk}"), 404, "unknown_plan")
    assert as_manager.get(f"/plans/{withdrawn.pk}").json()["is_active"] is False


def test_plans_filter_by_venue_and_kind(as_member, coworking, baraka_plan, venue):
    plan(venue, slug="adhesion", name="Adhésion", kind="membership_fee", interval="year")
    assert [p["slug"] for p in as_member.get("/plans", {"venue": "baraka"}).json()] == ["resident"]
    assert [p["slug"] for p in as_member.get("/plans", {"kind": "membership_fee"}).json()] == ["adhesion"]
    assert_error(as_member.get("/plans", {"kind": "gift"}), 422, "invalid_request")
    assert_error(as_member.get("/plans", {"venue": "nowhere"}), 404, "unknown_venue")


def test_a_manager_creates_a_plan_with_price_steps(as_manager, venue):
    response = as_manager.post("/plans", plan_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["venue"] == "la-coroutine" and body["slug"] == "solidaire"
    assert [(p["starts_on"], p["net_amount"]) for p in body["prices"]] == [
        ("2020-01-01", "80.00"),
        ("2099-01-01", "120.00"),
    ]
    assert body["price_today"] == "80.00"
    assert body["proration"] == "by_day" and body["notice_days"] == 30
    assert AuditEvent.objects.filter(action="memberships.plan.created").count() == 1


def test_a_plan_grants_credits_of_the_venues_credit_types(as_manager, venue):
    credit_type(venue, "salle", "Heures de salle")
    body = plan_body(credit_grants=[{"credit_type": "salle", "quantity": "10", "rollover": "reset"}])
    response = as_manager.post("/plans", body)
    assert response.status_code == 201, response.content
    assert response.json()["credit_grants"] == [
        {
            "credit_type": "salle",
            "name": "Heures de salle",
            "quantity": "10.00",
            "rollover": "reset",
            "carry_months": 0,
        }
    ]


def test_a_member_cannot_create_a_plan(as_member, venue):
    before = written()
    assert_error(as_member.post("/plans", plan_body()), 403, "not_venue_staff")
    assert written() == before


def test_a_manager_cannot_create_a_plan_for_another_venue(as_other_manager, venue):
    before = written()
    assert_error(as_other_manager.post("/plans", plan_body()), 403, "not_venue_staff")
    assert written() == before


BAD_PLANS = [
    pytest.param(plan_body(vat_rate="19"), 422, "invalid_vat_rate", id="not-a-french-rate"),
    pytest.param(plan_body(interval="once"), 422, "invalid_interval", id="subscription-sold-once"),
    pytest.param(plan_body(kind="pack", interval="once"), 422, "pack_days_required", id="pack-without-days"),
    pytest.param(plan_body(prices=[]), 422, "invalid_request", id="no-price"),
    pytest.param(
        plan_body(
            prices=[
                {"starts_on": "2020-01-01", "net_amount": "1"},
                {"starts_on": "2020-01-01", "net_amount": "2"},
            ]
        ),
        422,
        "duplicate_price_step",
        id="two-prices-one-day",
    ),
    pytest.param(
        plan_body(prices=[{"starts_on": "2020-01-01", "net_amount": "-1"}]),
        422,
        "invalid_request",
        id="negative",
    ),
    pytest.param(
        plan_body(prices=[{"starts_on": "2020-01-01", "net_amount": "1.234"}]),
        422,
        "invalid_request",
        id="fraction-of-a-cent",
    ),
    pytest.param(
        plan_body(prices=[{"starts_on": "20200101", "net_amount": "1"}]),
        422,
        "invalid_request",
        id="bad-date",
    ),
    pytest.param(plan_body(kind="gift"), 422, "invalid_request", id="unknown-kind"),
    pytest.param(plan_body(slug="with space"), 422, "invalid_request", id="bad-slug"),
    pytest.param(plan_body(name=""), 422, "invalid_request", id="no-name"),
    pytest.param(plan_body(name="a\x00b"), 422, "invalid_request", id="nul"),
    pytest.param(plan_body(trial_days=-1), 422, "invalid_request", id="negative-trial"),
    pytest.param(plan_body(colour="red"), 422, "invalid_request", id="unknown-field"),
    pytest.param(
        plan_body(credit_grants=[{"credit_type": "nope", "quantity": "1"}]),
        422,
        "unknown_credit_type",
        id="unknown-credit-type",
    ),
    pytest.param(plan_body(venue="nowhere"), 404, "unknown_venue", id="unknown-venue"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_PLANS)
def test_bad_plans_are_refused_and_write_nothing(as_manager, venue, body, status, code):
    before = written()
    assert_error(as_manager.post("/plans", body), status, code)
    assert written() == before


def test_a_taken_slug_is_refused(as_manager, coworking):
    before = written()
    assert_error(as_manager.post("/plans", plan_body(slug="coworking")), 422, "slug_taken")
    assert written() == before


# --- Subscriptions ---------------------------------------------------------------------------------------


def test_a_member_subscribes_and_the_first_period_is_invoiced(as_member, member, coworking):
    response = as_member.post("/subscriptions", {"plan": coworking.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["member"]["email"] == member.email
    assert body["plan"] == {"id": coworking.pk, "slug": "coworking", "name": "Coworking au mois"}
    [document] = body["documents"]
    assert document["kind"] == "invoice" and document["status"] == "issued"
    assert document["gross_amount"] == "180.00"
    assert [e["kind"] for e in body["events"]][:1] == ["transition"]
    # The invoice is the member's to read.
    assert as_member.get(f"/invoices/{document['id']}").status_code == 200


def test_an_organisation_pays_for_its_member(as_member, member, coworking):
    coop = organisation("Coop", member)
    response = as_member.post("/subscriptions", {"plan": coworking.pk, "payer_organisation": coop.pk})
    assert response.status_code == 201, response.content
    assert response.json()["payer_organisation"] == {"id": coop.pk, "name": "Coop"}
    invoice = Invoice.objects.get(pk=response.json()["documents"][0]["id"])
    assert invoice.buyer_organisation_id == coop.pk


def test_a_manager_subscribes_someone_by_email(as_manager, member, coworking):
    response = as_manager.post("/subscriptions", {"plan": coworking.pk, "member": member.email.upper()})
    assert response.status_code == 201, response.content
    assert response.json()["member"]["email"] == member.email


def test_a_member_may_not_subscribe_someone_else_nor_learn_whether_they_exist(
    as_member, other_member, coworking
):
    before = written()
    for email in (other_member.email, "nobody@example.org"):
        response = as_member.post("/subscriptions", {"plan": coworking.pk, "member": email})
        assert_error(response, 403, "not_your_subscription")
    assert written() == before


def test_subscribing_twice_is_a_conflict(as_member, coworking):
    assert as_member.post("/subscriptions", {"plan": coworking.pk}).status_code == 201
    before = written()
    assert_error(as_member.post("/subscriptions", {"plan": coworking.pk}), 409, "already_subscribed")
    assert written() == before


BAD_SUBSCRIPTIONS = [
    pytest.param({}, 422, "invalid_request", id="no-plan"),
    pytest.param({"plan": 0}, 422, "invalid_request", id="plan-zero"),
    pytest.param({"plan": "coworking"}, 422, "invalid_request", id="plan-by-slug"),
    pytest.param({"plan": 999999}, 404, "unknown_plan", id="unknown-plan"),
    pytest.param({"plan": "WITHDRAWN"}, 404, "unknown_plan", id="withdrawn-plan"),
    pytest.param({"plan": "PLAN", "member": "not-an-email"}, 422, "invalid_request", id="bad-email"),
    pytest.param({"plan": "PLAN", "starts_on": "2020-01-01"}, 422, "start_in_past", id="start-in-past"),
    pytest.param({"plan": "PLAN", "starts_on": "01/12/2026"}, 422, "invalid_request", id="bad-date"),
    pytest.param(
        {"plan": "PLAN", "payer_organisation": 999999}, 404, "unknown_organisation", id="unknown-org"
    ),
    pytest.param({"plan": "PLAN", "desk": "la-coroutine/salle-ada"}, 422, "desk_not_included", id="desk"),
    pytest.param({"plan": "PLAN", "desk": "nowhere"}, 422, "invalid_request", id="bad-desk-ref"),
    pytest.param({"plan": "PLAN", "extra": True}, 422, "invalid_request", id="unknown-field"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_SUBSCRIPTIONS)
def test_bad_subscriptions_are_refused_and_write_nothing(
    as_member, coworking, withdrawn, room, body, status, code
):
    body = {k: {"PLAN": coworking.pk, "WITHDRAWN": withdrawn.pk}.get(v, v) for k, v in body.items()}
    before = written()
    assert_error(as_member.post("/subscriptions", body), status, code)
    assert written() == before


def test_someone_elses_organisation_does_not_pay(as_member, other_member, coworking):
    coop = organisation("Autre coop", other_member)
    before = written()
    response = as_member.post("/subscriptions", {"plan": coworking.pk, "payer_organisation": coop.pk})
    assert_error(response, 422, "not_in_organisation")
    assert written() == before


@pytest.fixture
def subscriptions(member, other_member, coworking, baraka_plan):
    coop = organisation("Coop", member, other_member)
    return {
        "mine": subscribe(plan=coworking, member=member, actor=member),
        "theirs": subscribe(plan=coworking, member=other_member, actor=other_member),
        "paid_by_coop": subscribe(
            plan=baraka_plan, member=other_member, payer_organisation=coop, actor=other_member
        ),
    }


SUBSCRIPTION_TENANCY = [
    ("member", "mine", 200),
    ("member", "theirs", 404),
    ("member", "paid_by_coop", 200),  # the organisation the member belongs to pays for it
    ("other_member", "mine", 404),
    ("manager", "mine", 200),
    ("manager", "paid_by_coop", 404),  # another venue's
    ("other_manager", "mine", 404),
    ("other_manager", "paid_by_coop", 200),
    ("stranger", "mine", 404),
]


@pytest.mark.parametrize(("who", "which", "status"), SUBSCRIPTION_TENANCY)
def test_who_reads_which_subscription(who, which, status, subscriptions, request):
    client = client_for(request.getfixturevalue(who))
    response = client.get(f"/subscriptions/{subscriptions[which].pk}")
    if status == 404:
        assert_error(response, 404, "unknown_subscription")
    else:
        assert response.status_code == 200
        assert response.json()["id"] == subscriptions[which].pk


def test_lists_of_subscriptions_mine_and_the_venues(as_member, as_manager, as_other_manager, subscriptions):
    s = subscriptions

    def ids(response):
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(as_member.get("/subscriptions")) == {s["mine"].pk, s["paid_by_coop"].pk}
    assert ids(as_manager.get("/subscriptions", {"venue": "la-coroutine"})) == {s["mine"].pk, s["theirs"].pk}
    assert ids(as_manager.get("/subscriptions", {"venue": "la-coroutine", "status": "ended"})) == set()
    assert_error(as_other_manager.get("/subscriptions", {"venue": "la-coroutine"}), 404, "unknown_venue")
    assert_error(as_member.get("/subscriptions", {"venue": "la-coroutine"}), 404, "unknown_venue")


# --- Credits ---------------------------------------------------------------------------------------------


def grant(person, venue, quantity="10", code="salle", source="test:1", expires_in=20):
    kind = credit_type(venue, code, "Heures de salle")
    today = date.today()
    lot = CreditLot.objects.create(
        venue=venue,
        person=person,
        credit_type=kind,
        granted=Decimal(quantity),
        remaining=Decimal(quantity),
        granted_on=today,
        expires_on=today + timedelta(days=expires_in),
        source_key=source,
    )
    CreditEntry.objects.create(lot=lot, kind="grant", quantity=Decimal(quantity), reference=source)
    return lot


@pytest.fixture
def credits(member, venue, other_venue):
    return [grant(member, venue, "10", source="a"), grant(member, other_venue, "4", code="jour", source="b")]


def test_a_member_reads_their_balances_and_ledger(as_member, credits, member):
    body = as_member.get("/credits").json()
    assert body["person"]["email"] == member.email
    assert {(b["venue"], b["credit_type"]["code"], b["remaining"]) for b in body["balances"]} == {
        ("la-coroutine", "salle", "10.00"),
        ("baraka", "jour", "4.00"),
    }
    assert all(b["expiring_soon"] == b["remaining"] for b in body["balances"])  # within 30 days
    assert body["ledger"]["count"] == 2
    assert {e["kind"] for e in body["ledger"]["results"]} == {"grant"}
    assert as_member.get("/credits", {"person": member.email}).json()["balances"] == body["balances"]


def test_a_manager_reads_a_persons_credits_at_their_venue_only(as_manager, as_other_manager, credits, member):
    body = as_manager.get("/credits", {"person": member.email}).json()
    assert [(b["venue"], b["remaining"]) for b in body["balances"]] == [("la-coroutine", "10.00")]
    assert [e["venue"] for e in body["ledger"]["results"]] == ["la-coroutine"]
    other = as_other_manager.get("/credits", {"person": member.email}).json()
    assert [(b["venue"], b["remaining"]) for b in other["balances"]] == [("baraka", "4.00")]


def test_credits_of_others_are_404_for_members_and_for_teams_who_do_not_know_them(
    as_member, as_other_manager, credits, other_member, stranger
):
    assert_error(as_member.get("/credits", {"person": other_member.email}), 404, "unknown_person")
    assert_error(as_other_manager.get("/credits", {"person": stranger.email}), 404, "unknown_person")
    assert_error(as_other_manager.get("/credits", {"person": "nobody@example.org"}), 404, "unknown_person")
    # The venue filter cannot widen a team's view to a venue they do not run.
    response = as_other_manager.get("/credits", {"person": other_member.email, "venue": "la-coroutine"})
    assert_error(response, 404, "unknown_person")


def test_a_team_member_reads_credits_of_a_person_of_their_venue_without_credits(venue, other_member):
    staff = UserFactory(email="accueil@example.org")
    add_role(staff, venue, "staff")
    body = client_for(staff).get("/credits", {"person": other_member.email}).json()
    assert body["balances"] == [] and body["ledger"]["count"] == 0


@pytest.mark.parametrize("params", [{"person": "not an email"}, {"limit": 0}, {"venue": "a/b"}])
def test_bad_credit_queries_are_422(as_member, params):
    assert_error(as_member.get("/credits", params), 422, "invalid_request")


@pytest.mark.parametrize("path", ["/plans", "/subscriptions", "/subscriptions/1", "/credits", "/plans/1"])
def test_memberships_need_a_token(anonymous, path):
    assert_error(anonymous.get(path), 401, "unauthenticated")
