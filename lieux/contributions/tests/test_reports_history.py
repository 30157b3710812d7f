"""A person's contribution history and its CSV and JSON exports."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest

from lieux.contributions.models import ContributionKind, ContributionStatus
from lieux.contributions.reports.history import (
    CSV_HEADERS,
    file_name,
    history_csv,
    history_json,
    person_history,
)
from lieux.contributions.tests.reports_data import contribution, credit_conversion, payout
from tests.contributions_data import activities, budget, project

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def history(network, venue, other_venue, member, other_member):
    garden = project(network, "jardin", venue=venue, title="Jardin partagé")
    network_wide = project(network, "newsletter", title="Lettre du réseau")
    fabrique = budget(network, "fabrique-2026", name="Fabrique 2026")
    communication, animation = activities(network, "Communication", "Animation")
    conversion = credit_conversion(network, other_venue, "Journée de coworking")
    paid = payout(fabrique, member, "45.00", on=date(2026, 3, 2), conversion=conversion, quantity="3")
    rows = [
        contribution(
            garden,
            member,
            on=date(2026, 2, 1),
            hours="2.50",
            budget=fabrique,
            activities=[communication, animation],
            asked="60.00",
            granted="45.00",
            status=ContributionStatus.PAID,
            payout=paid,
            description="Newsletter de février; « relue » par l'équipe",
        ),
        contribution(
            network_wide,
            member,
            on=date(2026, 1, 10),
            hours=None,
            kind=ContributionKind.LENDING,
            description='=HYPERLINK("https://example.org")',
        ),
        contribution(
            garden,
            member,
            on=date(2026, 4, 5),
            hours="1.00",
            status=ContributionStatus.REFUSED,
            asked="20.00",
        ),
        contribution(
            garden, member, on=date(2025, 12, 20), hours="3.00", status=ContributionStatus.SUBMITTED
        ),
        # Someone else's: never in the member's history.
        contribution(garden, other_member, on=date(2026, 2, 1), hours="9.00"),
    ]
    return rows


def test_history_lists_every_status_of_the_person_oldest_first(history, member):
    rows = person_history(member)
    assert [row.id for row in rows] == [history[3].pk, history[1].pk, history[0].pk, history[2].pk]
    assert {row.status for row in rows} == {"submitted", "validated", "paid", "refused"}
    first_paid = rows[2]
    assert first_paid.project == "Jardin partagé" and first_paid.venue == "La Coroutine"
    assert first_paid.activities == ("Animation", "Communication")
    assert first_paid.paid_with == "credit" and first_paid.paid_on == date(2026, 3, 2)
    assert first_paid.credit_quantity == D("3") and first_paid.credit_type == "Journée de coworking (Baraka)"
    assert rows[1].venue is None and rows[1].network == "MONSCOBAR" and rows[1].hours is None


def test_history_of_one_year(history, member):
    assert [row.performed_on.year for row in person_history(member, 2025)] == [2025]
    assert len(person_history(member, 2026)) == 3
    assert person_history(member, 2024) == []


def test_csv_is_french_spreadsheet_csv_and_reads_back_as_the_data(history, member):
    rows = person_history(member)
    content = history_csv(rows)
    assert content.startswith(b"\xef\xbb\xbf")  # a byte-order mark, as the accounting exports
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert tuple(parsed[0]) == CSV_HEADERS
    assert parsed[0][:3] == ["Date", "Projet", "Lieu"] and "Montant demandé (€)" in parsed[0]
    records = [dict(zip(parsed[0], line, strict=True)) for line in parsed[1:]]
    assert len(records) == len(rows)

    def number(cell):
        return D(cell.replace(",", ".")) if cell else None

    def text(cell):
        # What the spreadsheet shows: a leading apostrophe only marks text that would run as a formula.
        return cell[1:] if cell.startswith("'=") else cell

    for record, row in zip(records, rows, strict=True):
        day, month, year = record["Date"].split("/")
        assert date(int(year), int(month), int(day)) == row.performed_on
        assert record["Projet"] == row.project
        assert record["Lieu"] == (row.venue or row.network)
        assert record["Budget"] == (row.budget or "")
        assert tuple(filter(None, record["Activités"].split(", "))) == row.activities
        assert number(record["Heures"]) == row.hours
        assert text(record["Description"]) == row.description
        assert number(record["Montant demandé (€)"]) == row.amount_asked
        assert number(record["Montant accordé (€)"]) == row.amount_granted
        assert number(record["Crédit reçu"]) == row.credit_quantity
        assert bool(record["Rétribution"]) == (row.paid_with is not None)
    assert records[1]["Description"] == '\'=HYPERLINK("https://example.org")'
    paid = records[2]
    assert paid["Heures"] == "2,50" and paid["Rétribuée le"] == "02/03/2026"
    assert paid["Statut"] and paid["Nature"]


def test_json_has_iso_dates_and_exact_decimal_strings(history, member):
    rows = person_history(member, 2026)
    document = json.loads(history_json(member, rows, year=2026))
    assert set(document) == {"person", "year", "exported_at", "contributions"}
    assert document["person"] == {"name": "Camille Test", "email": "membre@example.org"}
    assert document["year"] == 2026
    assert document["exported_at"][:4].isdigit() and "T" in document["exported_at"]
    keys = {
        "id", "performed_on", "project", "venue", "network", "budget", "kind", "activities", "hours",
        "description", "amount_asked", "amount_granted", "status", "payout",
    }  # fmt: skip
    for record, row in zip(document["contributions"], rows, strict=True):
        assert set(record) == keys
        assert date.fromisoformat(record["performed_on"]) == row.performed_on
        assert record["hours"] is None or D(record["hours"]) == row.hours
        assert isinstance(record["activities"], list)
        assert record["kind"] in ContributionKind.values and record["status"] in ContributionStatus.values
    paid = next(r for r in document["contributions"] if r["status"] == "paid")
    assert paid["hours"] == "2.50" and paid["amount_asked"] == "60.00" and paid["amount_granted"] == "45.00"
    assert paid["payout"] == {
        "method": "credit",
        "paid_on": "2026-03-02",
        "credit_quantity": "3.00",
        "credit_type": "Journée de coworking (Baraka)",
    }
    lent = next(r for r in document["contributions"] if r["kind"] == "lending")
    assert lent["hours"] is None and lent["venue"] is None and lent["payout"] is None


def test_empty_history_still_has_its_header(member):
    text = history_csv([]).decode("utf-8-sig")
    assert text.strip() == ";".join(CSV_HEADERS)
    assert json.loads(history_json(member, []))["contributions"] == []


def test_export_file_names_carry_no_personal_data():
    assert file_name(2026, "csv") == "contributions-2026.csv"
    assert file_name(None, "json") == "contributions.json"
