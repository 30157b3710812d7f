"""Pages about plans, subscriptions and credits: a member's portal and a venue team's screens — they
render, show refused input next to the form with nothing written, and show nobody else's data."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lieux.billing.models import Invoice
from lieux.memberships.models import CreditEntry, CreditLot, Plan, PlanPrice, Subscription
from lieux.memberships.services.subscriptions import subscribe
from tests.credits_data import credit_type
from tests.factories import UserFactory, add_role, organisation
from tests.invoice_data import plan
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def coworking(venue):
    return plan(
        venue, slug="coworking", name="Coworking au mois", prices=(("2020-01-01", "150"),), proration="by_day"
    )


@pytest.fixture
def nomade(venue):
    return plan(venue, slug="nomade", name="Nomade", prices=(("2020-01-01", "60"),), proration="by_day")


@pytest.fixture
def mine(member, coworking):
    return subscribe(plan=coworking, member=member, actor=member)


def written() -> tuple[int, int, int, int]:
    return (
        Plan.objects.count(),
        PlanPrice.objects.count(),
        Subscription.objects.count(),
        Invoice.objects.count(),
    )


def page(response) -> str:
    return response.content.decode()


# --- Public plans and subscribing ------------------------------------------------------------------------


def test_the_venue_lists_its_plans_on_sale(client, venue, coworking):
    plan(venue, slug="retire", name="Formule retirée", is_active=False)
    response = client.get(reverse("web:venue_plans", args=["la-coroutine"]))
    assert response.status_code == 200
    assert "Coworking au mois" in page(response)
    assert "Formule retirée" not in page(response)
    assert "150.00\xa0€" in page(response)


def test_the_subscription_page_shows_the_first_invoice_before_anything_is_written(as_member, coworking):
    before = written()
    response = as_member.get(reverse("web:subscribe_plan", args=[coworking.pk]))
    assert response.status_code == 200
    quote = response.context["quote"]
    assert quote.first_invoice.gross_amount == Decimal("180.00")
    assert "180.00\xa0€" in page(response)
    assert written() == before


def test_a_member_subscribes(as_member, member, coworking):
    response = as_member.post(reverse("web:subscribe_plan", args=[coworking.pk]), {"starts_on": ""})
    subscription = Subscription.objects.get(member=member)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:my_subscription", args=[subscription.pk])
    assert Invoice.objects.filter(buyer_user=member, status="issued").count() == 1


def test_subscribing_twice_shows_the_refusal_and_writes_nothing(as_member, mine, coworking):
    before = written()
    response = as_member.post(reverse("web:subscribe_plan", args=[coworking.pk]), {"starts_on": ""})
    assert response.status_code == 409
    assert "Already subscribed to this plan." in page(response)
    assert written() == before


def test_a_start_in_the_past_is_refused_next_to_the_date(as_member, coworking):
    before = written()
    response = as_member.post(reverse("web:subscribe_plan", args=[coworking.pk]), {"starts_on": "2020-01-01"})
    assert response.status_code == 422
    assert response.context["form"].errors["starts_on"] == ["A subscription cannot start in the past."]
    assert written() == before


def test_a_plan_not_on_sale_cannot_be_subscribed(as_member, venue):
    withdrawn = plan(venue, slug="retire", is_active=False)
    assert as_member.get(reverse("web:subscribe_plan", args=[withdrawn.pk])).status_code == 404


def test_subscribing_needs_an_account(client, coworking):
    response = client.get(reverse("web:subscribe_plan", args=[coworking.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


# --- My subscription -------------------------------------------------------------------------------------


def test_my_subscription_lists_mine_and_not_the_neighbours(as_member, mine, other_member, nomade):
    subscribe(plan=nomade, member=other_member, actor=other_member)
    response = as_member.get(reverse("web:my_subscriptions"))
    assert response.status_code == 200
    assert [row["subscription"].pk for row in response.context["live"]] == [mine.pk]
    assert "Coworking au mois" in page(response) and "Nomade" not in page(response)


def test_the_navigation_leads_to_the_member_portal(as_member):
    assert reverse("web:my_subscriptions") in page(as_member.get("/"))


def test_a_subscription_in_detail_with_its_invoice_and_history(as_member, mine):
    response = as_member.get(reverse("web:my_subscription", args=[mine.pk]))
    assert response.status_code == 200
    [document] = response.context["detail"].documents
    assert document.number in page(response)
    assert reverse("web:invoice_pdf", args=[document.pk]) in page(response)
    assert "Subscribed (Active)" in page(response)


def test_someone_elses_subscription_is_a_404(mine, other_member):
    client = client_for(other_member)
    for name in ("web:my_subscription", "web:change_plan", "web:cancel_subscription"):
        assert client.get(reverse(name, args=[mine.pk])).status_code == 404


def test_a_colleague_of_the_paying_organisation_sees_it(member, other_member, coworking):
    coop = organisation("Coop", member, other_member)
    paid = subscribe(plan=coworking, member=other_member, payer_organisation=coop, actor=other_member)
    assert client_for(member).get(reverse("web:my_subscription", args=[paid.pk])).status_code == 200


# --- Changing plan, with the amounts shown before confirming ---------------------------------------------


def test_the_plan_change_page_offers_the_venues_other_plans(as_member, mine, nomade, other_venue):
    plan(other_venue, slug="ailleurs", name="Ailleurs")
    response = as_member.get(reverse("web:change_plan", args=[mine.pk]))
    assert response.status_code == 200
    assert [p.pk for p in response.context["plans"]] == [nomade.pk]


def test_choosing_a_plan_shows_the_quote_and_changes_nothing(as_member, mine, nomade):
    before = written()
    response = as_member.post(reverse("web:change_plan", args=[mine.pk]), {"plan": nomade.pk, "when": "now"})
    assert response.status_code == 200
    quote = response.context["quote"]
    assert quote.to_plan_id == nomade.pk and quote.when == "now"
    assert quote.next_period_amounts.gross_amount == Decimal("72.00")
    assert "Confirm the change" in page(response)
    assert written() == before
    assert Subscription.objects.get(pk=mine.pk).plan_id == mine.plan_id


def test_confirming_the_quote_changes_the_plan(as_member, mine, nomade):
    url = reverse("web:change_plan", args=[mine.pk])
    quote = as_member.post(url, {"plan": nomade.pk, "when": "now"}).context["quote"]
    response = as_member.post(
        url,
        {
            "plan": nomade.pk,
            "when": "now",
            "seen_credit": str(quote.credit.gross_amount),
            "seen_charge": str(quote.charge.gross_amount),
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    assert Subscription.objects.get(pk=mine.pk).plan_id == nomade.pk


def test_a_confirmation_with_other_amounts_than_the_quote_changes_nothing(as_member, mine, nomade):
    before = written()
    response = as_member.post(
        reverse("web:change_plan", args=[mine.pk]),
        {"plan": nomade.pk, "when": "now", "seen_credit": "0.01", "seen_charge": "999.00", "confirm": "1"},
    )
    assert response.status_code == 200
    assert "The amounts changed since: look at them again." in page(response)
    assert Subscription.objects.get(pk=mine.pk).plan_id != nomade.pk
    assert written() == before


def test_a_plan_change_at_period_end_is_planned(as_member, mine, nomade):
    url = reverse("web:change_plan", args=[mine.pk])
    as_member.post(url, {"plan": nomade.pk, "when": "period_end"})
    response = as_member.post(
        url,
        {
            "plan": nomade.pk,
            "when": "period_end",
            "seen_credit": "0.00",
            "seen_charge": "0.00",
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    assert Subscription.objects.get(pk=mine.pk).next_plan_id == nomade.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"when": "now"}, "plan"),
        ({"plan": "999999", "when": "now"}, "plan"),
        ({"plan": "PLAN", "when": "soon"}, "when"),
    ],
)
def test_a_plan_change_form_with_bad_input_shows_the_errors(as_member, mine, nomade, data, field):
    data = {k: (nomade.pk if v == "PLAN" else v) for k, v in data.items()}
    before = written()
    response = as_member.post(reverse("web:change_plan", args=[mine.pk]), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert 'class="errorlist' in page(response)
    assert written() == before


# --- Giving notice ---------------------------------------------------------------------------------------


def test_cancelling_shows_when_it_would_end_then_gives_notice(as_member, mine):
    url = reverse("web:cancel_subscription", args=[mine.pk])
    response = as_member.get(url)
    assert response.status_code == 200
    end = response.context["earliest_end"]
    assert end == mine.current_period_end
    response = as_member.post(url, {"reason": "Je déménage"})
    assert response.status_code == 302
    refreshed = Subscription.objects.get(pk=mine.pk)
    assert (refreshed.status, refreshed.ends_on) == ("cancelling", end)


def test_a_cancellation_inside_the_commitment_is_refused_with_the_earliest_date(as_member, member, venue):
    engaged = plan(venue, slug="engage", name="Engagé 12 mois", commitment_months=12)
    subscription = subscribe(plan=engaged, member=member, actor=member)
    response = as_member.post(reverse("web:cancel_subscription", args=[subscription.pk]), {"reason": ""})
    assert response.status_code == 409
    assert "The commitment runs until" in page(response)
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_notice_can_be_taken_back(as_member, mine):
    as_member.post(reverse("web:cancel_subscription", args=[mine.pk]), {"reason": ""})
    response = as_member.post(reverse("web:undo_cancel", args=[mine.pk]))
    assert response.status_code == 302
    refreshed = Subscription.objects.get(pk=mine.pk)
    assert (refreshed.status, refreshed.ends_on) == ("active", None)


def test_taking_back_needs_a_post(as_member, mine):
    assert as_member.get(reverse("web:undo_cancel", args=[mine.pk])).status_code == 405


# --- Credits ---------------------------------------------------------------------------------------------


def lot(person, venue, quantity, *, code="salle", source="t:1", expires_in=60):
    kind = credit_type(venue, code, f"Crédits {code}")
    today = date.today()
    made = CreditLot.objects.create(
        venue=venue,
        person=person,
        credit_type=kind,
        granted=Decimal(quantity),
        remaining=Decimal(quantity),
        granted_on=today,
        expires_on=today + timedelta(days=expires_in),
        source_key=source,
    )
    CreditEntry.objects.create(
        lot=made, kind="grant", quantity=Decimal(quantity), reference=source, note="Offert"
    )
    return made


def test_my_credits_show_balances_as_bars_and_the_ledger(as_member, member, venue, other_member):
    lot(member, venue, "10", code="salle", source="a")
    lot(member, venue, "5", code="jour", source="b", expires_in=10)
    lot(other_member, venue, "99", code="salle", source="c")
    response = as_member.get(reverse("web:my_credits"))
    assert response.status_code == 200
    widths = {balance.credit_type.code: meter.width for balance, meter in response.context["rows"]}
    assert widths == {"salle": "100.00", "jour": "50.00"}
    soon = {balance.credit_type.code: meter.soon_width for balance, meter in response.context["rows"]}
    assert soon == {"salle": "0.00", "jour": "50.00"}
    assert len(response.context["ledger"].object_list) == 2
    assert "99" not in [str(e.quantity) for e in response.context["ledger"].object_list]


def test_credits_need_an_account(client):
    assert client.get(reverse("web:my_credits")).status_code == 302


# --- A venue's plans -------------------------------------------------------------------------------------


PLAN_FORM = {
    "name": "Coworking solidaire",
    "slug": "solidaire",
    "description": "",
    "kind": "subscription",
    "interval": "month",
    "vat_rate": "20",
    "proration": "by_day",
    "trial_days": "0",
    "commitment_months": "0",
    "notice_days": "30",
    "desk_mode": "none",
    "pack_days": "",
    "validity_days": "",
    "is_active": "on",
    "prices-TOTAL_FORMS": "3",
    "prices-INITIAL_FORMS": "0",
    "prices-MIN_NUM_FORMS": "0",
    "prices-MAX_NUM_FORMS": "50",
    "prices-0-starts_on": "2020-01-01",
    "prices-0-net_amount": "80",
    "prices-0-label": "Tarif solidaire",
    "prices-1-starts_on": "2099-01-01",
    "prices-1-net_amount": "120",
    "prices-1-label": "",
    "prices-2-starts_on": "",
    "prices-2-net_amount": "",
    "prices-2-label": "",
    "grants-TOTAL_FORMS": "1",
    "grants-INITIAL_FORMS": "0",
    "grants-MIN_NUM_FORMS": "0",
    "grants-MAX_NUM_FORMS": "20",
    # An untouched extra row, as a browser posts it.
    "grants-0-credit_type": "",
    "grants-0-quantity": "",
    "grants-0-rollover": "reset",
    "grants-0-carry_months": "0",
}


def test_the_plans_page_lists_the_venues_plans_with_todays_price(as_manager, coworking, venue, mine):
    plan(venue, slug="retire", name="Formule retirée", is_active=False)
    response = as_manager.get(reverse("web:manage_plans", args=["la-coroutine"]))
    assert response.status_code == 200
    rows = {
        p.slug: (price.net_amount if price else None, p.live_count)
        for p, price, _up in response.context["rows"]
    }
    assert rows == {"coworking": (Decimal("150.00"), 1), "retire": (Decimal("100.00"), 0)}


def test_a_manager_creates_a_plan_with_price_steps(as_manager, venue):
    response = as_manager.post(reverse("web:manage_plan_new", args=["la-coroutine"]), PLAN_FORM)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    created = Plan.objects.get(venue=venue, slug="solidaire")
    assert [(p.starts_on, p.net_amount, p.label) for p in created.prices.order_by("starts_on")] == [
        (date(2020, 1, 1), Decimal("80.00"), "Tarif solidaire"),
        (date(2099, 1, 1), Decimal("120.00"), ""),
    ]
    assert (created.notice_days, created.proration) == (30, "by_day")


def test_a_plan_grants_credits_from_the_form(as_manager, venue):
    kind = credit_type(venue, "salle", "Heures de salle")
    data = {
        **PLAN_FORM,
        "grants-0-credit_type": kind.pk,
        "grants-0-quantity": "10",
        "grants-0-rollover": "reset",
    }
    assert as_manager.post(reverse("web:manage_plan_new", args=["la-coroutine"]), data).status_code == 302
    grant = Plan.objects.get(slug="solidaire").credit_grants.get()
    assert (grant.credit_type_id, grant.quantity) == (kind.pk, Decimal("10.00"))


@pytest.mark.parametrize(
    ("changes", "status", "where", "message"),
    [
        (
            {
                "prices-0-starts_on": "",
                "prices-0-net_amount": "",
                "prices-0-label": "",
                "prices-1-starts_on": "",
                "prices-1-net_amount": "",
            },
            422,
            None,
            "A plan needs at least one price.",
        ),
        ({"prices-0-net_amount": "-5"}, 422, "prices", None),
        ({"vat_rate": "19.6"}, 422, "vat_rate", None),
        ({"interval": "once"}, 422, "interval", "A membership or a subscription renews monthly or yearly."),
        (
            {"kind": "pack", "interval": "once"},
            422,
            "pack_days",
            "A pack needs its number of days and its validity.",
        ),
        ({"slug": "pas un slug"}, 422, "slug", None),
        ({"prices-1-starts_on": "2020-01-01"}, 422, None, "Two prices start on the same day."),
        ({"name": ""}, 422, "name", None),
    ],
)
def test_a_plan_form_with_bad_input_shows_errors_and_writes_nothing(
    as_manager, venue, changes, status, where, message
):
    before = written()
    response = as_manager.post(
        reverse("web:manage_plan_new", args=["la-coroutine"]), {**PLAN_FORM, **changes}
    )
    assert response.status_code == status
    form, prices = response.context["form"], response.context["prices"]
    if where == "prices":
        assert any(f.errors for f in prices.forms)
    elif where is not None:
        assert where in form.errors
    if message is not None:
        assert message in page(response)
    assert 'role="alert"' in page(response)
    assert written() == before


def test_a_taken_short_name_is_refused(as_manager, coworking):
    before = written()
    response = as_manager.post(
        reverse("web:manage_plan_new", args=["la-coroutine"]), {**PLAN_FORM, "slug": "coworking"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["slug"] == ["Another plan of this venue has this short name."]
    assert written() == before


def test_a_manager_edits_a_plan_and_adds_a_price_step(as_manager, coworking):
    url = reverse("web:manage_plan", args=["la-coroutine", coworking.pk])
    form = as_manager.get(url).context["form"]
    assert form.initial["name"] == "Coworking au mois" and form.initial["vat_rate"] == "20"
    data = {
        **PLAN_FORM,
        "name": "Coworking mensuel",
        "slug": "coworking",
        "proration": "by_day",
        "notice_days": "0",
        "prices-0-starts_on": "2020-01-01",
        "prices-0-net_amount": "150",
        "prices-0-label": "",
        "prices-1-starts_on": "2099-06-01",
        "prices-1-net_amount": "170",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 302
    coworking.refresh_from_db()
    assert coworking.name == "Coworking mensuel"
    assert [str(p.net_amount) for p in coworking.prices.order_by("starts_on")] == ["150.00", "170.00"]


def test_a_price_in_force_cannot_be_rewritten(as_manager, coworking):
    url = reverse("web:manage_plan", args=["la-coroutine", coworking.pk])
    data = {
        **PLAN_FORM,
        "slug": "coworking",
        "prices-0-net_amount": "1",
        "prices-1-starts_on": "",
        "prices-1-net_amount": "",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 422
    assert "is already in force" in page(response)
    assert [str(p.net_amount) for p in coworking.prices.all()] == ["150.00"]


@pytest.mark.parametrize("who", ["member", "other_manager"])
def test_plans_of_a_venue_are_only_for_its_team(who, request, coworking):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("web:manage_plans", args=["la-coroutine"])).status_code == 404
    assert client.get(reverse("web:manage_plan", args=["la-coroutine", coworking.pk])).status_code == 404
    before = written()
    assert client.post(reverse("web:manage_plan_new", args=["la-coroutine"]), PLAN_FORM).status_code == 404
    assert written() == before


def test_another_venues_plan_is_a_404_for_a_manager(as_manager, other_venue):
    theirs = plan(other_venue, slug="leur")
    assert as_manager.get(reverse("web:manage_plan", args=["la-coroutine", theirs.pk])).status_code == 404


# --- A venue's subscriptions -----------------------------------------------------------------------------


def test_the_subscriptions_list_filters_by_status(as_manager, mine, other_member, nomade):
    other = subscribe(plan=nomade, member=other_member, actor=other_member)
    url = reverse("web:manage_subscriptions", args=["la-coroutine"])
    response = as_manager.get(url)
    assert {s.pk for s in response.context["page"]} == {mine.pk, other.pk}
    as_manager.post(
        reverse("web:manage_subscription_action", args=["la-coroutine", other.pk]),
        {"action": "pause", "reason": ""},
    )
    assert [s.pk for s in as_manager.get(url, {"status": "paused"}).context["page"]] == [other.pk]
    assert dict((v, n) for v, _label, n in as_manager.get(url).context["counts"])["paused"] == 1


@pytest.mark.parametrize(
    ("action", "status"), [("pause", "paused"), ("cancel", "cancelling"), ("end_now", "ended")]
)
def test_a_manager_acts_on_a_subscription(as_manager, mine, action, status):
    response = as_manager.post(
        reverse("web:manage_subscription_action", args=["la-coroutine", mine.pk]),
        {"action": action, "reason": "x"},
    )
    assert response.status_code == 302
    assert Subscription.objects.get(pk=mine.pk).status == status


def test_a_refused_action_shows_why(as_manager, mine):
    url = reverse("web:manage_subscription_action", args=["la-coroutine", mine.pk])
    response = as_manager.post(url, {"action": "resume", "reason": ""})
    assert response.status_code == 409
    assert 'role="alert"' in page(response)
    assert Subscription.objects.get(pk=mine.pk).status == "active"
    assert as_manager.post(url, {"action": "explode"}).status_code == 422


def test_the_subscription_page_of_the_team_shows_actions_and_history(as_manager, mine):
    response = as_manager.get(reverse("web:manage_subscription", args=["la-coroutine", mine.pk]))
    assert response.status_code == 200
    assert response.context["actions"] == ["pause", "cancel", "end_now"]
    assert "Subscribed (Active)" in page(response)


@pytest.mark.parametrize("who", ["member", "other_manager"])
def test_a_venues_subscriptions_are_only_for_its_team(who, request, mine):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("web:manage_subscriptions", args=["la-coroutine"])).status_code == 404
    assert client.get(reverse("web:manage_subscription", args=["la-coroutine", mine.pk])).status_code == 404
    response = client.post(
        reverse("web:manage_subscription_action", args=["la-coroutine", mine.pk]), {"action": "end_now"}
    )
    assert response.status_code == 404
    assert Subscription.objects.get(pk=mine.pk).status == "active"


def test_a_manager_of_another_venue_cannot_reach_this_one_through_theirs(mine, other_manager):
    client = client_for(other_manager)
    assert client.get(reverse("web:manage_subscription", args=["baraka", mine.pk])).status_code == 404


# --- Bounded queries -------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_lists_do_not_grow_with_their_rows(as_manager, venue, coworking, nomade):
    people = [UserFactory() for _ in range(6)]
    for person in people[:2]:
        add_role(person, venue)
        subscribe(plan=coworking, member=person, actor=None)
    urls = [
        reverse("web:manage_subscriptions", args=["la-coroutine"]),
        reverse("web:manage_plans", args=["la-coroutine"]),
    ]
    small = [count_queries(as_manager, url) for url in urls]
    for person in people[2:]:
        add_role(person, venue)
        subscribe(plan=nomade, member=person, actor=None)
    plan(venue, slug="extra", name="Extra")
    assert [count_queries(as_manager, url) for url in urls] == small


def test_my_subscriptions_do_not_grow_with_their_number(member, venue):
    client = client_for(member)
    plans = [plan(venue, slug=f"p{i}", name=f"Formule {i}") for i in range(4)]
    subscribe(plan=plans[0], member=member, actor=member)
    small = count_queries(client, reverse("web:my_subscriptions"))
    for extra in plans[1:]:
        subscribe(plan=extra, member=member, actor=member)
    assert count_queries(client, reverse("web:my_subscriptions")) == small


# --- A venue's credits -----------------------------------------------------------------------------------


def test_the_team_sees_each_persons_credits_at_the_venue_and_a_ledger(as_manager, member, venue, other_venue):
    lot(member, venue, "8", source="here")
    lot(member, other_venue, "3", source="there")
    url = reverse("web:manage_credits", args=["la-coroutine"])
    response = as_manager.get(url)
    assert response.status_code == 200
    assert [(r.person.pk, r.remaining) for r in response.context["rows"]] == [(member.pk, Decimal("8.00"))]
    ledger = as_manager.get(url, {"person": member.pk}).context["ledger"]
    assert [e.reference for e in ledger] == ["here"]


def test_the_team_cannot_read_the_ledger_of_someone_without_credits_here(as_manager, member, other_venue):
    lot(member, other_venue, "3", source="there")
    url = reverse("web:manage_credits", args=["la-coroutine"])
    assert as_manager.get(url, {"person": member.pk}).status_code == 404


@pytest.mark.parametrize("who", ["member", "other_manager"])
def test_a_venues_credits_are_only_for_its_team(who, request, venue):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("web:manage_credits", args=["la-coroutine"])).status_code == 404
