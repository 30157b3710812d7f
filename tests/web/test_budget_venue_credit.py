"""The credit a budget owes the venues that honour it, on its manager's page: one row per venue (issued,
settled, to settle) read in one grouped query, and a small form per venue with something to settle, its
amount prefilled; the form records the payment, and a refused one comes back with the service's message
and status, nothing written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lieux.contributions.models import CreditConversion, CreditSettlement, LedgerTransaction
from lieux.contributions.selectors import budgets as budget_selectors
from lieux.contributions.services.payouts import pay_in_credit
from lieux.contributions.services.settlements import settle_credit
from tests.budget_data import budget_around_today, validated
from tests.credits_data import credit_type
from tests.factories import UserFactory

D = Decimal
TODAY = timezone.localdate()


@pytest.fixture
def budget(network, venue):
    return budget_around_today(network, venue, committed="10000", received="500")


def offer(network, place, rate: str) -> CreditConversion:
    days = credit_type(place, code="coworking", name="Journées de coworking")
    return CreditConversion.objects.create(network=network, credit_type=days, euros_per_credit=D(rate))


def paid_in_credit(budget, conversion, amount: str, person=None):
    person = person or UserFactory()
    validated(budget, person, amount)
    return pay_in_credit(budget=budget, person=person, conversion=conversion, actor=person)


@pytest.fixture
def baraka(budget, network, other_venue):
    """97.50 € of credit issued at Baraka (6.5 days at 15 €)."""
    paid_in_credit(budget, offer(network, other_venue, "15"), "100")
    return other_venue


def page(client, budget):
    return client.get(reverse("web:contribution_budget", args=[budget.pk]))


def settle_url(budget, venue) -> str:
    return reverse("web:budget_settle_credit", args=[budget.pk, venue.pk])


def fields(venue, **values) -> dict:
    values = {"amount": "60", "reference": "BAR-2026-14", "settled_on": TODAY.isoformat(), **values}
    return {f"settle-{venue.pk}-{name}": value for name, value in values.items()}


def written() -> tuple[int, int]:
    return CreditSettlement.objects.count(), LedgerTransaction.objects.filter(kind="credit_settled").count()


def test_the_manager_sees_the_credit_of_each_venue_and_a_form_prefilled_with_what_is_to_settle(
    as_manager, budget, baraka
):
    response = page(as_manager, budget)
    body = response.content.decode()
    assert 'id="venue-credit-title"' in body
    assert '<th scope="row">Baraka</th><td class="num">97.50\u00a0€</td>' in body
    [item] = response.context["settle_forms"]
    assert item.venue.venue_id == baraka.pk and item.form.initial["amount"] == D("97.50")
    assert f'action="{settle_url(budget, baraka)}"' in body
    assert f'id="id_settle-{baraka.pk}-amount"' in body and 'value="97.50"' in body
    assert f'<label for="id_settle-{baraka.pk}-reference"' in body


def test_recording_the_venue_s_invoice_pays_it_and_the_figures_say_so(as_manager, budget, baraka, manager):
    done = as_manager.post(settle_url(budget, baraka), fields(baraka, amount="97.50"))
    assert done.status_code == 302
    settlement = CreditSettlement.objects.get()
    assert (settlement.venue, settlement.amount, settlement.created_by) == (baraka, D("97.50"), manager)
    response = page(as_manager, budget)
    figures = response.context["figures"]
    assert (figures.credit_settled, figures.credit_to_settle, figures.cash) == (D("97.50"), 0, D("402.50"))
    assert response.context["settle_forms"] == []  # nothing left to settle: no form, the row stays
    assert "Payment of 97.50 € to Baraka recorded" in response.content.decode()


def test_a_settlement_beyond_the_cash_is_refused_on_its_form_and_writes_nothing(
    as_manager, budget, network, venue, baraka
):
    paid_in_credit(budget, offer(network, venue, "10"), "600")  # 600 € at La Coroutine, 500 € of cash
    coroutine = venue
    refused = as_manager.post(settle_url(budget, coroutine), fields(coroutine, amount="600"))
    assert refused.status_code == 409
    forms = {item.venue.venue_id: item.form for item in refused.context["settle_forms"]}
    assert "only 500.00 € received" in str(forms[coroutine.pk].non_field_errors())
    assert forms[baraka.pk].is_bound is False  # the other venue's form is as it was
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("values", "status", "field"),
    [
        ({"reference": ""}, 422, "reference"),
        ({"amount": "0"}, 422, "amount"),
        ({"amount": "97.51"}, 422, "amount"),  # the service: beyond what is still to settle
        ({"settled_on": (TODAY + timedelta(days=2)).isoformat()}, 422, "settled_on"),
    ],
)
def test_bad_input_shows_its_error_on_the_field_and_writes_nothing(
    as_manager, budget, baraka, values, status, field
):
    refused = as_manager.post(settle_url(budget, baraka), fields(baraka, **values))
    assert refused.status_code == status
    [item] = refused.context["settle_forms"]
    assert field in item.form.errors
    assert written() == (0, 0)


def test_only_managers_settle_and_only_with_a_venue_the_budget_issued_credit_at(
    as_member, as_other_manager, as_manager, budget, baraka
):
    # A contributor, and a manager of Baraka itself: neither manages La Coroutine's budget.
    for someone in (as_member, as_other_manager):
        assert someone.post(settle_url(budget, baraka), fields(baraka)).status_code == 403
    elsewhere = budget.venue  # no credit issued at La Coroutine
    assert as_manager.post(settle_url(budget, elsewhere), fields(elsewhere)).status_code == 404
    assert written() == (0, 0)
    assert "venue_credit" not in page(as_member, budget).context


def statements(client, budget) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert page(client, budget).status_code == 200
    return len(captured.captured_queries)


def test_the_manager_page_reads_as_many_statements_for_many_credit_payouts_and_venues_as_for_one(
    as_manager, budget, network, venue, baraka
):
    one = statements(as_manager, budget)
    coroutine = offer(network, venue, "10")
    for _n in range(6):
        paid_in_credit(budget, coroutine, "30")
    settle_credit(budget=budget, venue=venue, amount="40", reference="LC-1", settled_on=TODAY, actor=None)
    assert len(budget_selectors.credit_by_venue(budget)) == 2
    assert statements(as_manager, budget) == one
