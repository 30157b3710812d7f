"""The funder's report: totals that match independent sums, the valuation rate, the period, the payouts,
and no names anywhere."""

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader

from lieux.contributions.models import (
    ContributionKind,
    ContributionStatus,
    ContributorProfile,
    FundingSource,
    Visibility,
)
from lieux.contributions.reports import funder
from lieux.contributions.reports.pdf import render_html
from lieux.contributions.tests.reports_data import contribution, credit_conversion, payout
from lieux.core.errors import ValidationError
from tests.contributions_data import activities, budget, project
from tests.factories import NetworkFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
START, END = date(2026, 1, 1), date(2026, 6, 30)
COUNTED = {ContributionStatus.VALIDATED, ContributionStatus.PAID}


@pytest.fixture
def people(member, other_member, manager):
    ContributorProfile.objects.create(person=member, visibility=Visibility.NAME)
    ContributorProfile.objects.create(
        person=other_member, visibility=Visibility.PSEUDONYM, pseudonym="Lutin vert"
    )
    return [
        member,
        other_member,
        manager,
        UserFactory(email="dominique.secret@example.org", first_name="Dominique", last_name="Secret"),
    ]


@pytest.fixture
def world(network, venue, other_venue, people):
    garden = project(network, "jardin", venue=venue, title="Jardin partagé")
    workshop = project(network, "atelier", venue=other_venue, title="Atelier vélo")
    letter = project(network, "lettre", title="Lettre du réseau")
    fabrique = budget(network, "fabrique-2026", name="Fabrique 2026", hourly_value=D("22.50"))
    other = budget(network, "autre-budget", name="Autre budget")
    FundingSource.objects.create(
        budget=fabrique,
        name="Fabrique de Territoire",
        kind="grant",
        funder="ANCT",
        amount=D("50000.00"),
        committed_on=date(2026, 1, 5),
    )
    communication, animation, repair = activities(network, "Communication", "Animation", "Réparation")
    a, b, c, d = people
    statuses = [
        ContributionStatus.VALIDATED,
        ContributionStatus.PAID,
        ContributionStatus.REFUSED,
        ContributionStatus.SUBMITTED,
        ContributionStatus.AWAITING_CONFIRMATION,
        ContributionStatus.WITHDRAWN,
    ]
    rows = []
    # A spread of contributions over people, projects, months, statuses and activity sets, inside and
    # outside the period and the budget.
    for index in range(48):
        person = people[index % 4]
        where = (garden, workshop, letter)[(index // 5) % 3]
        acts = [(), [communication], [communication, animation], [animation, repair, communication]][
            (index // 2) % 4
        ]
        on = date(2026 - (index % 7 == 0), 1 + index % 12, 1 + index % 28)
        hours = None if index % 11 == 5 else f"{1 + index % 5}.{(index * 13) % 100:02d}"
        rows.append(
            contribution(
                where,
                person,
                on=on,
                hours=hours,
                status=statuses[index % len(statuses)] if index % 3 else ContributionStatus.VALIDATED,
                budget=fabrique if index % 5 else other,
                activities=acts,
                asked="30.00" if index % 2 else None,
                granted="25.00" if index % 2 and index % 3 else None,
                description=f"Tâche {index} par {person.first_name}",
                kind=ContributionKind.LENDING if hours is None else ContributionKind.TIME,
            )
        )
    # Payouts: in and out of the period, from this budget and another.
    coworking = credit_conversion(network, other_venue, "Journée de coworking")
    room = credit_conversion(network, venue, "Heure de salle")
    payouts = [
        payout(fabrique, a, "120.00", on=date(2026, 2, 1)),
        payout(fabrique, b, "80.50", on=date(2026, 6, 30)),
        payout(fabrique, c, "45.00", on=date(2026, 3, 3), conversion=coworking, quantity="3"),
        payout(fabrique, d, "30.00", on=date(2026, 4, 4), conversion=coworking, quantity="2"),
        payout(fabrique, a, "24.00", on=date(2026, 5, 5), conversion=room, quantity="4.5"),
        payout(fabrique, a, "999.00", on=date(2026, 7, 1)),  # after the period
        payout(other, b, "777.00", on=date(2026, 2, 2)),  # another budget
    ]
    return {"budget": fabrique, "other": other, "contributions": rows, "payouts": payouts}


def expected_for(rows, *, budget=None, start=START, end=END):
    kept = [
        r
        for r in rows
        if r.status in COUNTED
        and start <= r.performed_on <= end
        and (budget is None or r.budget_id == budget.pk)
    ]
    hours = sum((r.hours for r in kept if r.hours is not None), D(0))
    return kept, hours


def test_totals_equal_independent_sums(world):
    fabrique = world["budget"]
    report = funder.funder_report(network=fabrique.network, budget=fabrique, start=START, end=END)
    kept, hours = expected_for(world["contributions"], budget=fabrique)
    # The fixture leaves something in every row of the report.
    assert len(kept) > 5 and any(r.hours is None for r in kept)
    assert {r.project.slug for r in kept} == {"jardin", "atelier", "lettre"}
    assert {r.activities.count() for r in kept} == {0, 1, 2, 3}
    assert report.hourly_value == D("22.50")
    assert report.contributions == len(kept)
    assert report.contributors == len({r.contributor_id for r in kept})
    assert report.without_hours == sum(1 for r in kept if r.hours is None)
    assert report.total_hours == hours
    assert report.total_value == (hours * D("22.50")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert report.granted == sum((r.amount_granted for r in kept if r.amount_granted), D(0))
    # Every way of cutting the hours adds up to the total.
    assert sum((row.hours for row in report.by_activity), D(0)) == hours
    assert sum((row.hours for row in report.by_venue), D(0)) == hours
    assert sum((row.hours for row in report.by_month), D(0)) == hours
    assert [m.month for m in report.by_month] == [date(2026, m, 1) for m in range(1, 7)]
    for month in report.by_month:
        assert month.hours == sum(
            (r.hours for r in kept if r.hours and r.performed_on.month == month.month.month), D(0)
        )
    venues = {row.label: row.hours for row in report.by_venue}
    assert venues["La Coroutine"] == sum(
        (r.hours for r in kept if r.hours and r.project.slug == "jardin"), D(0)
    )
    assert venues["Projets du réseau MONSCOBAR"] == sum(
        (r.hours for r in kept if r.hours and r.project.slug == "lettre"), D(0)
    )
    # Contributions without an activity are counted apart, not dropped.
    unassigned = sum((r.hours for r in kept if r.hours and not r.activities.exists()), D(0))
    assert {row.label: row.hours for row in report.by_activity}.get(
        "Sans activité précisée", D(0)
    ) == unassigned
    # Payouts of the period from this budget only.
    assert report.euros_paid == D("200.50") and report.euros_payouts == 2
    assert report.credit_euros == D("99.00") and report.credit_payouts == 3
    credit = {(row.credit_type, row.venue): (row.euros, row.quantity) for row in report.credit}
    assert credit == {
        ("Journée de coworking", "Baraka"): (D("75.00"), D("5.00")),
        ("Heure de salle", "La Coroutine"): (D("24.00"), D("4.50")),
    }
    assert [s.name for s in report.sources] == ["Fabrique de Territoire"]


def test_activity_shares_are_exact(world, network):
    fabrique = world["budget"]
    report = funder.funder_report(network=network, budget=fabrique, start=START, end=END)
    kept, _hours = expected_for(world["contributions"], budget=fabrique)
    expected = {}
    for r in kept:
        if r.hours is None:
            continue
        names = sorted((a.name, a.pk) for a in r.activities.all()) or [("Sans activité précisée", 0)]
        cents = int(r.hours * 100)
        for index, (name, _pk) in enumerate(names):
            share = D(cents // len(names) + (1 if index < cents % len(names) else 0)) / 100
            expected[name] = expected.get(name, D(0)) + share
    assert {row.label: row.hours for row in report.by_activity} == expected


def test_network_report_covers_every_budget_and_an_override_rate(world, network):
    report = funder.funder_report(network=network, start=START, end=END, hourly_value=D("25"))
    kept, hours = expected_for(world["contributions"])
    assert report.budget is None and report.scope == "Réseau MONSCOBAR"
    assert report.contributions == len(kept) and report.total_hours == hours
    assert report.total_value == hours * 25
    assert report.euros_paid == D("977.50") and report.sources == []
    default = funder.funder_report(network=network, start=START, end=END)
    assert default.hourly_value == D("20.00")


def test_period_bounds_are_included(world, network):
    fabrique = world["budget"]
    one_day = date(2026, 3, 4)
    report = funder.funder_report(network=network, budget=fabrique, start=one_day, end=one_day)
    kept, hours = expected_for(world["contributions"], budget=fabrique, start=one_day, end=one_day)
    assert report.contributions == len(kept) and report.total_hours == hours
    assert len(report.by_month) == 1


def test_csv_reads_back_as_the_report(world, network):
    fabrique = world["budget"]
    report = funder.funder_report(
        network=network, budget=fabrique, start=START, end=END, hourly_value=D("30")
    )
    content = funder.funder_csv(report)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Rubrique", "Libellé", "Indicateur", "Valeur", "Unité"]
    figures = {(section, label, measure): value for section, label, measure, value, _unit in lines[1:]}

    def number(text):
        return D(text.replace(",", "."))

    whole = "Budget « Fabrique 2026 »"
    assert number(figures[("Synthèse", whole, "Heures")]) == report.total_hours
    assert number(figures[("Synthèse", whole, "Valorisation")]) == report.total_hours * 30
    assert number(figures[("Synthèse", whole, "Valeur horaire")]) == 30
    assert int(figures[("Synthèse", whole, "Contributeurs distincts")]) == report.contributors
    assert int(figures[("Synthèse", whole, "Contributions")]) == report.contributions
    assert number(figures[("Synthèse", whole, "Rétribué en euros")]) == D("200.50")
    assert number(figures[("Synthèse", whole, "Crédit émis")]) == D("99.00")
    assert figures[("Synthèse", whole, "Début de la période")] == "01/01/2026"
    for row in report.by_activity:
        assert number(figures[("Par activité", row.label, "Heures")]) == row.hours
    assert (
        sum(number(v) for (s, _l, m), v in figures.items() if s == "Par lieu" and m == "Heures")
        == report.total_hours
    )
    assert (
        sum(number(v) for (s, _l, m), v in figures.items() if s == "Par mois" and m == "Heures")
        == report.total_hours
    )
    assert number(figures[("Crédit émis", "Journée de coworking (Baraka)", "Quantité")]) == 5
    assert number(figures[("Financement", "Fabrique de Territoire (ANCT)", "Montant engagé")]) == 50000
    assert funder.file_name(report, "csv") == "rapport-fabrique-2026-20260101-20260630.csv"


def names_and_addresses(people):
    found = set()
    for person in people:
        found |= {person.email, person.get_full_name(), person.first_name}
    return found | {"Lutin vert"}


def test_report_names_nobody(world, network, people):
    fabrique = world["budget"]
    report = funder.funder_report(network=network, budget=fabrique, start=START, end=END)
    pdf = funder.funder_pdf(report)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\xa0", " ").split()
    )
    csv_text = funder.funder_csv(report).decode("utf-8-sig")
    html = render_html("contributions/funder_report.html", funder.context_of(report))
    assert "Rapport de contribution" in text and "Fabrique 2026" in text
    for secret in names_and_addresses(people):
        assert secret not in text and secret not in csv_text and secret not in html, secret
    # Descriptions can carry names too: none is printed.
    assert "Tâche" not in text and "Tâche" not in csv_text


def test_printed_report_shows_the_totals_and_a_chart(world, network):
    fabrique = world["budget"]
    report = funder.funder_report(network=network, budget=fabrique, start=START, end=END)
    html = render_html("contributions/funder_report.html", funder.context_of(report))
    assert html.count('class="column"') == 6
    assert "juin 2026 : " in html
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(funder.funder_pdf(report))).pages)
        .replace("\xa0", " ")
        .split()
    )
    hours_text = f"{report.total_hours.normalize():f}".replace(".", ",")
    assert f"{hours_text} h" in text
    assert "22,50 €" in text and "200,50 €" in text and "99,00 €" in text
    assert "1 janvier 2026" in text and "30 juin 2026" in text


def test_bad_requests_are_refused(world, network):
    fabrique = world["budget"]
    with pytest.raises(ValidationError) as backwards:
        funder.funder_report(network=network, budget=fabrique, start=END, end=START)
    assert backwards.value.code == "invalid_period"
    with pytest.raises(ValidationError) as too_long:
        funder.funder_report(network=network, start=date(2000, 1, 1), end=date(2026, 1, 1))
    assert too_long.value.code == "invalid_period"
    for rate in (D(0), D(-5), D("NaN"), D("Infinity"), D("100000")):
        with pytest.raises(ValidationError) as wrong_rate:
            funder.funder_report(network=network, budget=fabrique, start=START, end=END, hourly_value=rate)
        assert wrong_rate.value.code == "invalid_hourly_value"
    elsewhere = NetworkFactory(name="Ailleurs", slug="ailleurs")
    with pytest.raises(ValidationError) as foreign:
        funder.funder_report(network=elsewhere, budget=fabrique, start=START, end=END)
    assert foreign.value.code == "wrong_network"


def test_an_empty_period_gives_a_report_of_zeros(world, network):
    report = funder.funder_report(network=network, start=date(2030, 1, 1), end=date(2030, 3, 31))
    assert (report.contributions, report.contributors, report.total_hours, report.euros_paid) == (0, 0, 0, 0)
    assert [m.hours for m in report.by_month] == [0, 0, 0]
    assert funder.funder_pdf(report).startswith(b"%PDF-")
