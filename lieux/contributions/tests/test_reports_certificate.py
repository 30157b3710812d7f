"""The yearly certificate of volunteer hours: what it counts, what it prints, and its verification."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from lieux.contributions.models import ContributionKind, ContributionStatus
from lieux.contributions.reports import certificate
from lieux.contributions.tests.reports_data import contribution, payout
from lieux.core.errors import ValidationError
from tests.contributions_data import activities, budget, project
from tests.factories import NetworkFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def early_2027(monkeypatch):
    monkeypatch.setattr(certificate, "now", lambda: datetime(2027, 1, 15, 9, 0, tzinfo=UTC))


@pytest.fixture
def year_of_work(network, venue, other_venue, member, other_member):
    garden = project(network, "jardin", venue=venue, title="Jardin partagé")
    workshop = project(network, "atelier", venue=other_venue, title="Atelier vélo")
    letter = project(network, "lettre", title="Lettre du réseau")
    declined = project(network, "refuse", venue=venue, title="Projet refusé")
    waiting = project(network, "attente", venue=venue, title="Projet en attente")
    fabrique = budget(network)
    communication, animation, repair = activities(network, "Communication", "Animation", "Réparation")
    paid = payout(fabrique, member, "30.00", on=date(2026, 7, 1))
    return {
        "counted": [
            contribution(
                garden, member, on=date(2026, 2, 1), hours="2.50", activities=[communication, animation]
            ),
            contribution(garden, member, on=date(2026, 3, 1), hours="4.00", activities=[animation]),
            contribution(
                workshop,
                member,
                on=date(2026, 6, 1),
                hours="3.00",
                activities=[repair],
                status=ContributionStatus.PAID,
                payout=paid,
                budget=fabrique,
            ),
            contribution(letter, member, on=date(2026, 12, 31), hours="3.00"),
            contribution(letter, member, on=date(2026, 5, 1), hours=None, kind=ContributionKind.LENDING),
        ],
        "left_out": [
            contribution(
                declined, member, on=date(2026, 4, 1), hours="7.25", status=ContributionStatus.REFUSED
            ),
            contribution(
                waiting,
                member,
                on=date(2026, 4, 2),
                hours="8.75",
                status=ContributionStatus.AWAITING_CONFIRMATION,
            ),
            contribution(
                waiting, member, on=date(2026, 4, 3), hours="6.75", status=ContributionStatus.SUBMITTED
            ),
            contribution(
                waiting, member, on=date(2026, 4, 4), hours="5.50", status=ContributionStatus.WITHDRAWN
            ),
            contribution(garden, member, on=date(2025, 12, 31), hours="11.00"),  # another year
            contribution(garden, member, on=date(2027, 1, 1), hours="13.00"),
            contribution(garden, other_member, on=date(2026, 2, 1), hours="17.00"),  # another person
        ],
    }


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split())


def test_certificate_counts_the_validated_hours_of_the_year_only(year_of_work, member):
    made = certificate.certificate_for(person=member, year=2026)
    assert made.total_hours == D("12.50")
    assert made.contributions == 5 and made.without_hours == 1
    assert made.paid_hours == D("3.00")
    assert made.issued_on == date(2027, 1, 15)
    assert certificate.file_name(made) == "attestation-contribution-2026.pdf"
    by_venue = {block.name: block for block in made.venues}
    assert list(by_venue) == ["Baraka", "La Coroutine", "Projets du réseau MONSCOBAR"]
    lines = {(line.project, line.activity): line.hours for line in by_venue["La Coroutine"].lines}
    # 2,5 h shared between two activities, plus 4 h of Animation.
    assert lines == {
        ("Jardin partagé", "Animation"): D("5.25"),
        ("Jardin partagé", "Communication"): D("1.25"),
    }
    assert by_venue["Projets du réseau MONSCOBAR"].lines[0].activity == "Sans activité précisée"
    assert sum((block.hours for block in made.venues), D(0)) == made.total_hours


def test_printed_certificate_names_the_person_the_year_and_the_total(year_of_work, member):
    made = certificate.certificate_for(person=member, year=2026)
    pdf = certificate.certificate_pdf(made)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Attestation de contribution bénévole" in text
    assert "Camille Test" in text and "Année 2026" in text
    assert "12,5 h" in text and "5,25 h" in text
    assert "MONSCOBAR" in text and "Association La Coroutine" in text
    assert str(made.reference) in text and "15 janvier 2027" in text
    assert "Dont 3 h ayant donné lieu à une rétribution" in text
    for absent in (
        "Projet refusé",
        "Projet en attente",
        "7,25",
        "8,75",
        "6,75",
        "5,5 h",
        "11 h",
        "13 h",
        "17 h",
    ):
        assert absent not in text, absent
    assert "1er janvier 2026 au 31 décembre 2026" in text.replace("1 er", "1er")
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert "2026" in metadata.title and metadata.author == "MONSCOBAR"


def test_reference_verifies_until_the_facts_change(year_of_work, member, network, venue):
    made = certificate.certificate_for(person=member, year=2026)
    reference = str(made.reference)
    assert reference.startswith(f"ATT-2026-{network.pk}-{member.pk}-")
    # Issued again later, the same facts give the same reference.
    assert str(certificate.certificate_for(person=member, year=2026).reference) == reference
    found = certificate.verify(reference.lower())
    assert found is not None
    assert (found.person_name, found.year, found.total_hours, found.network) == (
        "Camille Test",
        2026,
        D("12.50"),
        "MONSCOBAR",
    )
    # A validated status turning into paid changes nothing certified…
    first = year_of_work["counted"][0]
    first.status = ContributionStatus.PAID
    first.save()
    assert certificate.verify(reference) is not None
    # …a change of hours does.
    first.hours = D("3.00")
    first.save()
    assert certificate.verify(reference) is None
    assert str(certificate.certificate_for(person=member, year=2026).reference) != reference


def test_unknown_or_forged_references_reveal_nobody(year_of_work, member, network):
    made = certificate.certificate_for(person=member, year=2026)
    digest = made.reference.digest
    forged = "0000000000" if digest != "0000000000" else "1111111111"
    assert certificate.verify(f"ATT-2026-{network.pk}-{member.pk}-{forged}") is None
    assert certificate.verify(f"ATT-2025-{network.pk}-{member.pk}-{digest}") is None
    assert certificate.verify(f"ATT-2026-{network.pk}-999999-{digest}") is None
    assert certificate.verify(f"ATT-2026-999999-{member.pk}-{digest}") is None
    with pytest.raises(ValidationError) as error:
        certificate.verify("not a reference")
    assert error.value.code == "invalid_reference"


def test_no_certificate_without_validated_hours_or_for_a_year_to_come(year_of_work, member, stranger):
    with pytest.raises(ValidationError) as nothing:
        certificate.certificate_for(person=stranger, year=2026)
    assert nothing.value.code == "nothing_to_certify"
    with pytest.raises(ValidationError) as nothing_then:
        certificate.certificate_for(person=member, year=2024)
    assert nothing_then.value.code == "nothing_to_certify"
    with pytest.raises(ValidationError) as future:
        certificate.certificate_for(person=member, year=2028)
    assert future.value.code == "invalid_year"


def test_the_issuing_network_must_be_named_when_there_are_several(year_of_work, member):
    elsewhere = NetworkFactory(name="Autre réseau", slug="autre")
    contribution(project(elsewhere, "ailleurs"), member, on=date(2026, 9, 1), hours="1.00")
    with pytest.raises(ValidationError) as error:
        certificate.certificate_for(person=member, year=2026)
    assert error.value.code == "network_required"
    there = certificate.certificate_for(person=member, year=2026, network=elsewhere)
    assert there.total_hours == D("1.00") and there.network == elsewhere


def test_a_person_without_a_name_is_named_by_their_address(network, venue):
    nameless = UserFactory(email="sans.nom@example.org", first_name="", last_name="")
    contribution(project(network, "jardin", venue=venue), nameless, on=date(2026, 2, 1), hours="1.00")
    text = text_of(certificate.certificate_pdf(certificate.certificate_for(person=nameless, year=2026)))
    assert "sans.nom@example.org" in text and "1 h" in text


def test_a_certificate_of_the_current_year_stops_at_its_issue_date(year_of_work, member):
    text = text_of(certificate.certificate_pdf(certificate.certificate_for(person=member, year=2027)))
    assert "janvier 2027 au 15 janvier 2027" in text and "13 h" in text
    assert "12,5 h" not in text
