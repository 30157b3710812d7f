"""The arithmetic of the reports: no ORM, no clock, no I/O."""

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lieux.core.money import CENT, ZERO, cents


def split_hours(hours: Decimal, parts: int) -> list[Decimal]:
    """Share a contribution's hours equally between its `parts` activities, to the hundredth of an hour,
    the leftover hundredths going to the first parts: the shares add up to the hours exactly, so hours by
    activity add up to the total hours of a report."""
    if parts < 1:
        raise ValueError("a contribution's hours go to at least one part")
    hundredths = int((hours.quantize(CENT) * 100).to_integral_value())
    base, rest = divmod(hundredths, parts)
    return [Decimal(base + (1 if index < rest else 0)) / 100 for index in range(parts)]


def valued(hours: Decimal, hourly_value: Decimal) -> Decimal:
    """What `hours` are worth for a funder at `hourly_value` euros an hour, to the cent (half-up, as every
    amount of the platform)."""
    return cents(hours * hourly_value)


def months_between(start: date, end: date) -> list[date]:
    """The first day of every calendar month that [start, end] touches, in order."""
    months = []
    current = date(start.year, start.month, 1)
    while current <= end:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


# The certificate's verification reference -------------------------------------------------------------

REFERENCE_PREFIX = "ATT"
DIGEST_LENGTH = 10
REFERENCE_PATTERN = re.compile(rf"{REFERENCE_PREFIX}-(\d{{4}})-(\d+)-(\d+)-([0-9A-F]{{{DIGEST_LENGTH}}})")


@dataclass(frozen=True)
class CertifiedItem:
    """What a certificate says about one contribution: changing any of it changes the reference."""

    contribution_id: int
    performed_on: date
    hours: Decimal | None
    project_id: int
    activity_ids: tuple[int, ...]


@dataclass(frozen=True)
class Reference:
    year: int
    network_id: int
    person_id: int
    digest: str

    def __str__(self) -> str:
        return f"{REFERENCE_PREFIX}-{self.year}-{self.network_id}-{self.person_id}-{self.digest}"


def certificate_digest(*, network_id: int, person_id: int, year: int, items: Iterable[CertifiedItem]) -> str:
    """A short fingerprint of what a certificate certifies. The network recomputes it from its records to
    confirm a printed certificate; it does not depend on the issue date, so two copies of the same facts
    carry the same reference, and any later change to those facts makes the old reference fail."""
    lines = [f"certificate-v1|{network_id}|{person_id}|{year}"]
    for item in sorted(items, key=lambda i: i.contribution_id):
        hours = "" if item.hours is None else f"{item.hours.quantize(CENT)}"
        activities = ",".join(str(a) for a in sorted(item.activity_ids))
        lines.append(
            f"{item.contribution_id}|{item.performed_on.isoformat()}|{hours}|{item.project_id}|{activities}"
        )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:DIGEST_LENGTH].upper()


def parse_reference(text: str) -> Reference | None:
    """ATT-2026-1-42-3F9A1C0B7D → its parts; None when the text is not shaped like a reference. Spaces
    and lower case, as people retype it, are forgiven."""
    match = REFERENCE_PATTERN.fullmatch(re.sub(r"\s+", "", text).upper())
    if match is None:
        return None
    return Reference(year=int(match[1]), network_id=int(match[2]), person_id=int(match[3]), digest=match[4])


def total(values: Sequence[Decimal]) -> Decimal:
    return sum(values, ZERO)
