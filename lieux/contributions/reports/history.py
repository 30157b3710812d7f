"""A person's contribution history and its exports.

`person_history` is the selector; `history_csv` and `history_json` turn its rows into files. Every status
is listed (a refused or withdrawn request is part of the person's history too), oldest first.

The CSV is for French spreadsheets like the project's accounting exports: UTF-8 with a byte-order mark,
semicolons, decimal commas, dates as 31/12/2026, French headers that do not change with the interface
language (a spreadsheet built on them keeps working), and text that would start a formula quoted with an
apostrophe. The JSON is for programs: English keys, ISO 8601 dates, amounts and hours as decimal strings
("12.50") so no float ever rounds them.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import translation

from lieux.accounts.models import User
from lieux.contributions.models import Contribution, ContributionKind, ContributionStatus, PayoutMethod
from lieux.contributions.reports import formats
from lieux.core.time import now


@dataclass(frozen=True)
class HistoryRow:
    id: int
    performed_on: date
    project: str
    venue: str | None  # None: a project of the whole network
    network: str
    budget: str | None
    kind: str
    activities: tuple[str, ...]
    hours: Decimal | None
    description: str
    amount_asked: Decimal | None
    amount_granted: Decimal | None
    status: str
    paid_with: str | None  # "euros" or "credit"; None until paid
    paid_on: date | None
    credit_quantity: Decimal | None
    credit_type: str | None


def person_history(person: User, year: int | None = None) -> list[HistoryRow]:
    """Everything `person` contributed (in `year` only when given), oldest first."""
    contributions = (
        Contribution.objects.filter(contributor=person)
        .select_related(
            "project__venue", "project__network", "budget", "payout__conversion__credit_type__venue"
        )
        .prefetch_related("activities")
        .order_by("performed_on", "pk")
    )
    if year is not None:
        contributions = contributions.filter(performed_on__year=year)
    rows = []
    for contribution in contributions:
        payout = contribution.payout
        conversion = payout.conversion if payout is not None else None
        rows.append(
            HistoryRow(
                id=contribution.pk,
                performed_on=contribution.performed_on,
                project=contribution.project.title,
                venue=contribution.project.venue.name if contribution.project.venue else None,
                network=contribution.project.network.name,
                budget=contribution.budget.name if contribution.budget else None,
                kind=contribution.kind,
                activities=tuple(sorted(a.name for a in contribution.activities.all())),
                hours=contribution.hours,
                description=contribution.description,
                amount_asked=contribution.amount_asked,
                amount_granted=contribution.amount_granted,
                status=contribution.status,
                paid_with=payout.method if payout else None,
                paid_on=payout.paid_on if payout else None,
                credit_quantity=payout.credit_quantity if payout else None,
                credit_type=(
                    f"{conversion.credit_type.name} ({conversion.credit_type.venue.name})"
                    if conversion
                    else None
                ),
            )
        )
    return rows


# CSV ---------------------------------------------------------------------------------------------------

CSV_HEADERS = (
    "Date",
    "Projet",
    "Lieu",
    "Budget",
    "Nature",
    "Activités",
    "Heures",
    "Description",
    "Montant demandé (€)",
    "Montant accordé (€)",
    "Statut",
    "Rétribution",
    "Rétribuée le",
    "Crédit reçu",
    "Type de crédit",
)
ACTIVITY_SEPARATOR = ", "


def _label(choices: Any, value: str | None) -> str:
    if not value:
        return ""
    with translation.override("fr"):
        return str(choices(value).label)


def csv_cells(row: HistoryRow) -> list[str]:
    """One row of the CSV, in the order of CSV_HEADERS."""
    return [
        formats.day(row.performed_on),
        formats.text_cell(row.project),
        formats.text_cell(row.venue or row.network),
        formats.text_cell(row.budget or ""),
        _label(ContributionKind, row.kind),
        formats.text_cell(ACTIVITY_SEPARATOR.join(row.activities)),
        formats.cell(row.hours),
        formats.text_cell(row.description),
        formats.cell(row.amount_asked),
        formats.cell(row.amount_granted),
        _label(ContributionStatus, row.status),
        _label(PayoutMethod, row.paid_with),
        formats.day(row.paid_on) if row.paid_on else "",
        formats.cell(row.credit_quantity),
        formats.text_cell(row.credit_type or ""),
    ]


def history_csv(rows: list[HistoryRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    writer.writerows(csv_cells(row) for row in rows)
    # With a byte-order mark, spreadsheets open the file as UTF-8.
    return out.getvalue().encode("utf-8-sig")


# JSON --------------------------------------------------------------------------------------------------


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def json_record(row: HistoryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "performed_on": row.performed_on.isoformat(),
        "project": row.project,
        "venue": row.venue,
        "network": row.network,
        "budget": row.budget,
        "kind": row.kind,
        "activities": list(row.activities),
        "hours": _decimal(row.hours),
        "description": row.description,
        "amount_asked": _decimal(row.amount_asked),
        "amount_granted": _decimal(row.amount_granted),
        "status": row.status,
        "payout": None
        if row.paid_with is None
        else {
            "method": row.paid_with,
            "paid_on": row.paid_on.isoformat() if row.paid_on else None,
            "credit_quantity": _decimal(row.credit_quantity),
            "credit_type": row.credit_type,
        },
    }


def history_json(person: User, rows: list[HistoryRow], *, year: int | None = None) -> bytes:
    document = {
        "person": {"name": person.get_full_name(), "email": person.email},
        "year": year,
        "exported_at": now().isoformat(),
        "contributions": [json_record(row) for row in rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def file_name(year: int | None, extension: str) -> str:
    """contributions-2026.csv: no name or address in a file name that travels in mail headers."""
    return f"contributions-{year}.{extension}" if year else f"contributions.{extension}"
