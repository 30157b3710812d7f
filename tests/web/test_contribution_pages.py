"""The contributions pages through the Django test client: each page renders for the people it is for and is
a 403 or a 404 for the others; a form given bad input shows the error next to its field and writes nothing;
the bulk preview flags each bad line and saves nothing; the public pages name only those who agreed; the
history exports what the person did.

Dates are relative to today, so that « not in the future » and « within the budget's period » hold whatever
day the tests run."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lieux.contributions.models import (
    AllocationRound,
    Budget,
    Contribution,
    ContributionStatus,
    ContributorProfile,
    CreditConversion,
    FundingSource,
    Payout,
    Project,
    Review,
    RoundProject,
    Visibility,
)
from lieux.contributions.services.declare import declare_contribution
from lieux.contributions.services.review import review_contribution
from lieux.contributions.services.rounds import open_round
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.web import contribution_views_public
from tests import contributions_data as data
from tests.budget_data import fund, validated
from tests.credits_data import credit_type
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role
from tests.web.conftest import client_for

D = Decimal
TODAY = timezone.localdate()
DAY = TODAY - timedelta(days=3)
LINES = (
    f"{DAY:%d/%m/%Y} 2h 60€ Communication : newsletter\n"
    "31/02/2026 1h Animation : atelier\n"
    f"{DAY:%d/%m/%Y} 1h30 Animation : atelier vélo\n"
)


@pytest.fixture
def steward(venue):
    person = UserFactory(email="soucieux@example.org", first_name="Robin", last_name="Soucieux")
    add_role(person, venue)
    return person


@pytest.fixture
def garden(network, venue, steward):
    return data.project(network, "jardin", venue=venue, stewards=[steward], title="Jardin partagé")


@pytest.fixture
def shared(network):
    return data.activities(network, "Communication", "Animation")


@pytest.fixture
def budget(network, venue, garden, shared):
    made = data.budget(
        network,
        "fabrique",
        venue=venue,
        starts_on=TODAY - timedelta(days=60),
        ends_on=TODAY + timedelta(days=300),
    )
    fund(made, "1000", received="500")
    return made


@pytest.fixture
def as_steward(steward) -> Client:
    return client_for(steward)


@pytest.fixture
def as_stranger(stranger) -> Client:
    return client_for(stranger)


def declared(person, project, budget=None, amount="50", hours="2", **fields) -> Contribution:
    return declare_contribution(
        actor=person,
        project=project,
        performed_on=fields.pop("performed_on", DAY),
        description=fields.pop("description", "Désherbage des carrés"),
        hours=hours,
        budget=budget,
        amount_asked=amount if budget else None,
        **fields,
    )


def html(response) -> str:
    return response.content.decode()


# --- Who reaches which page


def test_the_list_pages_render_for_a_member(as_member, garden, budget):
    for name in (
        "contribution_projects",
        "contribution_queue",
        "contribution_budgets",
        "allocation_rounds",
        "my_contributions",
        "contributor_consent",
    ):
        response = as_member.get(reverse(f"web:{name}"))
        assert response.status_code == 200, name
    assert "Fabrique" in html(as_member.get(reverse("web:contribution_budgets")))


def test_visitors_are_asked_to_log_in_except_on_the_public_pages(client, network, member, garden, budget):
    contribution = declared(member, garden, budget)
    for url in (
        reverse("web:contribution_project", args=[garden.pk]),
        reverse("web:contribution", args=[contribution.pk]),
        reverse("web:contribution_budget", args=[budget.pk]),
        reverse("web:my_contributions_export", args=["csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/comptes/login/" in response["Location"], url
    for url in (
        reverse("web:transparency", args=[network.slug]),
        reverse("web:transparency_project", args=[network.slug, garden.slug]),
        reverse("web:transparency_budget", args=[network.slug, budget.slug]),
    ):
        assert client.get(url).status_code == 200, url


# --- Projects -------------------------------------------------------------------------------------------


def test_the_project_list_and_page_render_for_a_member_and_ask_others_to_log_in(
    client, as_member, garden, budget
):
    response = as_member.get(reverse("web:contribution_projects"))
    assert response.status_code == 200
    assert "Jardin partagé" in html(response)
    page = as_member.get(reverse("web:contribution_project", args=[garden.pk]))
    assert page.status_code == 200
    body = html(page)
    assert "Robin Soucieux" in body  # the steward
    assert "Communication" in body  # a shared activity
    assert reverse("web:contribution_declare", args=[garden.pk]) in body
    # Not a steward: no « declare for someone else »
    assert reverse("web:contribution_declare_for", args=[garden.pk]) not in body
    anonymous = client.get(reverse("web:contribution_projects"))
    assert anonymous.status_code == 302 and "/comptes/login/" in anonymous["Location"]


def test_a_private_project_is_a_404_outside_its_network(as_member, as_stranger):
    elsewhere = NetworkFactory(name="Ailleurs", slug="ailleurs")
    secret = data.project(elsewhere, "secret", venue=VenueFactory(network=elsewhere), is_public=False)
    assert as_member.get(reverse("web:contribution_project", args=[secret.pk])).status_code == 404
    assert as_stranger.get(reverse("web:contribution_project", args=[secret.pk])).status_code == 404
    assert as_member.get(reverse("web:contribution_project", args=[999_999])).status_code == 404


def test_a_manager_creates_a_project_and_bad_input_creates_nothing(as_manager, as_member, venue, steward):
    url = reverse("web:contribution_project_new")
    assert as_member.get(url).status_code == 404  # runs no venue
    assert as_manager.get(url).status_code == 200
    before = AuditEvent.objects.count()
    bad = as_manager.post(
        url, {"title": "", "slug": "pas un slug", "status": "active", "stewards": "personne@nulle.part"}
    )
    assert bad.status_code == 422
    form = bad.context["form"]
    assert set(form.errors) >= {"title", "slug", "stewards"}
    assert 'aria-describedby="id_title_error"' in html(bad)
    assert not Project.objects.exists() and AuditEvent.objects.count() == before
    good = as_manager.post(
        url,
        {
            "title": "Atelier vélo",
            "slug": "atelier-velo",
            "venue": venue.pk,
            "status": "active",
            "stewards": "SOUCIEUX@example.org",
            "is_public": "on",
        },
    )
    project = Project.objects.get(slug="atelier-velo")
    assert good.status_code == 302 and good["Location"] == reverse(
        "web:contribution_project", args=[project.pk]
    )
    assert list(project.stewards.all()) == [steward]


def test_only_managers_and_stewards_change_a_project(as_member, as_steward, garden):
    url = reverse("web:contribution_project_edit", args=[garden.pk])
    refused = as_member.get(url)
    assert refused.status_code == 403
    assert "stewards" in html(refused)
    assert as_steward.get(url).status_code == 200
    saved = as_steward.post(
        url,
        {
            "title": "Jardin des Communs",
            "status": "paused",
            "stewards": "soucieux@example.org",
            "is_public": "on",
        },
    )
    assert saved.status_code == 302
    garden.refresh_from_db()
    assert (garden.title, garden.status) == ("Jardin des Communs", "paused")


# --- Declaring ------------------------------------------------------------------------------------------


def declaration(envelope, shared, **changes) -> dict:
    fields = {
        "performed_on": DAY.isoformat(),
        "hours": "2.5",
        "kind": "time",
        "activities": [shared[0].pk],
        "description": "Newsletter de novembre",
        "evidence_url": "",
        "budget": envelope.pk,
        "amount_asked": "75.50",
    }
    return {**fields, **changes}


def test_a_member_declares_a_contribution_with_a_file(
    as_member, member, garden, budget, shared, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("affiche.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = as_member.post(
        reverse("web:contribution_declare", args=[garden.pk]),
        {**declaration(budget, shared), "evidence_file": upload},
    )
    contribution = Contribution.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:contribution", args=[contribution.pk])
    assert (contribution.contributor, contribution.status, contribution.amount_asked, contribution.hours) == (
        member,
        ContributionStatus.SUBMITTED,
        D("75.50"),
        D("2.5"),
    )
    assert list(contribution.activities.all()) == [shared[0]]
    evidence = as_member.get(reverse("web:contribution_evidence", args=[contribution.pk]))
    assert evidence.status_code == 200 and b"".join(evidence.streaming_content) == b"%PDF-1.4 test"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"performed_on": (TODAY + timedelta(days=5)).isoformat()}, "performed_on"),
        ({"hours": "-1"}, "hours"),
        ({"description": ""}, "description"),
        ({"budget": "", "amount_asked": "20"}, "budget"),
        ({"evidence_url": "ftp://example.org/x"}, "evidence_url"),
    ],
)
def test_a_bad_declaration_shows_its_error_on_the_field_and_writes_nothing(
    as_member, garden, budget, shared, changes, field
):
    before = AuditEvent.objects.count()
    response = as_member.post(
        reverse("web:contribution_declare", args=[garden.pk]), declaration(budget, shared, **changes)
    )
    assert response.status_code in (409, 422)
    assert field in response.context["form"].errors
    assert f'aria-describedby="id_{field}_error' in html(response) or f"id_{field}_error" in html(response)
    assert not Contribution.objects.exists()
    assert AuditEvent.objects.count() == before


def test_declaring_for_someone_is_for_stewards_and_the_person_confirms(
    as_member, as_steward, member, garden, budget, shared
):
    url = reverse("web:contribution_declare_for", args=[garden.pk])
    assert as_member.get(url).status_code == 403
    form = as_steward.get(url)
    assert form.status_code == 200 and 'name="contributor"' in html(form)
    unknown = as_steward.post(url, {**declaration(budget, shared), "contributor": "personne@nulle.part"})
    assert unknown.status_code == 422 and "contributor" in unknown.context["form"].errors
    assert not Contribution.objects.exists()
    as_steward.post(url, {**declaration(budget, shared), "contributor": member.email})
    contribution = Contribution.objects.get()
    assert contribution.status == ContributionStatus.AWAITING_CONFIRMATION
    # The steward cannot answer for the person.
    assert as_steward.get(reverse("web:contribution_confirm", args=[contribution.pk])).status_code == 403
    mine = as_member.get(reverse("web:my_contributions"))
    assert reverse("web:contribution_confirm", args=[contribution.pk]) in html(mine)
    confirmed = as_member.post(
        reverse("web:contribution_confirm", args=[contribution.pk]), {"answer": "confirm"}
    )
    assert confirmed.status_code == 302
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.SUBMITTED


# --- In bulk --------------------------------------------------------------------------------------------


def test_the_bulk_preview_flags_each_bad_line_and_saves_nothing(as_member, garden, budget, shared):
    url = reverse("web:contribution_bulk", args=[garden.pk])
    assert as_member.get(url).status_code == 200
    response = as_member.post(
        url, {"format": "lines", "content": LINES, "budget": budget.pk, "kind": "time", "action": "preview"}
    )
    assert response.status_code == 422
    preview = response.context["preview"]
    assert [line.number for line in preview.bad_lines] == [2]
    body = html(response)
    assert 'id="line-2" class="line-bad"' in body
    assert "31/02/2026 is not a date" in body
    assert 'value="save"' not in body  # no save button while a line is bad
    assert not Contribution.objects.exists()
    # Saving anyway (a forged request) is refused by the service, all or nothing.
    forced = as_member.post(
        url, {"format": "lines", "content": LINES, "budget": budget.pk, "kind": "time", "action": "save"}
    )
    assert not Contribution.objects.exists()
    assert forced.status_code == 422  # previewed again, bad line flagged: it was never previewed clean


def test_corrected_lines_are_saved_once_previewed(as_member, member, garden, budget, shared):
    url = reverse("web:contribution_bulk", args=[garden.pk])
    fixed = LINES.replace("31/02/2026", f"{DAY:%d/%m/%Y}")
    fields = {"format": "lines", "content": fixed, "budget": budget.pk, "kind": "time"}
    preview = as_member.post(url, {**fields, "action": "preview"})
    assert preview.status_code == 200 and preview.context["preview"].ok
    key = preview.context["form"]["previewed"].value()
    assert key
    # Lines changed after the preview are previewed again, not saved.
    changed = as_member.post(
        url,
        {**fields, "content": fixed + f"{DAY:%d/%m/%Y} 1h : rangement\n", "previewed": key, "action": "save"},
    )
    assert changed.status_code == 200 and not Contribution.objects.exists()
    saved = as_member.post(url, {**fields, "previewed": key, "action": "save"})
    assert saved.status_code == 302
    assert Contribution.objects.filter(contributor=member, status=ContributionStatus.SUBMITTED).count() == 3
    # The same lines again save nothing twice.
    as_member.post(url, {**fields, "previewed": key, "action": "save"})
    assert Contribution.objects.count() == 3


def test_a_csv_upload_is_previewed_with_its_file_line_numbers(as_member, garden, budget, shared):
    text = (
        "date;heures;activités;description\n"
        f"{DAY:%d/%m/%Y};2;Communication;Affiches\n"
        "hier;1;Animation;Atelier\n"
    )
    upload = SimpleUploadedFile("lignes.csv", text.encode("utf-8"), content_type="text/csv")
    response = as_member.post(
        reverse("web:contribution_bulk", args=[garden.pk]),
        {
            "format": "lines",
            "content": "",
            "csv_file": upload,
            "budget": "",
            "kind": "time",
            "action": "preview",
        },
    )
    assert response.status_code == 422
    assert [line.number for line in response.context["preview"].bad_lines] == [3]
    # The file's text is back in the box, as CSV, to be corrected.
    assert response.context["form"]["format"].value() == "csv"
    assert "Affiches" in response.context["form"]["content"].value()


# --- Review ---------------------------------------------------------------------------------------------


def test_a_steward_finds_the_request_in_the_queue_and_validates_it(
    as_member, as_steward, member, garden, budget
):
    contribution = declared(member, garden, budget)
    queue = as_steward.get(reverse("web:contribution_queue"))
    assert queue.status_code == 200 and contribution.description in html(queue)
    assert contribution.description not in html(as_member.get(reverse("web:contribution_queue")))
    page = as_steward.get(reverse("web:contribution", args=[contribution.pk]))
    assert page.status_code == 200 and 'value="validate"' in html(page)
    response = as_steward.post(
        reverse("web:contribution_review", args=[contribution.pk]), {"verdict": "validate"}
    )
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert (contribution.status, contribution.amount_granted) == (ContributionStatus.VALIDATED, D("50"))


def test_the_contributor_is_told_why_they_cannot_validate_their_own(as_member, member, garden, budget):
    contribution = declared(member, garden, budget)
    page = as_member.get(reverse("web:contribution", args=[contribution.pk]))
    body = html(page)
    assert 'value="validate"' not in body
    assert "You cannot validate or refuse a contribution you made or declared" in body
    assert 'value="comment"' in body
    forged = as_member.post(
        reverse("web:contribution_review", args=[contribution.pk]), {"verdict": "validate"}
    )
    assert forged.status_code == 403
    assert not Review.objects.exists()


def test_a_refusal_without_a_message_is_a_field_error_and_writes_nothing(as_steward, member, garden, budget):
    contribution = declared(member, garden, budget)
    response = as_steward.post(
        reverse("web:contribution_review", args=[contribution.pk]), {"verdict": "refuse", "message": " "}
    )
    assert response.status_code == 422
    assert "message" in response.context["review_form"].errors
    assert not Review.objects.exists()
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.SUBMITTED


def test_someone_outside_the_network_cannot_read_a_contribution(as_stranger, member, garden, budget):
    contribution = declared(member, garden, budget)
    assert as_stranger.get(reverse("web:contribution", args=[contribution.pk])).status_code == 404
    refused = as_stranger.post(
        reverse("web:contribution_review", args=[contribution.pk]), {"verdict": "comment", "message": "?"}
    )
    assert refused.status_code == 404 and not Review.objects.exists()


def test_the_contributor_withdraws_a_request_not_decided_yet(
    as_member, as_other_member, member, garden, budget
):
    contribution = declared(member, garden, budget)
    url = reverse("web:contribution_withdraw", args=[contribution.pk])
    assert as_other_member.post(url, {"reason": ""}).status_code == 403
    assert as_member.post(url, {"reason": "Doublon"}).status_code == 302
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.WITHDRAWN


# --- Budgets --------------------------------------------------------------------------------------------


def test_the_budget_page_shows_figures_and_an_accessible_burn_down(as_member, as_stranger, member, budget):
    validated(budget, member, "120")
    response = as_member.get(reverse("web:contribution_budget", args=[budget.pk]))
    assert response.status_code == 200
    body = html(response)
    assert '<svg viewBox="' in body and 'role="img"' in body
    assert 'aria-labelledby="burn-down-title burn-down-desc"' in body
    assert '<title id="burn-down-title">' in body and '<desc id="burn-down-desc">' in body
    assert "polyline" in body
    assert "<table" in body  # the figures as a table too
    figures = response.context["figures"]
    assert (figures.committed, figures.received, figures.granted) == (D(1000), D(500), D(120))
    assert 'action="' + reverse("web:budget_add_source", args=[budget.pk]) not in body  # not a manager
    # What it owes the viewer is on the page.
    assert response.context["owed"] == D(120)
    assert as_stranger.get(reverse("web:contribution_budget", args=[budget.pk])).status_code == 404


def test_a_budget_in_deficit_says_so_and_offers_the_managers_the_closing_choices(as_manager, member, budget):
    validated(budget, member, "1100")
    response = as_manager.get(reverse("web:contribution_budget", args=[budget.pk]))
    body = html(response)
    assert 'id="deficit"' in body
    for method in ("pro_rata", "carry_over", "top_up"):
        assert f'value="{method}"' in body


def test_a_manager_adds_a_source_and_bad_input_writes_nothing(as_manager, as_member, budget):
    url = reverse("web:budget_add_source", args=[budget.pk])
    before = FundingSource.objects.count()
    bad = as_manager.post(
        url, {"name": "Région", "kind": "grant", "amount": "-5", "committed_on": TODAY.isoformat()}
    )
    assert bad.status_code == 422 and "amount" in bad.context["source_form"].errors
    assert FundingSource.objects.count() == before
    refused = as_member.post(
        url, {"name": "Région", "kind": "grant", "amount": "500", "committed_on": TODAY.isoformat()}
    )
    assert refused.status_code == 403 and FundingSource.objects.count() == before
    good = as_manager.post(
        url, {"name": "Région", "kind": "grant", "amount": "500", "committed_on": TODAY.isoformat()}
    )
    assert good.status_code == 302 and FundingSource.objects.count() == before + 1


def test_a_payout_beyond_the_cash_received_is_refused_on_the_form(as_manager, member, budget):
    validated(budget, member, "600")  # 500 received
    url = reverse("web:budget_pay_euros", args=[budget.pk])
    fields = {"person": member.pk, "invoice_reference": "FAC-12", "paid_on": TODAY.isoformat()}
    refused = as_manager.post(url, fields)
    assert refused.status_code == 409
    assert "only 500.00 € received" in str(refused.context["euros_form"].non_field_errors())
    assert not Payout.objects.exists()


def test_the_contributor_sees_the_credit_offers_and_takes_credit(
    as_member, member, network, other_venue, budget
):
    days = credit_type(other_venue, code="coworking", name="Journées de coworking")
    conversion = CreditConversion.objects.create(network=network, credit_type=days, euros_per_credit=D(15))
    validated(budget, member, "100")
    page = as_member.get(reverse("web:contribution_budget", args=[budget.pk]))
    offer = page.context["offers"][0]
    assert (offer.conversion, offer.credits, offer.value) == (conversion, D("6.5"), D("97.50"))
    assert "Baraka" in html(page)
    taken = as_member.post(reverse("web:budget_pay_credit", args=[budget.pk]), {"conversion": conversion.pk})
    assert taken.status_code == 302
    payout = Payout.objects.get()
    assert (payout.person, payout.credit_quantity, payout.amount) == (member, D("6.5"), D("97.50"))


def test_a_receipt_above_what_the_source_committed_is_refused_and_writes_nothing(as_manager, budget):
    source = budget.sources.get()
    url = reverse("web:budget_add_receipt", args=[budget.pk])
    fields = {"source": source.pk, "amount": "600", "received_on": TODAY.isoformat(), "reference": "VIR-9"}
    refused = as_manager.post(url, fields)
    assert refused.status_code == 422
    assert "500" in str(refused.context["receipt_form"].non_field_errors())
    assert source.receipts.count() == 1
    assert as_manager.post(url, {**fields, "amount": "200"}).status_code == 302
    assert source.receipts.count() == 2


def test_a_manager_closes_a_budget_in_deficit_by_topping_it_up(as_manager, as_member, member, budget):
    validated(budget, member, "1100")
    url = reverse("web:budget_close", args=[budget.pk])
    assert as_member.post(url, {"confirm": "on"}).status_code == 403
    no_method = as_manager.post(url, {"confirm": "on"})
    assert no_method.status_code == 422 and "method" in no_method.context["close_form"].errors
    too_small = as_manager.post(
        url,
        {
            "confirm": "on",
            "method": "top_up",
            "top_up_name": "Part de La Coroutine",
            "top_up_amount": "50",
            "top_up_kind": "venue_share",
            "top_up_committed_on": TODAY.isoformat(),
        },
    )
    assert too_small.status_code == 422
    budget.refresh_from_db()
    assert budget.status != "closed" and not budget.sources.filter(name="Part de La Coroutine").exists()
    closed = as_manager.post(
        url,
        {
            "confirm": "on",
            "method": "top_up",
            "top_up_name": "Part de La Coroutine",
            "top_up_amount": "100",
            "top_up_kind": "venue_share",
            "top_up_committed_on": TODAY.isoformat(),
        },
    )
    assert closed.status_code == 302
    budget.refresh_from_db()
    assert (budget.status, budget.closed_with) == ("closed", "top_up")


# --- Public pages ---------------------------------------------------------------------------------------


def test_the_public_project_page_names_only_those_who_agreed(
    client, network, member, other_member, steward, garden, budget
):
    stranger_named = UserFactory(email="nommee@example.org", first_name="Nadia", last_name="Nommée")
    add_role(stranger_named, garden.venue)
    ContributorProfile.objects.create(person=stranger_named, visibility=Visibility.NAME)
    ContributorProfile.objects.create(
        person=other_member, visibility=Visibility.PSEUDONYM, pseudonym="Colibri"
    )
    ContributorProfile.objects.create(person=member, visibility=Visibility.HIDDEN)
    for person in (member, other_member, stranger_named):
        contribution = declared(person, garden, budget, hours="3")
        review_contribution(contribution=contribution, reviewer=steward, verdict="validate")
    data.activities(network, "Jardin")
    response = client.get(reverse("web:transparency_project", args=[network.slug, garden.slug]))
    assert response.status_code == 200
    body = html(response)
    assert "Nadia Nommée" in body and "Colibri" in body
    assert "Camille" not in body and member.email not in body and "Alix" not in body
    assert "Robin" not in body  # the steward gave no consent either
    assert "1 person who chose not to be named" in body
    assert 'aria-labelledby="activity-hours-title activity-hours-desc"' in body
    budget_page = client.get(reverse("web:transparency_budget", args=[network.slug, budget.slug]))
    assert (
        budget_page.status_code == 200
        and "Camille" not in html(budget_page)
        and "burn-down-title" in html(budget_page)
    )


def test_a_public_page_lists_those_who_gave_most_and_everyone_on_demand(
    client, monkeypatch, network, member, other_member, steward, garden
):
    monkeypatch.setattr(contribution_views_public, "PEOPLE_LISTED", 1)
    for person, pseudonym, hours in ((member, "Colibri", "2"), (other_member, "Mésange", "5")):
        ContributorProfile.objects.create(person=person, visibility=Visibility.PSEUDONYM, pseudonym=pseudonym)
        contribution = declared(person, garden, None, hours=hours)
        review_contribution(contribution=contribution, reviewer=steward, verdict="validate")
    url = reverse("web:transparency_project", args=[network.slug, garden.slug])
    first = html(client.get(url))
    assert "Mésange" in first and "Colibri" not in first
    assert "The 1 people who gave the most hours, of 2 named." in first and "?people=all" in first
    everyone = html(client.get(url + "?people=all"))
    assert "Mésange" in everyone and "Colibri" in everyone and "See everyone" not in everyone


def test_a_private_project_or_budget_has_no_public_page(client, network, garden, budget):
    Project.objects.filter(pk=garden.pk).update(is_public=False)
    Budget.objects.filter(pk=budget.pk).update(is_public=False)
    assert (
        client.get(reverse("web:transparency_project", args=[network.slug, garden.slug])).status_code == 404
    )
    assert client.get(reverse("web:transparency_budget", args=[network.slug, budget.slug])).status_code == 404
    index = client.get(reverse("web:transparency", args=[network.slug]))
    assert index.status_code == 200 and garden.title not in html(index)


# --- A person's own -------------------------------------------------------------------------------------


def test_the_history_exports_as_csv_and_json(as_member, as_other_member, member, garden, budget):
    declared(member, garden, budget, description="Newsletter ; édition de novembre")
    response = as_member.get(reverse("web:my_contributions_export", args=["csv"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="contributions.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Date", "Projet", "Lieu"]
    assert rows[1][0] == f"{DAY:%d/%m/%Y}" and rows[1][1] == "Jardin partagé"
    assert "Newsletter ; édition de novembre" in rows[1]
    document = as_member.get(reverse("web:my_contributions_export", args=["json"])).json()
    assert document["contributions"][0]["amount_asked"] == "50.00"
    # Another person's export holds none of it.
    other = as_other_member.get(reverse("web:my_contributions_export", args=["csv"]))
    assert "Newsletter" not in other.content.decode("utf-8-sig")
    assert as_member.get(reverse("web:my_contributions_export", args=["xml"])).status_code == 404


@pytest.fixture
def as_other_member(other_member) -> Client:
    return client_for(other_member)


def test_the_certificate_of_a_year_is_a_pdf(as_member, member, steward, garden, budget):
    contribution = declared(member, garden, budget)
    review_contribution(contribution=contribution, reviewer=steward, verdict="validate")
    page = as_member.get(reverse("web:my_contributions"))
    url = reverse("web:my_contribution_certificate", args=[DAY.year])
    assert url in html(page)
    response = as_member.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    nothing = as_member.get(reverse("web:my_contribution_certificate", args=[DAY.year - 3]))
    assert nothing.status_code == 302


def test_the_consent_form_needs_a_pseudonym_to_show_one(as_member, member):
    url = reverse("web:contributor_consent")
    assert as_member.get(url).status_code == 200
    bad = as_member.post(url, {"visibility": "pseudonym", "pseudonym": "", "structure_name": ""})
    assert bad.status_code == 422 and "pseudonym" in bad.context["form"].errors
    assert not ContributorProfile.objects.exists()
    good = as_member.post(
        url, {"visibility": "pseudonym", "pseudonym": "Colibri", "structure_name": "Coop des Communs"}
    )
    assert good.status_code == 302
    profile = ContributorProfile.objects.get(person=member)
    assert (profile.visibility, profile.pseudonym, profile.structure_name) == (
        "pseudonym",
        "Colibri",
        "Coop des Communs",
    )
    assert AuditEvent.objects.filter(action="contributions.profile.updated").count() == 1


def test_the_member_layout_and_the_manage_index_link_to_contributions(as_member, as_manager):
    assert reverse("web:my_contributions") in html(as_member.get(reverse("web:my_credits")))
    assert reverse("web:contribution_budgets") in html(as_manager.get(reverse("web:manage")))


# --- Rounds ---------------------------------------------------------------------------------------------


@pytest.fixture
def round_(network, venue, garden, member, manager):
    made = AllocationRound.objects.create(
        network=network,
        venue=venue,
        slug="printemps",
        name="Budget collectif de printemps",
        pot=D("300"),
        funder="Adhésions",
        opens_at=now() - timedelta(days=1),
        closes_at=now() + timedelta(days=10),
    )
    other = data.project(network, "atelier", venue=venue, title="Atelier vélo")
    RoundProject.objects.create(round=made, project=garden, minimum=D("50"), maximum=D("200"))
    RoundProject.objects.create(round=made, project=other, minimum=D("0"), maximum=D("100"))
    return made


def test_a_participant_spreads_their_share_and_cannot_pass_it(
    as_member, as_manager, as_stranger, manager, round_
):
    url = reverse("web:allocation_round", args=[round_.pk])
    assert as_member.get(url).status_code == 404  # in preparation: its managers only
    assert as_manager.get(url).status_code == 200
    open_round(round=round_, actor=manager)
    page = as_member.get(url)
    share = page.context["participant"].share
    assert share == D("100.00")  # 300 € between member, manager (roles at the venue) and the steward
    assert "share-left" in html(page) and "min" in html(page)
    first, second = list(round_.projects.order_by("pk"))
    allocate = reverse("web:allocation_round_allocate", args=[round_.pk])
    too_much = as_member.post(allocate, {f"project_{first.pk}": "80", f"project_{second.pk}": "30"})
    assert too_much.status_code == 422
    assert not first.allocations.exists()
    ok = as_member.post(allocate, {f"project_{first.pk}": "80", f"project_{second.pk}": "20"})
    assert ok.status_code == 302
    assert first.allocations.get().amount == D(80)
    assert as_stranger.get(url).status_code == 404
    # Closing before the closing date is refused, with the reason.
    closing = as_manager.post(reverse("web:allocation_round_close", args=[round_.pk]), follow=True)
    assert "closes at its closing date" in html(closing)
