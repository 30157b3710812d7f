"""The people a budget owes, on its manager's page: fifty at a time, most owed first, with how many they are
and what they are owed in all; searched by name or e-mail without JavaScript; each row's link opens the
payment in euros for that person alone, and the payment checks on the server that the budget owes them
something. The page reads as many SQL statements for 60 people owed as for 5, and its list of payouts
shows each one as it did."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from lieux.contributions.models import CreditConversion, LedgerEntry, Payout
from lieux.contributions.selectors import budgets as budget_selectors
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.services.payouts import pay_in_credit, pay_in_euros
from tests.budget_data import budget_around_today, validated
from tests.credits_data import credit_type
from tests.factories import UserFactory

D = Decimal
TODAY = timezone.localdate()


@pytest.fixture
def budget(network, venue):
    return budget_around_today(network, venue, committed="100000", received="500")


def owe(budget, count: int) -> list:
    """`count` people owed 10 €, 11 €, 12 €… (the last one the most owed)."""
    people = [UserFactory(first_name=f"Personne{n}", last_name="Dupont") for n in range(count)]
    for n, person in enumerate(people):
        validated(budget, person, D(10 + n))
    return people


def page_url(budget, *, separator: str = "&", **query) -> str:
    url = reverse("web:contribution_budget", args=[budget.pk])
    return url + ("?" + separator.join(f"{k}={v}" for k, v in query.items()) if query else "")


def href(budget, fragment: str, **query) -> str:
    """A link to the budget's page as it stands in the HTML."""
    return f'href="{page_url(budget, separator="&amp;", **query)}#{fragment}"'


def html(response) -> str:
    return response.content.decode()


def test_the_fifty_most_owed_come_first_with_the_count_and_total_of_everyone(as_manager, budget):
    people = owe(budget, 60)
    response = as_manager.get(page_url(budget))
    owed = response.context["owed_list"]
    assert [row.person for row in owed.rows] == people[::-1][:50]
    assert [row.amount for row in owed.rows][:2] == [D(69), D(68)]
    assert (owed.people, owed.total) == (60, sum((D(10 + n) for n in range(60)), D(0)))
    assert owed.total == sum(budget_selectors.owed_by_person(budget).values(), D(0))
    body = html(response)
    assert "60 people, 2,370.00\u00a0€ owed." in body
    assert 'aria-current="page"' in body and href(budget, "owed-title", page=2) in body


def test_the_second_page_holds_the_rest_and_a_page_past_the_end_gives_the_last(as_manager, budget):
    people = owe(budget, 60)
    second = as_manager.get(page_url(budget, page=2))
    assert [row.person for row in second.context["owed_list"].rows] == people[::-1][50:]
    assert second.context["owed_list"].number == 2
    assert f'<a class="button" {href(budget, "owed-title", page=2)} aria-current="page">' in html(second)
    assert as_manager.get(page_url(budget, page=9)).context["owed_list"].number == 2
    assert as_manager.get(page_url(budget, page="deux")).context["owed_list"].number == 1


def test_the_search_finds_people_by_name_or_e_mail_whatever_the_case(as_manager, budget, member):
    owe(budget, 3)
    validated(budget, member, "40")  # Camille Test, membre@example.org
    by_name = as_manager.get(page_url(budget, q="CAMILLE"))
    owed = by_name.context["owed_list"]
    assert [row.person for row in owed.rows] == [member]
    assert (owed.found, owed.found_total) == (1, D(40))
    assert (owed.people, owed.total) == (4, D(73))  # everyone owed, still
    assert [
        row.person for row in as_manager.get(page_url(budget, q="MEMBRE@")).context["owed_list"].rows
    ] == [member]
    both_words = as_manager.get(page_url(budget, q="dupont+personne1")).context["owed_list"]
    assert [row.person.first_name for row in both_words.rows] == ["Personne1"]
    nobody = as_manager.get(page_url(budget, q="zzz"))
    assert nobody.context["owed_list"].rows == [] and nobody.status_code == 200
    body = html(by_name)
    assert '<label for="owed-q">' in body and 'name="q" id="owed-q" value="CAMILLE"' in body
    # The pay links keep the search.
    assert href(budget, "pay-euros", q="CAMILLE", pay=member.pk) in body


def test_a_row_s_link_opens_the_payment_of_that_person_and_pays_what_is_owed(as_manager, budget, member):
    validated(budget, member, "120")
    response = as_manager.get(page_url(budget, pay=member.pk))
    assert response.context["payee"].amount == D(120)
    body = html(response)
    assert f'<input type="hidden" name="person" value="{member.pk}"' in body
    assert 'id="pay-euros"' in body and "120.00\u00a0€" in body and 'name="invoice_reference"' in body
    paid = as_manager.post(
        reverse("web:budget_pay_euros", args=[budget.pk]),
        {"person": member.pk, "invoice_reference": "FAC-7", "paid_on": TODAY.isoformat()},
    )
    assert paid.status_code == 302
    payout = Payout.objects.get()
    assert (payout.person, payout.amount, payout.invoice_reference) == (member, D(120), "FAC-7")
    assert as_manager.get(page_url(budget)).context["owed_list"].people == 0


def test_paying_someone_the_budget_owes_nothing_is_refused_and_writes_nothing(
    as_manager, budget, member, stranger
):
    validated(budget, member, "50")
    entries = LedgerEntry.objects.count()
    url = reverse("web:budget_pay_euros", args=[budget.pk])
    for person in (stranger.pk, "abc", ""):
        refused = as_manager.post(
            url, {"person": person, "invoice_reference": "FAC-9", "paid_on": TODAY.isoformat()}
        )
        assert refused.status_code == 422
        assert refused.context["euros_form"].non_field_errors(), person
    assert "This budget owes nothing to this person." in html(
        as_manager.post(url, {"person": stranger.pk, "invoice_reference": "F", "paid_on": TODAY.isoformat()})
    )
    assert not Payout.objects.exists() and LedgerEntry.objects.count() == entries
    # Once paid, the same person is owed nothing: a second payment is refused on the form too.
    pay_in_euros(budget=budget, person=member, invoice_reference="FAC-1", paid_on=TODAY)
    again = as_manager.post(
        url, {"person": member.pk, "invoice_reference": "FAC-2", "paid_on": TODAY.isoformat()}
    )
    assert again.status_code == 422 and Payout.objects.count() == 1
    stale = as_manager.get(page_url(budget, pay=member.pk))
    assert stale.context["payee_unknown"] and "euros_form" not in stale.context


def test_a_refused_payment_shows_the_person_and_keeps_the_page_links_on_the_budget(
    as_manager, budget, member
):
    validated(budget, member, "600")  # 500 received: not enough cash
    refused = as_manager.post(
        reverse("web:budget_pay_euros", args=[budget.pk]),
        {"person": member.pk, "invoice_reference": "FAC-12", "paid_on": TODAY.isoformat()},
    )
    assert refused.status_code == 409 and refused.context["payee"].person == member
    body = html(refused)
    assert "only 500.00 € received" in body
    assert href(budget, "pay-euros", pay=member.pk) in body  # not relative to the POST


def test_contributors_see_only_what_they_are_owed(as_member, budget, member):
    owe(budget, 3)
    validated(budget, member, "30")
    response = as_member.get(page_url(budget, q="Personne", pay=member.pk))
    assert response.context["owed"] == D(30)
    assert "owed_list" not in response.context and "euros_form" not in response.context
    assert 'id="owed-title"' not in html(response)


def test_the_payouts_list_shows_each_payout_in_euros_and_in_credit(
    as_manager, as_member, budget, member, other_member, network, other_venue
):
    days = credit_type(other_venue, code="coworking", name="Journées de coworking")
    conversion = CreditConversion.objects.create(network=network, credit_type=days, euros_per_credit=D(15))
    validated(budget, member, "100")
    validated(budget, other_member, "45")
    pay_in_credit(budget=budget, person=member, conversion=conversion, actor=member)
    pay_in_euros(budget=budget, person=other_member, invoice_reference="FAC-3", paid_on=TODAY)
    body = html(as_manager.get(page_url(budget)))
    assert "6.5 × Journées de coworking — Baraka" in body and "97.50\u00a0€" in body
    assert "<td>FAC-3</td>" in body and "<td>Alix Test</td>" in body and "45.00\u00a0€" in body
    assert f'<td class="nowrap">{date_format(TODAY, "j M Y")}</td>' in body
    mine = html(as_member.get(page_url(budget)))  # the contributor's own payouts only
    assert "Journées de coworking" in mine and "FAC-3" not in mine


def test_every_payout_is_in_the_csv_export_for_managers_only(
    as_manager, as_member, budget, member, other_member, network, other_venue
):
    days = credit_type(other_venue, code="coworking", name="Journées de coworking")
    conversion = CreditConversion.objects.create(network=network, credit_type=days, euros_per_credit=D(15))
    validated(budget, member, "100")
    validated(budget, other_member, "45.5")
    pay_in_euros(budget=budget, person=other_member, invoice_reference="FAC-3", paid_on=TODAY)
    pay_in_credit(budget=budget, person=member, conversion=conversion, actor=member)
    url = reverse("web:budget_payouts_csv", args=[budget.pk])
    response = as_manager.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffPaid on;Person;")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 3
    assert rows[1][2:] == [
        other_member.email,
        other_member.get_full_name(),
        "Euros",
        "",
        "",
        "",
        "FAC-3",
        "45,50",
    ]
    assert rows[2][5:8] == ["6,50", "Journées de coworking", other_venue.name] and rows[2][9] == "97,50"
    assert as_member.get(url).status_code == 403


def statements(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("query", [{}, {"q": "Dupont"}, {"pay": "first"}])
def test_the_manager_page_reads_as_many_statements_for_60_people_owed_as_for_5(as_manager, budget, query):
    few = owe(budget, 5)
    if query.get("pay"):
        query = {"pay": few[0].pk}
    small = statements(as_manager, page_url(budget, **query))
    for n, person in enumerate(UserFactory.create_batch(55, last_name="Dupont")):
        validated(budget, person, D(100 + n))
    assert statements(as_manager, page_url(budget, **query)) == small


def test_the_ranking_s_totals_are_those_of_the_people_still_owed(budget, member, other_member):
    validated(budget, member, "30")
    validated(budget, member, "20")
    validated(budget, other_member, "80")
    pay_in_euros(budget=budget, person=other_member, invoice_reference="FAC-1", paid_on=TODAY)
    rows = list(budget_selectors.owed_ranking(budget).values_list("person_id", "amount"))
    assert rows == [(member.pk, D(50))]
    page = web_selectors.owed_people(budget, search="alix")  # other_member: paid, so not found
    assert (page.found, page.rows, page.people, page.total) == (0, [], 1, D(50))
