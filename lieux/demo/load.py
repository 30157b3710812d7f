"""Load the demo network described in `network.py`. Idempotent: rows are found by their natural keys
(slugs, e-mail addresses, names) and bookings by resource, start and title, so a second run in the same
week adds nothing.

Venues, resources and people are reference data written directly; bookings go through the booking
services, so every rule and guard of the platform applies to them. A booking that no longer fits (a
public holiday, a slot taken meanwhile) is skipped and counted, never fatal.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TextIO

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.accounts.models import Organisation, User
from lieux.booking.models import Booking, ConflictPolicy
from lieux.booking.rules import Recurrence
from lieux.booking.services import approve_booking, cancel_booking, create_booking, create_series
from lieux.core.errors import DomainError
from lieux.core.time import NonExistentLocalTime, localize, now
from lieux.demo import network as data
from lieux.demo.load_contributions import load_contributions
from lieux.demo.load_interlieux import load_interlieux
from lieux.demo.load_offers import load_offers
from lieux.venues import rules as venue_rules
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import (
    Closure,
    Network,
    OpeningHours,
    Resource,
    ResourcePrice,
    Role,
    Venue,
    VenueRole,
)


@dataclass
class VenueReport:
    name: str
    resources: int = 0
    bookings: int = 0
    created: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason code → count


@dataclass
class Login:
    role: str
    email: str
    name: str
    venues: str
    about: str = ""


@dataclass
class Report:
    venues: list[VenueReport] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def ensure_person(person: data.Person, **flags: bool) -> User:
    """The password is set only when the account is created: a second run leaves accounts as they are."""
    user, created = User.objects.get_or_create(
        email=person.email,
        defaults={
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": person.phone,
            **flags,
        },
    )
    if created:
        user.set_password(data.PASSWORD)
        user.save(update_fields=["password"])
    elif any(getattr(user, name) != value for name, value in flags.items()):
        for name, value in flags.items():
            setattr(user, name, value)
        user.save(update_fields=list(flags))
    return user


def ensure_venue(spec: data.VenueSpec, net: Network, people: dict[str, User]) -> Venue:
    venue, _created = Venue.objects.update_or_create(
        slug=spec.slug,
        defaults={
            "network": net,
            "name": spec.name,
            "description": spec.description,
            "legal_name": spec.legal_name,
            "legal_form": spec.legal_form,
            "siret": spec.siret,
            "vat_status": spec.vat_status,
            "vat_number": spec.vat_number,
            "street": spec.street,
            "postcode": spec.postcode,
            "city": spec.city,
            "latitude": Decimal(spec.latitude),
            "longitude": Decimal(spec.longitude),
            "email": spec.email,
            "phone": spec.phone,
            "timezone": "Europe/Paris",
            "half_day_hours": 4,
        },
    )
    venue.full_clean()  # the SIRET and time zone validators run on forms, not on save()

    wanted = {(day, _clock(opens), _clock(closes)) for day, opens, closes in spec.hours}
    have = {(oh.weekday, oh.opens_at, oh.closes_at): oh.pk for oh in OpeningHours.objects.filter(venue=venue)}
    OpeningHours.objects.filter(pk__in=[pk for key, pk in have.items() if key not in wanted]).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(venue=venue, weekday=d, opens_at=o, closes_at=c) for d, o, c in wanted - set(have)
    )

    for first, last, reason in closures(spec, now().astimezone(venue.tz).year):
        Closure.objects.get_or_create(venue=venue, starts_on=first, ends_on=last, reason=reason)

    for person, role in ((spec.manager, Role.MANAGER), (spec.staff, Role.STAFF)):
        VenueRole.objects.get_or_create(venue=venue, user=people[person.email], role=role)
    for email in spec.members:
        VenueRole.objects.get_or_create(venue=venue, user=people[email], role=Role.MEMBER)

    by_slug: dict[str, Resource] = {}
    for r in spec.resources:  # parents come before their parts in the description
        resource, _created = Resource.objects.update_or_create(
            venue=venue,
            slug=r.slug,
            defaults={
                "name": r.name,
                "kind": r.kind,
                "capacity": r.capacity,
                "description": r.description,
                "tags": list(r.tags),
                "parent": by_slug[r.parent] if r.parent else None,
                "is_active": True,
                **r.rules,
            },
        )
        by_slug[r.slug] = resource
        for price in r.prices:
            for audience, amount in (("member", price.member), ("public", price.public)):
                ResourcePrice.objects.update_or_create(
                    resource=resource,
                    unit=price.unit,
                    audience=audience,
                    defaults={"net_amount": Decimal(amount)},
                )
    return venue


def closures(spec: data.VenueSpec, year: int) -> list[tuple[date, date, str]]:
    """Public holidays, the Christmas week and the summer break around `year`, so that the demo's weeks
    are right whenever it is loaded."""
    out = []
    for y in (year - 1, year, year + 1):
        out.append((date(y, 12, 24), date(y + 1, 1, 1), "Fermeture de fin d'année"))
        if y == year - 1:
            continue
        out.extend((day, day, f"Jour férié : {name}") for day, name in data.french_public_holidays(y))
        if spec.summer_break:
            (m1, d1), (m2, d2) = spec.summer_break
            out.append((date(y, m1, d1), date(y, m2, d2), "Congés d'été"))
    return out


class _Calendar:
    """A venue's opening hours and closures, read once, to keep the demo's bookings where a member
    could have made them (staff may book outside them, and past bookings are made as staff)."""

    def __init__(self, venue: Venue, first: date, last: date) -> None:
        self.venue = venue
        self.windows = venue_selectors.opening_windows(venue)
        self.closures = venue_selectors.closures_between(venue, first, last)

    def slot(self, day: date, start: str, end: str) -> tuple[datetime, datetime] | None:
        try:
            starts_at = localize(datetime.combine(day, _clock(start)), self.venue.tz)
            ends_at = localize(datetime.combine(day, _clock(end)), self.venue.tz)
        except NonExistentLocalTime:
            return None
        if not venue_rules.within_opening_hours(
            starts_at, ends_at, self.venue.tz, self.windows, self.closures
        ):
            return None
        return starts_at, ends_at


def week_start(today: date) -> date:
    return today - timedelta(days=today.weekday())


def load_bookings(
    spec: data.VenueSpec,
    venue: Venue,
    people: dict[str, User],
    organisations: dict[str, Organisation],
    report: VenueReport,
) -> None:
    resources = {r.slug: r for r in Resource.objects.filter(venue=venue).select_related("venue")}
    manager, staff = people[spec.manager.email], people[spec.staff.email]
    monday = week_start(now().astimezone(venue.tz).date())
    calendar = _Calendar(venue, monday - timedelta(weeks=3), monday + timedelta(weeks=5))
    # A margin, so that a slot starting while the demo loads is not refused as "in the past".
    soon = now() + timedelta(minutes=5)

    for slot in spec.slots:
        resource = resources[slot.resource]
        for week in slot.weeks:
            day = monday + timedelta(weeks=week, days=slot.weekday)
            times = calendar.slot(day, slot.start, slot.end)
            if times is None:
                report.skipped["venue_closed"] += 1
                continue
            starts_at, ends_at = times
            if Booking.objects.filter(resource=resource, starts_at=starts_at, title=slot.title).exists():
                continue
            person = people[slot.person]
            actor, notes = person, slot.notes
            # Only staff may record a booking in the past: a member's is recorded by the venue's manager.
            if starts_at <= soon and not venue_selectors.is_staff_of(person, venue.pk):
                actor = manager
                notes = "\n".join(filter(None, [f"Enregistrée par l'équipe pour {person}.", notes]))
            try:
                booking = create_booking(
                    actor=actor,
                    resource=resource,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    title=slot.title,
                    notes=notes,
                    organisation=organisations[slot.organisation] if slot.organisation else None,
                )
                if slot.then == "cancel":
                    cancel_booking(actor=staff, booking=booking, reason="Annulé à la demande de l'adhérente.")
                elif slot.then == "approve":
                    approve_booking(actor=manager, booking=booking, reason="Formation laser validée.")
            except DomainError as error:
                report.skipped[error.code] += 1
                continue
            report.created += 1

    for series in spec.series:
        load_series(series, resources[series.resource], people, organisations, calendar, monday, report)


def load_series(
    spec: data.SeriesSpec,
    resource: Resource,
    people: dict[str, User],
    organisations: dict[str, Organisation],
    calendar: _Calendar,
    monday: date,
    report: VenueReport,
) -> None:
    days = [
        monday + timedelta(weeks=week, days=spec.weekday)
        for week in range(spec.first_week, spec.last_week + 1)
    ]
    planned = {day: calendar.slot(day, spec.start, spec.end) for day in days}
    starts = [times[0] for times in planned.values() if times]
    if Booking.objects.filter(
        resource=resource, title=spec.title, series__isnull=False, starts_at__in=starts
    ).exists():
        return
    # Days the venue is closed are left out of the series, as its staff would do.
    closed = tuple(day for day, times in planned.items() if times is None)
    if closed:
        report.skipped["venue_closed"] += len(closed)
    first = next((times for times in planned.values() if times), None)
    if first is None:
        return
    try:
        result = create_series(
            actor=people[spec.person],
            resource=resource,
            starts_at=first[0],
            ends_at=first[1],
            title=spec.title,
            recurrence=Recurrence("weekly", until=days[-1], exceptions=closed),
            policy=ConflictPolicy.SKIP,
            organisation=organisations[spec.organisation] if spec.organisation else None,
        )
    except DomainError as error:
        report.skipped[error.code] += len(starts)
        return
    report.created += len(result.booked)
    for skipped in result.skipped:
        report.skipped[skipped.code] += 1


def load(stdout: TextIO | None = None) -> Report:
    """Create or complete the demo network and print one line per venue."""
    report = Report()
    with transaction.atomic():
        net, _created = Network.objects.update_or_create(
            slug=data.NETWORK_SLUG, defaults={"name": data.NETWORK_NAME}
        )
        admin = ensure_person(data.ADMIN, is_staff=True, is_superuser=True)
        net.admins.add(admin)
        people = {email: ensure_person(person) for email, person in data.PEOPLE.items()}
        for spec in data.VENUES:
            for person in (spec.manager, spec.staff):
                people[person.email] = ensure_person(person)
        organisations = {}
        for org in data.ORGANISATIONS:
            organisation, _created = Organisation.objects.get_or_create(
                name=org.name,
                defaults={
                    "siren": org.siren,
                    "vat_number": org.vat_number,
                    "billing_email": org.billing_email,
                    "address": org.address,
                },
            )
            organisation.members.add(*(people[email] for email in org.members))
            organisations[org.name] = organisation
        venues = [(spec, ensure_venue(spec, net, people)) for spec in data.VENUES]

    for spec, venue in venues:
        line = VenueReport(name=venue.name)
        load_bookings(spec, venue, people, organisations, line)
        line.resources = Resource.objects.filter(venue=venue).count()
        line.bookings = Booking.objects.filter(venue=venue).count()
        report.venues.append(line)
        if stdout is not None:
            stdout.write(progress_line(line) + "\n")

    by_slug = {venue.slug: venue for _spec, venue in venues}
    load_offers(by_slug, stdout=stdout)
    load_interlieux(net, by_slug, stdout=stdout)
    load_contributions(net, by_slug, stdout=stdout)

    report.logins = logins()
    if stdout is not None:
        stdout.write("\n" + logins_table(report.logins) + "\n")
    return report


def progress_line(line: VenueReport) -> str:
    text = _("%(venue)s: %(resources)s, %(bookings)s") % {
        "venue": line.name,
        "resources": ngettext("%(n)s resource", "%(n)s resources", line.resources) % {"n": line.resources},
        "bookings": ngettext("%(n)s booking", "%(n)s bookings", line.bookings) % {"n": line.bookings},
    }
    details = [ngettext("%(n)s new", "%(n)s new", line.created) % {"n": line.created}]
    if line.skipped:
        skipped = sum(line.skipped.values())
        reasons = ", ".join(f"{code} × {count}" for code, count in sorted(line.skipped.items()))
        details.append(ngettext("%(n)s skipped", "%(n)s skipped", skipped) % {"n": skipped} + f" ({reasons})")
    return f"{text} ({'; '.join(details)})"


def _login(role: str, person: data.Person, venues: str) -> Login:
    return Login(role, person.email, f"{person.first_name} {person.last_name}", venues, person.about)


def logins() -> list[Login]:
    rows = [_login(_("Network admin"), data.ADMIN, data.NETWORK_NAME)]
    for spec in data.VENUES:
        rows.append(_login(_("Manager"), spec.manager, spec.name))
        rows.append(_login(_("Staff"), spec.staff, spec.name))
    for email, person in data.PEOPLE.items():
        where = ", ".join(spec.name for spec in data.VENUES if email in spec.members)
        rows.append(_login(_("Member"), person, where))
    return rows


COLUMNS = ("role", "email", "name", "venues", "about")


def logins_table(rows: list[Login]) -> str:
    header = Login(_("Role"), _("E-mail"), _("Name"), _("Venues"), _("Who"))
    widths = [max(len(getattr(row, col)) for row in [header, *rows]) for col in COLUMNS]

    def fmt(row: Login) -> str:
        cells = (getattr(row, col) for col in COLUMNS)
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    lines = [fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)]
    lines.append("")
    lines.append(_("Password for every account: %(password)s") % {"password": data.PASSWORD})
    return "\n".join(lines)
