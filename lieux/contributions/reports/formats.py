"""French formatting of the printed documents and files: they go to French bodies and French spreadsheets
whatever language the reader's interface uses. Pure functions."""

from datetime import date
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format

NBSP = "\u00a0"
CENT = Decimal("0.01")


def _grouped(value: Decimal, places: int | None) -> str:
    """Digits grouped by three with no-break spaces and a decimal comma; `places=None` drops the trailing
    zeros (12,5 rather than 12,50), as people write hours."""
    if places is None:
        text = format(value.quantize(CENT).normalize(), "f")
        if "." in text:
            whole, _dot, fraction = text.partition(".")
        else:
            whole, fraction = text, ""
    else:
        whole, _dot, fraction = f"{value:.{places}f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    grouped = sign + NBSP.join(groups)
    return f"{grouped},{fraction}" if fraction else grouped


def number(value: Decimal | int) -> str:
    """1 234,5 — for counts and credit quantities."""
    return _grouped(Decimal(value), None)


def hours(value: Decimal) -> str:
    """12,5 h · 3 h · 1 234,25 h"""
    return f"{_grouped(value, None)}{NBSP}h"


def euros(value: Decimal) -> str:
    """1 234,56 €"""
    return f"{_grouped(value, 2)}{NBSP}€"


def cell(value: Decimal | None) -> str:
    """A spreadsheet cell: decimal comma, cents always, no grouping (spreadsheets read 1234,50 as a
    number, not 1 234,50)."""
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",")


# A spreadsheet runs a cell that starts with one of these as a formula: text typed by people (descriptions,
# project or activity names) is quoted so that opening an export never runs anything.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def day(value: date) -> str:
    """31/12/2026, as in the project's other CSV files."""
    return value.strftime("%d/%m/%Y")


def long_day(value: date) -> str:
    """31 décembre 2026"""
    with translation.override("fr"):
        return date_format(value, "j F Y")


def month(value: date, *, with_year: bool = False) -> str:
    """« févr. » or « févr. 2026 » — the label under a column of a chart, and its title."""
    with translation.override("fr"):
        return date_format(value, "N Y" if with_year else "N")


def month_name(value: date) -> str:
    """février 2026"""
    with translation.override("fr"):
        return date_format(value, "F Y")
