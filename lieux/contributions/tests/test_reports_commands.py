"""`lieux contributions-reports`: the documents written from the command line, and clear refusals."""

import csv
import io
import json
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from lieux.cli import main
from lieux.contributions.models import ContributionStatus
from lieux.contributions.reports import certificate
from lieux.contributions.tests.reports_data import contribution, payout
from tests.contributions_data import activities, budget, project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def early_2027(monkeypatch):
    monkeypatch.setattr(certificate, "now", lambda: datetime(2027, 1, 15, 9, 0, tzinfo=UTC))


@pytest.fixture
def fabrique(network, venue, member, other_member):
    garden = project(network, "jardin", venue=venue, title="Jardin partagé")
    made = budget(network, "fabrique-2026", name="Fabrique 2026")
    (communication,) = activities(network, "Communication")
    contribution(garden, member, on=date(2026, 2, 1), hours="2.50", budget=made, activities=[communication])
    contribution(garden, member, on=date(2026, 3, 1), hours="10.00", budget=made)
    contribution(garden, other_member, on=date(2026, 3, 5), hours="4.00", budget=made)
    contribution(
        garden, member, on=date(2026, 3, 9), hours="8.00", budget=made, status=ContributionStatus.REFUSED
    )
    payout(made, member, "50.00", on=date(2026, 4, 1))
    return made


def run(*args: str) -> str:
    out = StringIO()
    call_command("contributions_reports", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_report_writes_the_pdf_and_the_csv(fabrique, tmp_path):
    pdf, sheet = tmp_path / "rapport.pdf", tmp_path / "rapport.csv"
    # As typed in a shell: the hyphenated command name and French decimal comma.
    out = run(
        "report", "--budget", "fabrique-2026", "--from", "2026-01-01", "--to", "2026-12-31",
        "--hourly-value", "25,50", "--pdf", str(pdf), "--csv", str(sheet),
    )  # fmt: skip
    assert "Validated contributions: 3; contributors: 2; hours: 16,5\xa0h" in out
    assert str(pdf) in out and str(sheet) in out
    lines = list(csv.reader(io.StringIO(sheet.read_bytes().decode("utf-8-sig")), delimiter=";"))
    figures = {(row[0], row[2]): row[3] for row in lines[1:]}
    assert figures[("Synthèse", "Heures")] == "16,50"
    assert figures[("Synthèse", "Valorisation")] == "420,75"
    assert figures[("Synthèse", "Rétribué en euros")] == "50,00"
    text = " ".join(
        PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text().replace("\xa0", " ").split()
    )
    assert "16,5 h" in text and "420,75 €" in text


def test_network_report_without_a_budget(fabrique, network, tmp_path):
    sheet = tmp_path / "reseau.csv"
    run(
        "report", "--network", network.slug, "--from", "2026-03-01", "--to", "2026-03-31", "--csv", str(sheet)
    )
    assert "Réseau MONSCOBAR" in sheet.read_bytes().decode("utf-8-sig")
    # With one network, saying which is optional.
    run("report", "--from", "2026-03-01", "--to", "2026-03-31", "--csv", str(sheet))


def test_certificate_and_its_verification(fabrique, member, tmp_path):
    pdf = tmp_path / "attestation.pdf"
    out = run("certificate", "--person", "MEMBRE@example.org", "--year", "2026", "--pdf", str(pdf))
    text = " ".join(
        PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text().replace("\xa0", " ").split()
    )
    assert "Camille Test" in text and "12,5 h" in text
    reference = out.split("reference ")[1].split()[0].rstrip(";")
    assert reference.startswith("ATT-2026-") and reference in text
    assert "Valid: Camille Test, 2026, 12,5\xa0h (validated contributions: 2)" in run("verify", reference)
    with pytest.raises(CommandError, match="No certificate matches"):
        run("verify", reference[:-1] + ("0" if reference[-1] != "0" else "1"))


def test_history_exports(fabrique, member, tmp_path):
    sheet, document = tmp_path / "h.csv", tmp_path / "h.json"
    out = run(
        "history", "--person", member.email, "--year", "2026", "--csv", str(sheet), "--json", str(document)
    )
    assert "3 contributions found" in out
    assert len(sheet.read_bytes().decode("utf-8-sig").strip().split("\r\n")) == 4
    assert [c["hours"] for c in json.loads(document.read_text())["contributions"]] == [
        "2.50",
        "10.00",
        "8.00",
    ]


YEAR = "--from 2026-01-01 --to 2026-12-31"
BUDGET = f"report --budget fabrique-2026 {YEAR}"
CERTIFICATE = "certificate --person membre@example.org --pdf {dir}/a.pdf"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (f"report --budget nope {YEAR} --csv {{dir}}/r.csv", "No budget"),
        (
            "report --budget fabrique-2026 --from 2026-12-31 --to 2026-01-01 --csv {dir}/r.csv",
            "ends before it",
        ),
        (BUDGET, "Say where to write"),
        (f"{BUDGET} --csv {{dir}}/missing/r.csv", "No directory"),
        (f"{BUDGET} --pdf {{dir}}/same --csv {{dir}}/same", "its own path"),
        (f"{BUDGET} --hourly-value 0 --csv {{dir}}/r.csv", "hourly value"),
        (f"{BUDGET} --hourly-value vingt --csv {{dir}}/r.csv", "not an amount"),
        ("report --budget fabrique-2026 --from 01/01/2026 --to 2026-12-31 --csv {dir}/r.csv", "not a date"),
        (f"report --network nowhere {YEAR} --csv {{dir}}/r.csv", "No network"),
        ("certificate --person nobody@example.org --year 2026 --pdf {dir}/a.pdf", "Nobody has the e-mail"),
        (f"{CERTIFICATE} --year 2024", "no validated contribution"),
        (f"{CERTIFICATE} --year 2031", "past or current"),
        (f"{CERTIFICATE} --year 26", "not a year"),
        ("verify ATT-what", "looks like"),
    ],
)
def test_bad_input_stops_with_a_message_and_writes_nothing(fabrique, tmp_path, command, message):
    args = command.format(dir=tmp_path).split()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_lieux_command_exits_non_zero_on_bad_input(fabrique, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(f"contributions-reports report --budget nope {YEAR} --csv {tmp_path}/r.csv".split())
    assert stopped.value.code != 0
    assert "No budget with the slug 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as misspelt:
        main(
            [
                "contributions-reports",
                "report",
                "--budget",
                "fabrique-2026",
                "--from",
                "hier",
                "--to",
                "2026-12-31",
            ]
        )
    assert misspelt.value.code != 0
    assert "not a date" in capsys.readouterr().err
