"""Pages about invoices: a member's list and detail, a venue team's invoices with their monthly totals,
credit notes and the billing run with its preview — each showing nobody else's documents."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lieux.billing.models import Invoice
from lieux.core.models import AuditEvent
from lieux.memberships.models import SubscriptionInvoice
from lieux.memberships.services.subscriptions import subscribe
from tests.factories import UserFactory, add_role, organisation
from tests.invoice_data import invoice, plan
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def documents() -> tuple[int, int]:
    return Invoice.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def world(venue, other_venue, member, other_member):
    coop = organisation("Coop des Communs", member)
    return {
        "mine": invoice(venue, buyer=member, amount="100.00"),
        "theirs": invoice(venue, buyer=other_member, amount="50.00", description="Location Salle Ada"),
        "coop": invoice(venue, organisation=coop, amount="300.00"),
        "elsewhere": invoice(other_venue, buyer=member, amount="70.00"),
        "draft": invoice(venue, buyer=member, amount="20.00", issued=False),
    }


# --- A member's invoices ---------------------------------------------------------------------------------


def test_my_invoices_are_mine_and_my_organisations(as_member, world):
    response = as_member.get(reverse("web:my_invoices"))
    assert response.status_code == 200
    w = world
    assert {i.pk for i in response.context["page"]} == {w["mine"].pk, w["coop"].pk, w["elsewhere"].pk}
    assert w["theirs"].number not in page(response)
    assert reverse("web:invoice_pdf", args=[w["mine"].pk]) in page(response)


def test_a_manager_sees_only_their_own_invoices_in_their_portal(as_manager, world, manager, venue):
    own = invoice(venue, buyer=manager, amount="10.00")
    response = as_manager.get(reverse("web:my_invoices"))
    assert [i.pk for i in response.context["page"]] == [own.pk]


def test_one_of_my_invoices_in_detail(as_member, world):
    response = as_member.get(reverse("web:my_invoice", args=[world["mine"].pk]))
    assert response.status_code == 200
    text = page(response)
    assert world["mine"].number in text
    assert "Abonnement coworking" in text
    assert "120.00\xa0€" in text and "20.00\xa0€" in text


@pytest.mark.parametrize("which", ["theirs", "draft"])
def test_someone_elses_invoice_or_a_draft_is_a_404(as_member, world, which):
    assert as_member.get(reverse("web:my_invoice", args=[world[which].pk])).status_code == 404
    assert as_member.get(reverse("web:invoice_pdf", args=[world[which].pk])).status_code == 404


def test_a_manager_of_another_venue_gets_no_pdf(as_other_manager, world):
    assert as_other_manager.get(reverse("web:invoice_pdf", args=[world["mine"].pk])).status_code == 404


def test_invoices_need_an_account(client, world):
    for url in (reverse("web:my_invoices"), reverse("web:invoice_pdf", args=[world["mine"].pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_my_invoices_are_paged(member, venue):
    for _ in range(27):
        invoice(venue, buyer=member, amount="1.00")
    client = client_for(member)
    first = client.get(reverse("web:my_invoices"))
    assert len(first.context["page"].object_list) == 25
    assert "?page=2" in page(first)
    assert len(client.get(reverse("web:my_invoices"), {"page": 2}).context["page"].object_list) == 2


# --- A venue's invoices ----------------------------------------------------------------------------------


def test_the_venue_invoices_list_with_its_months_picture(as_manager, world):
    response = as_manager.get(reverse("web:manage_invoices", args=["la-coroutine"]))
    assert response.status_code == 200
    w = world
    assert {i.pk for i in response.context["page"]} == {
        w["mine"].pk,
        w["theirs"].pk,
        w["coop"].pk,
        w["draft"].pk,
    }
    chart = response.context["chart"]
    assert len(chart.columns) == 12
    this_month = response.context["totals"][-1]
    assert this_month.invoiced == Decimal("540.00")  # 120 + 60 + 360, incl. VAT
    assert float(chart.columns[-1].height) > 0 and all(float(c.height) == 0 for c in chart.columns[:-1])
    assert '<svg viewBox="0 0 640 200" role="img"' in page(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "draft"}, {"draft"}),
        ({"status": "issued"}, {"mine", "theirs", "coop"}),
        ({"q": "Coop des"}, {"coop"}),
        ({"q": "voisine@"}, {"theirs"}),
        ({"kind": "credit_note"}, set()),
        ({"issued_from": "2000-01-01", "issued_to": "2000-12-31"}, set()),
    ],
)
def test_the_venue_invoices_filter(as_manager, world, query, expected):
    response = as_manager.get(reverse("web:manage_invoices", args=["la-coroutine"]), query)
    assert {i.pk for i in response.context["page"]} == {world[k].pk for k in expected}


def test_a_bad_filter_is_shown_on_the_form(as_manager, world):
    response = as_manager.get(
        reverse("web:manage_invoices", args=["la-coroutine"]),
        {"issued_from": "2026-12-31", "issued_to": "2026-01-01"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["issued_to"] == ["The end is before the start."]


@pytest.mark.parametrize("who", ["member", "other_manager"])
def test_a_venues_invoices_are_only_for_its_team(who, request, world):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("web:manage_invoices", args=["la-coroutine"])).status_code == 404
    assert (
        client.get(reverse("web:manage_invoice", args=["la-coroutine", world["mine"].pk])).status_code == 404
    )
    before = documents()
    url = reverse("web:manage_credit_note", args=["la-coroutine", world["mine"].pk])
    assert client.post(url, {"reason": "x", "scope": "full"}).status_code == 404
    assert documents() == before


def test_another_venues_invoice_is_a_404_even_for_a_manager(as_manager, world):
    url = reverse("web:manage_invoice", args=["la-coroutine", world["elsewhere"].pk])
    assert as_manager.get(url).status_code == 404


def test_one_invoice_for_the_team_with_the_credit_note_form(as_manager, world):
    response = as_manager.get(reverse("web:manage_invoice", args=["la-coroutine", world["theirs"].pk]))
    assert response.status_code == 200
    assert response.context["creditable"] is True
    assert "Location Salle Ada" in page(response)
    assert 'name="reason"' in page(response)


def test_a_draft_cannot_be_credited(as_manager, world):
    response = as_manager.get(reverse("web:manage_invoice", args=["la-coroutine", world["draft"].pk]))
    assert response.context["creditable"] is False
    assert 'name="reason"' not in page(response)


def test_a_manager_credits_a_whole_invoice(as_manager, world):
    original = world["mine"]
    response = as_manager.post(
        reverse("web:manage_credit_note", args=["la-coroutine", original.pk]),
        {"reason": "Facturé deux fois", "scope": "full"},
    )
    note = Invoice.objects.get(corrects=original)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:manage_invoice", args=["la-coroutine", note.pk])
    assert (note.kind, note.gross_amount, note.reason) == (
        "credit_note",
        Decimal("120.00"),
        "Facturé deux fois",
    )
    detail = as_manager.get(reverse("web:manage_invoice", args=["la-coroutine", original.pk]))
    assert detail.context["creditable"] is False
    assert note.number in page(detail)


def test_a_partial_credit_note_takes_an_amount_at_the_invoices_rate(as_manager, world):
    original = world["mine"]
    response = as_manager.post(
        reverse("web:manage_credit_note", args=["la-coroutine", original.pk]),
        {"reason": "Une semaine de fermeture", "scope": "partial", "net_amount": "25"},
    )
    assert response.status_code == 302
    note = Invoice.objects.get(corrects=original)
    assert (note.net_amount, note.vat_amount, note.gross_amount) == (
        Decimal("25.00"),
        Decimal("5.00"),
        Decimal("30.00"),
    )


@pytest.mark.parametrize(
    ("data", "status", "field", "message"),
    [
        ({"reason": "", "scope": "full"}, 422, "reason", None),
        ({"reason": "   ", "scope": "full"}, 422, "reason", "Say why the invoice is credited."),
        (
            {"reason": "x", "scope": "partial", "net_amount": ""},
            422,
            "net_amount",
            "Give the amount to credit.",
        ),
        ({"reason": "x", "scope": "partial", "net_amount": "-3"}, 422, "net_amount", None),
        ({"reason": "x", "scope": "partial", "net_amount": "1.234"}, 422, "net_amount", None),
        ({"reason": "x", "scope": "everything"}, 422, "scope", None),
        (
            {"reason": "x", "scope": "partial", "net_amount": "500"},
            409,
            None,
            "would be credited beyond its total",
        ),
    ],
)
def test_a_bad_credit_note_shows_the_error_and_writes_nothing(
    as_manager, world, data, status, field, message
):
    before = documents()
    response = as_manager.post(
        reverse("web:manage_credit_note", args=["la-coroutine", world["mine"].pk]), data
    )
    assert response.status_code == status
    form = response.context["credit_form"]
    if field:
        assert field in form.errors
    if message:
        assert message in page(response)
    assert 'role="alert"' in page(response)
    assert documents() == before


def test_the_credit_note_form_needs_a_post(as_manager, world):
    url = reverse("web:manage_credit_note", args=["la-coroutine", world["mine"].pk])
    assert as_manager.get(url).status_code == 405


# --- The billing run -------------------------------------------------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


@pytest.fixture
def due(venue, member, other_member):
    """Two monthly subscriptions started on the first day of last month: their second period starts on the
    first day of this month, and is what the run of this month invoices."""
    coworking = plan(venue, prices=(("2020-01-01", "150"),))
    start = first_of_month(first_of_month(date.today()) - timedelta(days=1))
    return [
        subscribe(plan=coworking, member=person, starts_on=start, actor=None)
        for person in (member, other_member)
    ]


def run_url() -> str:
    return reverse("web:manage_billing_run", args=["la-coroutine"])


def test_the_billing_run_page_proposes_this_month(as_manager, venue):
    response = as_manager.get(run_url())
    assert response.status_code == 200
    assert response.context["form"].initial["period"] == f"{date.today():%Y-%m}"


def test_the_preview_shows_what_the_run_would_issue_and_writes_nothing(as_manager, due):
    before = documents(), SubscriptionInvoice.objects.count()
    response = as_manager.post(run_url(), {"period": f"{date.today():%Y-%m}", "action": "preview"})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.dry_run and report.invoices == 2
    assert response.context["totals"].gross_amount == Decimal("360.00")
    text = page(response)
    assert "360.00\xa0€" in text
    assert 'name="action" value="run"' in text
    assert (documents(), SubscriptionInvoice.objects.count()) == before


def test_confirming_runs_it_once(as_manager, due):
    period = f"{date.today():%Y-%m}"
    issued_before = Invoice.objects.filter(status="issued").count()
    response = as_manager.post(run_url(), {"period": period, "action": "run"})
    assert response.status_code == 200
    report = response.context["report"]
    assert not report.dry_run and report.invoices == 2
    assert Invoice.objects.filter(status="issued").count() == issued_before + 2
    assert len(response.context["invoices"]) == 2
    # Running it again issues nothing more.
    again = as_manager.post(run_url(), {"period": period, "action": "run"}).context["report"]
    assert again.invoices == 0
    assert Invoice.objects.filter(status="issued").count() == issued_before + 2


def test_the_run_of_a_venue_leaves_the_other_venues_alone(as_manager, due, other_venue, other_member):
    theirs = plan(other_venue, slug="resident", prices=(("2020-01-01", "90"),))
    start = first_of_month(first_of_month(date.today()) - timedelta(days=1))
    subscription = subscribe(plan=theirs, member=other_member, starts_on=start, actor=None)
    as_manager.post(run_url(), {"period": f"{date.today():%Y-%m}", "action": "run"})
    assert SubscriptionInvoice.objects.filter(subscription=subscription).count() == 1  # only the first one


@pytest.mark.parametrize("period", ["", "2026-13", "26-12", "1999-12", "décembre"])
def test_a_bad_month_is_refused_on_the_form(as_manager, due, period):
    before = documents()
    response = as_manager.post(run_url(), {"period": period, "action": "run"})
    assert response.status_code == 422
    assert "period" in response.context["form"].errors
    assert response.context["report"] is None
    assert documents() == before


@pytest.mark.parametrize("who", ["member", "other_manager"])
def test_the_billing_run_is_only_for_the_venues_team(who, request, due):
    client = client_for(request.getfixturevalue(who))
    before = documents()
    assert client.get(run_url()).status_code == 404
    assert client.post(run_url(), {"period": f"{date.today():%Y-%m}", "action": "run"}).status_code == 404
    assert documents() == before


# --- Bounded queries -------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_invoice_lists_do_not_grow_with_their_rows(venue, member, manager):
    coop = organisation("Coop", member)
    invoice(venue, buyer=member)
    invoice(venue, organisation=coop)
    urls = [reverse("web:manage_invoices", args=["la-coroutine"]), reverse("web:my_invoices")]
    clients = [client_for(manager), client_for(member)]
    small = [count_queries(c, u) for c, u in zip(clients, urls, strict=True)]
    for _ in range(5):
        invoice(venue, buyer=member)
        invoice(venue, organisation=coop)
        other = UserFactory()
        add_role(other, venue)
        invoice(venue, buyer=other)
    assert [count_queries(c, u) for c, u in zip(clients, urls, strict=True)] == small
