"""The yearly certificate of volunteer hours (« Attestation de contribution bénévole »).

One certificate per person, network and calendar year, issued by the network, listing the hours by venue,
project and activity. Only contributions the peers validated count (validated, or validated then paid);
declared, awaiting, refused and withdrawn ones never appear. A contribution linked to several activities
shares its hours equally between them (rules.split_hours), so the lines add up to the total.

The certificate carries a verification reference, ATT-<year>-<network>-<person>-<fingerprint>: whoever
receives it can ask the network, which recomputes the fingerprint from its records (`verify`). Built on
request and never stored: the records are the original.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.models import Contribution, ContributionStatus
from lieux.contributions.reports import formats, rules
from lieux.contributions.reports.pdf import render_pdf
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.venues.models import Network, Venue

# What the peers accepted. A paid contribution was validated first, then paid.
COUNTED_STATUSES = (ContributionStatus.VALIDATED, ContributionStatus.PAID)
NO_ACTIVITY = "Sans activité précisée"
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Line:
    project: str
    activity: str
    hours: Decimal


@dataclass(frozen=True)
class VenueHours:
    """The hours given at one venue (or to the network's own projects when `venue` is None)."""

    venue: Venue | None
    name: str
    lines: list[Line]
    hours: Decimal


@dataclass(frozen=True)
class Certificate:
    network: Network
    person: User
    year: int
    venues: list[VenueHours]
    total_hours: Decimal
    paid_hours: Decimal  # of which rétribuées, in euros or credit: said plainly on the certificate
    contributions: int  # validated contributions counted, with or without hours
    without_hours: int  # validated contributions with no duration (a tool lent…)
    reference: rules.Reference
    issued_on: date


def check_year(year: int, *, today: date) -> None:
    if not FIRST_YEAR <= year <= today.year:
        raise ValidationError(
            _("A certificate covers a past or current calendar year, from %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": today.year},
            code="invalid_year",
        )


def network_of(person: User, year: int, network: Network | None) -> Network:
    """The network that issues the certificate: the one given, or the only one the person's validated
    contributions of the year belong to."""
    if network is not None:
        return network
    ids = set(
        Contribution.objects.filter(
            contributor=person, status__in=COUNTED_STATUSES, performed_on__year=year
        ).values_list("project__network_id", flat=True)
    )
    if len(ids) > 1:
        raise ValidationError(
            _("These contributions belong to several networks: say which network issues the certificate."),
            code="network_required",
        )
    if not ids:
        raise nothing_to_certify(person, year)
    return Network.objects.get(pk=ids.pop())


def nothing_to_certify(person: User, year: int) -> ValidationError:
    return ValidationError(
        _("%(person)s has no validated contribution in %(year)s.")
        % {"person": person.get_full_name() or person.email, "year": year},
        code="nothing_to_certify",
    )


def _counted(person: User, year: int, network: Network) -> list[Contribution]:
    return list(
        Contribution.objects.filter(
            contributor=person,
            status__in=COUNTED_STATUSES,
            performed_on__year=year,
            project__network=network,
        )
        .select_related("project__venue")
        .prefetch_related("activities")
        .order_by("performed_on", "pk")
    )


def _items(contributions: list[Contribution]) -> list[rules.CertifiedItem]:
    return [
        rules.CertifiedItem(
            contribution_id=c.pk,
            performed_on=c.performed_on,
            hours=c.hours,
            project_id=c.project_id,
            activity_ids=tuple(a.pk for a in c.activities.all()),
        )
        for c in contributions
    ]


def build(person: User, year: int, network: Network, contributions: list[Contribution]) -> Certificate:
    hours: dict[int | None, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    venues: dict[int | None, Venue | None] = {}
    paid = rules.ZERO
    without_hours = 0
    for contribution in contributions:
        project = contribution.project
        venues[project.venue_id] = project.venue
        if contribution.hours is None:
            without_hours += 1
            continue
        if contribution.status == ContributionStatus.PAID or contribution.payout_id is not None:
            paid += contribution.hours
        names = sorted((a.name, a.pk) for a in contribution.activities.all()) or [(NO_ACTIVITY, 0)]
        shares = rules.split_hours(contribution.hours, len(names))
        for (activity, _pk), share in zip(names, shares, strict=True):
            hours[project.venue_id][(project.title, activity)] += share
    blocks = []
    for venue_id, lines in hours.items():
        venue = venues[venue_id]
        block_lines = [Line(p, a, h) for (p, a), h in sorted(lines.items())]
        blocks.append(
            VenueHours(
                venue=venue,
                name=venue.name if venue else f"Projets du réseau {network.name}",
                lines=block_lines,
                hours=rules.total([line.hours for line in block_lines]),
            )
        )
    # Venues by name, the network's own projects last.
    blocks.sort(key=lambda b: (b.venue is None, b.name))
    digest = rules.certificate_digest(
        network_id=network.pk, person_id=person.pk, year=year, items=_items(contributions)
    )
    return Certificate(
        network=network,
        person=person,
        year=year,
        venues=blocks,
        total_hours=rules.total([b.hours for b in blocks]),
        paid_hours=paid,
        contributions=len(contributions),
        without_hours=without_hours,
        reference=rules.Reference(year=year, network_id=network.pk, person_id=person.pk, digest=digest),
        issued_on=timezone.localdate(now()),
    )


def certificate_for(*, person: User, year: int, network: Network | None = None) -> Certificate:
    """The certificate of `person`'s validated contributions in calendar `year`."""
    check_year(year, today=timezone.localdate(now()))
    network = network_of(person, year, network)
    contributions = _counted(person, year, network)
    if not contributions:
        raise nothing_to_certify(person, year)
    return build(person, year, network, contributions)


@dataclass(frozen=True)
class Verification:
    reference: str
    person_name: str
    network: str
    year: int
    total_hours: Decimal
    contributions: int


def verify(reference: str) -> Verification | None:
    """What the network can confirm about a certificate's reference: None when no certificate with this
    reference could be issued today from the records (a mistyped, invented or outdated reference). The
    person's name is given only on a match, so guessing references reveals nobody."""
    parsed = rules.parse_reference(reference)
    if parsed is None:
        raise ValidationError(_("A reference looks like ATT-2026-1-42-3F9A1C0B7D."), code="invalid_reference")
    person = User.objects.filter(pk=parsed.person_id).first()
    network = Network.objects.filter(pk=parsed.network_id).first()
    if person is None or network is None:
        return None
    contributions = _counted(person, parsed.year, network)
    if not contributions:
        return None
    certificate = build(person, parsed.year, network, contributions)
    if certificate.reference != parsed:
        return None
    return Verification(
        reference=str(certificate.reference),
        person_name=person.get_full_name() or person.email,
        network=network.name,
        year=parsed.year,
        total_hours=certificate.total_hours,
        contributions=certificate.contributions,
    )


# The printed certificate ---------------------------------------------------------------------------------


def context_of(certificate: Certificate) -> dict[str, Any]:
    person = certificate.person
    # A certificate of the current year covers the days gone by, not the year to come.
    last_day = min(date(certificate.year, 12, 31), certificate.issued_on)
    return {
        "network": certificate.network.name,
        "person": person.get_full_name() or person.email,
        "year": certificate.year,
        "until": formats.long_day(last_day),
        "total_hours": formats.hours(certificate.total_hours),
        "paid_hours": formats.hours(certificate.paid_hours) if certificate.paid_hours else "",
        "without_hours": certificate.without_hours,
        "contributions": certificate.contributions,
        "venues": [
            {
                "name": block.name,
                "legal": ", ".join(part for part in (block.venue.legal_name, block.venue.city) if part)
                if block.venue
                else "",
                "hours": formats.hours(block.hours),
                "lines": [
                    {
                        # A project's name once, on its first line: the lines below are its activities.
                        "project": line.project
                        if index == 0 or block.lines[index - 1].project != line.project
                        else "",
                        "activity": line.activity,
                        "hours": formats.hours(line.hours),
                    }
                    for index, line in enumerate(block.lines)
                ],
            }
            for block in certificate.venues
        ],
        "reference": str(certificate.reference),
        "issued_on": formats.long_day(certificate.issued_on),
    }


def certificate_pdf(certificate: Certificate) -> bytes:
    return render_pdf("contributions/certificate.html", context_of(certificate))


def file_name(certificate: Certificate) -> str:
    return f"attestation-contribution-{certificate.year}.pdf"
