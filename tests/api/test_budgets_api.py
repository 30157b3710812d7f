"""GET /budgets and /budgets/{id}: public budgets for everyone, private ones for those who manage them."""

from datetime import date
from decimal import Decimal

import pytest

from lieux.contributions.models import CreditConversion
from lieux.contributions.services.payouts import pay_in_credit
from lieux.contributions.services.settlements import settle_credit
from tests import contributions_data as data
from tests.api.conftest import ApiClient, assert_error, client_for
from tests.budget_data import fund, request, validated
from tests.credits_data import credit_type


@pytest.fixture
def public(network, venue):
    data.project(network, venue=venue)
    budget = data.budget(network, venue=venue)
    fund(budget, "1000", received="400")
    return budget


@pytest.fixture
def private(network, venue):
    return data.budget(network, "interne", venue=venue, is_public=False)


@pytest.fixture
def baraka_budget(network, other_venue):
    return data.budget(network, "baraka-2026", venue=other_venue, is_public=False)


def slugs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {b["slug"] for b in response.json()}


def test_anyone_lists_the_public_budgets_and_managers_also_their_private_ones(
    anonymous, as_manager, as_member, public, private, baraka_budget
):
    assert slugs(anonymous.get("/budgets")) == {"fabrique-2026"}
    assert slugs(as_member.get("/budgets")) == {"fabrique-2026"}
    assert slugs(as_manager.get("/budgets")) == {"fabrique-2026", "interne"}
    assert slugs(as_manager.get("/budgets", {"status": "closed"})) == set()
    assert slugs(anonymous.get("/budgets", {"venue": "la-coroutine"})) == {"fabrique-2026"}


def test_a_budget_gives_its_figures_sources_and_burn_down(anonymous, public, member):
    validated(public, member, "250")
    request(public, member, "90")
    response = anonymous.get(f"/budgets/{public.pk}", {"step": "month"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["slug"] == "fabrique-2026" and body["venue"] == "la-coroutine" and body["project"] is None
    figures = body["figures"]
    assert {k: figures[k] for k in ("committed", "received", "granted", "owed", "remaining", "cash")} == {
        "committed": "1000.00",
        "received": "400.00",
        "granted": "250.00",
        "owed": "250.00",
        "remaining": "750.00",
        "cash": "400.00",
    }
    assert (figures["pending_count"], figures["pending_amount"], figures["forecast_remaining"]) == (
        1,
        "90.00",
        "660.00",
    )
    assert figures["state"] == "open" and figures["forecast_over"] is False
    assert body["sources"] == [
        {
            "name": "Fabrique de Territoire",
            "kind": "grant",
            "funder": "ANCT",
            "committed": "1000.00",
            "received": "400.00",
            "committed_on": "2026-01-05",
        }
    ]
    assert body["rules"]["validators"] == "stewards" and body["rules"]["closed_with"] is None
    series = body["burn_down"]
    assert series["step"] == "month" and len(series["points"]) == 12
    assert series["points"][0]["on"] == "2026-01-31" and series["points"][0]["committed"] == "1000.00"
    assert series["points"][-1]["ideal"] == "0.00"


def test_credit_settled_to_a_venue_is_told_apart_from_euros_paid_to_people(
    anonymous, public, network, other_venue, member
):
    days = CreditConversion.objects.create(
        network=network, credit_type=credit_type(other_venue), euros_per_credit=Decimal(15)
    )
    validated(public, member, "100")
    pay_in_credit(budget=public, person=member, conversion=days, actor=member)  # 97.50 € of credit
    settle_credit(
        budget=public, venue=other_venue, amount="60", reference="BAR-14", settled_on=date(2026, 3, 2)
    )
    figures = anonymous.get(f"/budgets/{public.pk}").json()["figures"]
    names = ("paid_euros", "credit_issued", "credit_settled", "credit_to_settle", "cash", "owed")
    assert {name: figures[name] for name in names} == {
        "paid_euros": "0.00",
        "credit_issued": "97.50",
        "credit_settled": "60.00",
        "credit_to_settle": "37.50",
        "cash": "340.00",
        "owed": "2.50",
    }


def test_a_private_budget_does_not_exist_for_those_who_do_not_manage_it(
    anonymous, as_member, as_other_manager, as_manager, private
):
    for client in (anonymous, as_member, as_other_manager):
        assert_error(client.get(f"/budgets/{private.pk}"), 404, "unknown_budget")
    assert as_manager.get(f"/budgets/{private.pk}").status_code == 200


def test_a_network_budget_is_read_by_the_managers_of_every_venue(network, as_other_manager):
    shared = data.budget(network, "reseau", is_public=False)
    assert as_other_manager.get(f"/budgets/{shared.pk}").json()["venue"] is None


def test_an_invalid_token_is_refused_even_on_public_budgets(public):
    client = ApiClient("lc_" + "x" * 43)
    assert_error(client.get("/budgets"), 401, "unauthenticated")
    assert_error(client.get(f"/budgets/{public.pk}"), 401, "unauthenticated")


@pytest.mark.parametrize("query", [{"step": "day"}, {"status": "nope"}])
def test_bad_parameters_are_a_422(anonymous, public, query):
    path = f"/budgets/{public.pk}" if "step" in query else "/budgets"
    assert_error(anonymous.get(path, query), 422, "invalid_request")


def test_an_unknown_budget_is_a_404(anonymous, db):
    assert_error(anonymous.get("/budgets/999999"), 404, "unknown_budget")


def test_the_budget_page_takes_the_same_number_of_queries_with_more_requests(
    public, member, other_member, django_assert_max_num_queries
):
    client = client_for(other_member)
    for amount in ("10", "20", "30"):
        validated(public, member, amount)
    with django_assert_max_num_queries(12) as few:
        client.get(f"/budgets/{public.pk}")
    for _ in range(20):
        validated(public, member, Decimal("1.50"), performed_on=date(2026, 5, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/budgets/{public.pk}")
