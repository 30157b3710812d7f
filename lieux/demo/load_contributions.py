"""Load the demo's contributions (`contributions.py`) once its venues, people and offers are there: the
network's shared activities, four projects with their stewards, two contributive budgets with their funding
sources and receipts, some sixty contributions (pasted in batches or declared one by one, one of them by a
steward for someone else), their review, payouts in euros and in network credit, who agreed to be named
on the public pages, and the allocation round « Budget collectif » open now.

History is replayed, not written around: every step goes through the contributions services at the moment
it happened, the platform's clock moved back to it (`as_of`). So requests are validated days after they
were declared and paid weeks later, one validation puts the workshop's budget in deficit as it would have,
and the ledger's days, the burn-down and the audit trail carry their own dates.

Idempotent like the rest of the demo: a project, budget, source or round is found by its slug or name, a
contribution by its project, contributor and description, a review by its reviewer and verdict, a payout by
its budget, person and method, and only what is missing is replayed. Delays are drawn with a fixed seed.
"""

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import TextIO
from unittest import mock
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.models import (
    Activity,
    AllocationRound,
    Budget,
    Contribution,
    ContributionStatus,
    ContributorProfile,
    CreditConversion,
    FundingReceipt,
    FundingSource,
    Payout,
    PayoutMethod,
    Project,
    RoundParticipant,
    RoundProject,
    RoundStatus,
)
from lieux.contributions.rules.imports import Row, format_line
from lieux.contributions.selectors.projects import activity_index
from lieux.contributions.services.budgets import create_budget
from lieux.contributions.services.declare import confirm_contribution, declare_contribution
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.imports import LINES, import_contributions
from lieux.contributions.services.payouts import pay_in_credit, pay_in_euros
from lieux.contributions.services.profiles import update_contributor_profile
from lieux.contributions.services.projects import create_activity, create_project
from lieux.contributions.services.review import review_contribution
from lieux.contributions.services.rounds import allocate, create_round, open_round, propose_project
from lieux.contributions.services.setup import offer_credit
from lieux.core.errors import DomainError
from lieux.core.time import now
from lieux.demo import contributions as data
from lieux.demo.load_offers import months_before
from lieux.memberships.models import CreditType
from lieux.memberships.rules.credits import add_months
from lieux.memberships.services.credits import local_today
from lieux.venues.models import Network, Venue


@dataclass
class ContributionsReport:
    projects: int = 0
    budgets: int = 0
    contributions: int = 0
    new: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    in_deficit: list[str] = field(default_factory=list)
    payouts: int = 0
    round: str = ""
    round_status: str = ""
    round_closes_on: date | None = None
    participants: int = 0
    allocations: int = 0
    skipped: list[str] = field(default_factory=list)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run the platform at `moment`. Its one clock (core.time.now) reads django.utils.timezone.now, so
    moving that moves every `now()`, `default=now` and local "today" of the services at once; only the
    demo does this, to replay a history in the order it happened."""
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


@dataclass(order=True)
class _Step:
    moment: datetime
    order: int
    label: str = field(compare=False)
    action: Callable[[], object] = field(compare=False)


class _Replay:
    """The steps of the demo's history, run in the order they happened, each at its own moment."""

    def __init__(self, ceiling: datetime) -> None:
        # Nothing is replayed later than this: the replay stays in the past whatever the day it runs.
        self.ceiling = ceiling
        self.steps: list[_Step] = []

    def at(self, moment: datetime, label: str, action: Callable[[], object]) -> datetime:
        moment = min(moment, self.ceiling)
        self.steps.append(_Step(moment, len(self.steps), label, action))
        return moment

    def after(
        self, earlier: datetime, wanted: datetime, label: str, action: Callable[[], object]
    ) -> datetime:
        """At `wanted`, but after `earlier` even when the ceiling pulls it back."""
        return self.at(max(min(wanted, self.ceiling), earlier + timedelta(minutes=10)), label, action)

    def run(self, report: ContributionsReport) -> None:
        for step in sorted(self.steps):
            with as_of(step.moment):
                try:
                    step.action()
                except DomainError as error:  # something changed by hand since: reported, never fatal
                    report.skipped.append(f"{step.label}: {error.message}")


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class _Loader:
    """Schedules each piece of `contributions.py` as steps of the replay, and does them idempotently."""

    def __init__(self, network: Network, venues: dict[str, Venue], report: ContributionsReport) -> None:
        self.network = network
        self.venues = venues
        self.report = report
        emails = {p.manager for p in data.PROJECTS} | {b.manager for b in data.BUDGETS}
        emails |= {s for p in data.PROJECTS for s in p.stewards}
        emails |= {c.person for c in data.CONTRIBUTIONS} | {
            c.reviewer for c in data.CONTRIBUTIONS if c.reviewer
        }
        emails |= {c.declared_by for c in data.CONTRIBUTIONS if c.declared_by}
        emails |= {p.person for p in data.PROFILES} | {a[0] for a in data.ALLOCATIONS}
        emails |= {c.manager for c in data.CONVERSIONS}
        self.people = {user.email: user for user in User.objects.filter(email__in=emails)}
        self.tz: ZoneInfo = next(iter(venues.values())).tz
        self.today = min(local_today(venue) for venue in venues.values())
        self.monday = self.today - timedelta(days=self.today.weekday())
        self.replay = _Replay(ceiling=now() - timedelta(minutes=30))
        # The budgets' year starts on the first day of the month a week before the oldest contribution.
        self.starts_on = months_before(self.monday - timedelta(weeks=data.HISTORY_WEEKS + 1), 0)

    # Helpers ------------------------------------------------------------------------------------------

    def moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def day(self, week: int, weekday: int) -> date:
        return self.monday - timedelta(weeks=week) + timedelta(days=weekday)

    def project(self, slug: str) -> Project:
        return Project.objects.select_related("venue").get(network=self.network, slug=slug)

    def budget(self, slug: str | None) -> Budget | None:
        if slug is None:
            return None
        return Budget.objects.select_related("venue").get(network=self.network, slug=slug)

    def find(self, spec: data.ContributionSpec) -> Contribution | None:
        return Contribution.objects.filter(
            project__network=self.network,
            project__slug=spec.project,
            contributor=self.people[spec.person],
            description=spec.description,
        ).first()

    def activities(self, spec: data.ContributionSpec, budget: Budget | None) -> list[Activity]:
        index = activity_index(network_id=self.network.pk, budget=budget)
        return [index[name.casefold()] for name in spec.activities]

    def rng(self, *parts: str) -> random.Random:
        return random.Random(":".join((data.SEED, *parts)))

    # Set-up -------------------------------------------------------------------------------------------

    def schedule_setup(self) -> None:
        prepared = self.moment(self.starts_on - timedelta(days=14), 10)
        claire = self.people[data.CLAIRE]
        for name in data.ACTIVITIES:
            self.replay.at(
                prepared,
                f"activity {name}",
                partial(create_activity, network=self.network, name=name, actor=claire),
            )
        for project in data.PROJECTS:
            self.replay.at(prepared, f"project {project.slug}", partial(self.ensure_project, project))
        for profile in data.PROFILES:
            self.replay.at(prepared, f"profile {profile.person}", partial(self.ensure_profile, profile))
        for conversion in data.CONVERSIONS:
            self.replay.at(prepared, f"credit {conversion.venue}", partial(self.offer_credit, conversion))
        for budget_spec in data.BUDGETS:
            self.schedule_budget(budget_spec)

    def ensure_project(self, spec: data.ProjectSpec) -> None:
        if Project.objects.filter(network=self.network, slug=spec.slug).exists():
            return
        create_project(
            network=self.network,
            venue=self.venues[spec.venue] if spec.venue else None,
            slug=spec.slug,
            title=spec.title,
            description=spec.description,
            stewards=[self.people[email] for email in spec.stewards],
            actor=self.people[spec.manager],
        )

    def ensure_profile(self, spec: data.ProfileSpec) -> None:
        person = self.people[spec.person]
        if ContributorProfile.objects.filter(person=person).exists():
            return  # the person's own choice since stands
        update_contributor_profile(
            person=person,
            visibility=spec.visibility,
            pseudonym=spec.pseudonym,
            structure_name=spec.structure,
            actor=person,
        )

    def offer_credit(self, spec: data.ConversionSpec) -> None:
        venue = self.venues[spec.venue]
        credit_type = CreditType.objects.select_related("venue").get(venue=venue, code=spec.credit_type)
        if CreditConversion.objects.filter(network=self.network, credit_type=credit_type).exists():
            return
        offer_credit(
            network=self.network,
            credit_type=credit_type,
            euros_per_credit=Decimal(spec.euros_per_credit),
            validity_months=spec.validity_months,
            actor=self.people[spec.manager],
        )

    def schedule_budget(self, spec: data.BudgetSpec) -> None:
        existing = Budget.objects.filter(network=self.network, slug=spec.slug).first()
        # A budget loaded earlier keeps its period: its sources and receipts are dated from it.
        starts_on = existing.starts_on if existing is not None else self.starts_on
        year = starts_on.year
        manager = self.people[spec.manager]
        created = self.replay.at(
            self.moment(starts_on - timedelta(days=7), 11),
            f"budget {spec.slug}",
            partial(self.ensure_budget, spec, starts_on, manager),
        )
        for source in spec.sources:
            committed_on = starts_on + timedelta(days=source.days)
            name = source.name.format(year=year)
            committed = self.replay.after(
                created,
                self.moment(committed_on, 11, 30),
                f"source {name}",
                partial(self.ensure_source, spec.slug, source, name, committed_on, manager),
            )
            for receipt in source.receipts:
                received_on = starts_on + timedelta(days=receipt.days)
                self.replay.after(
                    committed,
                    self.moment(received_on, 14),
                    f"receipt {receipt.reference}",
                    partial(self.ensure_receipt, spec.slug, name, receipt, received_on, manager),
                )

    def ensure_budget(self, spec: data.BudgetSpec, starts_on: date, manager: User) -> None:
        if Budget.objects.filter(network=self.network, slug=spec.slug).exists():
            return
        create_budget(
            network=self.network,
            slug=spec.slug,
            name=spec.name.format(year=starts_on.year),
            description=spec.description,
            starts_on=starts_on,
            ends_on=add_months(starts_on, 12) - timedelta(days=1),
            venue=self.venues[spec.venue] if spec.venue else None,
            project=self.project(spec.project) if spec.project else None,
            validators=spec.validators,
            overrun=spec.overrun,
            hourly_value=Decimal(spec.hourly_value),
            actor=manager,
        )

    def ensure_source(
        self, slug: str, spec: data.SourceSpec, name: str, committed_on: date, manager: User
    ) -> None:
        budget = self.budget(slug)
        if budget is None or FundingSource.objects.filter(budget=budget, name=name).exists():
            return
        add_funding_source(
            budget=budget,
            name=name,
            kind=spec.kind,
            funder=spec.funder,
            amount=Decimal(spec.amount),
            committed_on=committed_on,
            venue=self.venues[spec.venue] if spec.venue else None,
            actor=manager,
        )

    def ensure_receipt(
        self, slug: str, source_name: str, spec: data.ReceiptSpec, received_on: date, manager: User
    ) -> None:
        source = FundingSource.objects.filter(
            budget__network=self.network, budget__slug=slug, name=source_name
        )
        found = source.select_related("budget").first()
        reference = spec.reference.format(year=received_on.year)
        if found is None or FundingReceipt.objects.filter(source=found, reference=reference).exists():
            return
        record_receipt(
            source=found,
            amount=Decimal(spec.amount),
            received_on=received_on,
            reference=reference,
            actor=manager,
        )

    # Contributions ------------------------------------------------------------------------------------

    def schedule_contributions(self) -> None:
        batches: dict[str, list[data.ContributionSpec]] = {}
        for spec in data.CONTRIBUTIONS:
            if spec.batch:
                batches.setdefault(spec.batch, []).append(spec)
                continue
            rng = self.rng(spec.project, spec.person, spec.description)
            done_on = self.day(spec.week, spec.weekday)
            declared = self.replay.at(
                # Written down the same evening or a couple of days later.
                self.moment(done_on + timedelta(days=rng.randint(0, 2)), rng.randint(18, 21)),
                f"declare {spec.description}",
                partial(self.declare, spec),
            )
            if spec.declared_by is not None and spec.confirmed:
                declared = self.replay.after(
                    declared,
                    self.moment(declared.date() + timedelta(days=1), 9),
                    f"confirm {spec.description}",
                    partial(self.confirm, spec),
                )
            self.schedule_review(spec, declared, rng)
        for name, specs in batches.items():
            last = max(self.day(spec.week, spec.weekday) for spec in specs)
            rng = self.rng("batch", name)
            pasted = self.replay.at(
                self.moment(last + timedelta(days=rng.randint(0, 2)), 20, 30),
                f"paste {name}",
                partial(self.paste, specs),
            )
            for spec in specs:
                self.schedule_review(spec, pasted, self.rng(spec.project, spec.person, spec.description))

    def schedule_review(self, spec: data.ContributionSpec, declared: datetime, rng: random.Random) -> None:
        if spec.reviewer is None:
            return
        wanted = self.moment(declared.date() + timedelta(days=rng.randint(1, 4)), rng.randint(9, 12))
        self.replay.after(declared, wanted, f"review {spec.description}", partial(self.review, spec))

    def declare(self, spec: data.ContributionSpec) -> None:
        if self.find(spec) is not None:
            return
        project = self.project(spec.project)
        budget = self.budget(spec.budget)
        declare_contribution(
            actor=self.people[spec.declared_by or spec.person],
            contributor=self.people[spec.person],
            project=project,
            performed_on=self.day(spec.week, spec.weekday),
            description=spec.description,
            hours=_money(spec.hours),
            kind=spec.kind,
            activities=self.activities(spec, budget),
            budget=budget,
            amount_asked=_money(spec.amount),
            evidence_url=spec.link,
        )
        self.report.new += 1

    def paste(self, specs: list[data.ContributionSpec]) -> None:
        """The lines not there yet, pasted by their contributor into the bulk import."""
        missing = [spec for spec in specs if self.find(spec) is None]
        if not missing:
            return
        first = missing[0]
        if any(
            (s.project, s.person, s.budget) != (first.project, first.person, first.budget) for s in missing
        ):
            raise ValueError(f"the batch {first.batch} mixes projects, people or budgets")
        content = "\n".join(
            format_line(
                Row(
                    performed_on=self.day(spec.week, spec.weekday),
                    description=spec.description,
                    hours=_money(spec.hours),
                    amount=_money(spec.amount),
                    activities=spec.activities,
                )
            )
            for spec in missing
        )
        result = import_contributions(
            actor=self.people[first.person],
            project=self.project(first.project),
            content=content,
            fmt=LINES,
            budget=self.budget(first.budget),
        )
        self.report.new += len(result.created)

    def confirm(self, spec: data.ContributionSpec) -> None:
        found = self.find(spec)
        if found is not None and found.status == ContributionStatus.AWAITING_CONFIRMATION:
            confirm_contribution(contribution=found, actor=self.people[spec.person])

    def review(self, spec: data.ContributionSpec) -> None:
        found = self.find(spec)
        assert spec.reviewer is not None
        reviewer = self.people[spec.reviewer]
        if found is None or found.reviews.filter(reviewer=reviewer, verdict=spec.verdict).exists():
            return
        if spec.verdict in ("validate", "refuse") and found.status != ContributionStatus.SUBMITTED:
            return  # decided by hand since
        review_contribution(contribution=found, reviewer=reviewer, verdict=spec.verdict, message=spec.message)

    # Payouts ------------------------------------------------------------------------------------------

    def schedule_payouts(self) -> None:
        for spec in data.PAYOUTS:
            self.replay.at(
                self.moment(self.day(spec.week, spec.weekday), 10),
                f"payout {spec.person}",
                partial(self.pay, spec),
            )

    def pay(self, spec: data.PayoutSpec) -> None:
        budget = self.budget(spec.budget)
        assert budget is not None
        person = self.people[spec.person]
        method = PayoutMethod.CREDIT if spec.credit_venue else PayoutMethod.EUROS
        if Payout.objects.filter(budget=budget, person=person, method=method).exists():
            return
        if spec.credit_venue:
            conversion = CreditConversion.objects.select_related("credit_type__venue").get(
                network=self.network, credit_type__venue__slug=spec.credit_venue
            )
            # The contributor's own choice, as only they may make it.
            pay_in_credit(budget=budget, person=person, conversion=conversion, actor=person)
        else:
            paid_on = now().astimezone(self.tz).date()
            manager = next(self.people[b.manager] for b in data.BUDGETS if b.slug == spec.budget)
            pay_in_euros(
                budget=budget,
                person=person,
                invoice_reference=spec.invoice.format(year=paid_on.year),
                paid_on=paid_on,
                to_structure=spec.to_structure,
                actor=manager,
            )

    # The allocation round ------------------------------------------------------------------------------

    def schedule_round(self) -> None:
        found = AllocationRound.objects.filter(network=self.network, slug=data.ROUND_SLUG).first()
        if found is not None:
            opens_at, closes_at = found.opens_at, found.closes_at
        else:
            opens_at = self.moment(self.today - timedelta(days=data.ROUND_OPENED_DAYS_AGO), 9)
            closes_at = self.moment(self.today + timedelta(days=data.ROUND_CLOSES_IN_DAYS), 23, 59)
        prepared = self.moment(self.today - timedelta(days=data.ROUND_PREPARED_DAYS_AGO), 15)
        self.replay.at(prepared, "round", partial(self.ensure_round, opens_at, closes_at))
        self.replay.after(prepared, opens_at, "open round", self.open_round)
        for person, days, amounts in data.ALLOCATIONS:
            moment = opens_at + timedelta(days=days, hours=2 + len(amounts))
            self.replay.after(
                opens_at,
                moment,
                f"allocate {person}",
                partial(self.allocate, person, amounts),
            )

    def the_round(self) -> AllocationRound | None:
        return AllocationRound.objects.filter(network=self.network, slug=data.ROUND_SLUG).first()

    def ensure_round(self, opens_at: datetime, closes_at: datetime) -> None:
        claire = self.people[data.CLAIRE]
        found = self.the_round()
        if found is None:
            found = create_round(
                network=self.network,
                slug=data.ROUND_SLUG,
                name=data.ROUND_NAME.format(year=opens_at.year + 1),
                description=data.ROUND_DESCRIPTION,
                pot=Decimal(data.ROUND_POT),
                funder=data.ROUND_FUNDER,
                opens_at=opens_at,
                closes_at=closes_at,
                actor=claire,
            )
        if found.status == RoundStatus.CLOSED:
            return
        proposed = set(RoundProject.objects.filter(round=found).values_list("project__slug", flat=True))
        for slug, minimum, maximum in data.ROUND_PROJECTS:
            if slug not in proposed:
                propose_project(
                    round=found,
                    project=self.project(slug),
                    minimum=Decimal(minimum),
                    maximum=Decimal(maximum),
                    actor=claire,
                )

    def open_round(self) -> None:
        found = self.the_round()
        if found is not None and found.status == RoundStatus.DRAFT:
            open_round(round=found, actor=self.people[data.CLAIRE])

    def allocate(self, email: str, amounts: dict[str, str]) -> None:
        found = self.the_round()
        person = self.people[email]
        if found is None or found.status != RoundStatus.OPEN:
            return
        participant = RoundParticipant.objects.filter(round=found, person=person).first()
        if participant is None or participant.allocations.exists():
            return  # not taking part, or made up their mind already
        by_slug = dict(RoundProject.objects.filter(round=found).values_list("project__slug", "pk"))
        allocate(
            round=found,
            person=person,
            amounts={by_slug[slug]: Decimal(amount) for slug, amount in amounts.items()},
            actor=person,
        )

    # Summary ------------------------------------------------------------------------------------------

    def summarise(self) -> None:
        report = self.report
        slugs = [p.slug for p in data.PROJECTS]
        report.projects = Project.objects.filter(network=self.network, slug__in=slugs).count()
        budgets = Budget.objects.filter(network=self.network, slug__in=[b.slug for b in data.BUDGETS])
        report.budgets = budgets.count()
        report.in_deficit = [b.name for b in budgets.filter(status="deficit").order_by("name")]
        found = Contribution.objects.filter(project__network=self.network, project__slug__in=slugs)
        report.contributions = found.count()
        report.statuses = Counter(found.values_list("status", flat=True))
        report.payouts = Payout.objects.filter(budget__in=budgets).count()
        round_ = self.the_round()
        if round_ is not None:
            report.round = round_.name
            report.round_status = round_.status
            report.round_closes_on = round_.closes_at.astimezone(self.tz).date()
            report.participants = RoundParticipant.objects.filter(round=round_).count()
            report.allocations = (
                RoundParticipant.objects.filter(round=round_, allocations__isnull=False).distinct().count()
            )


def load_contributions(
    network: Network, venues: dict[str, Venue], stdout: TextIO | None = None
) -> ContributionsReport:
    report = ContributionsReport()
    loader = _Loader(network, venues, report)
    loader.schedule_setup()
    loader.schedule_contributions()
    loader.schedule_payouts()
    loader.schedule_round()
    loader.replay.run(report)
    loader.summarise()
    if stdout is not None:
        stdout.write(summary_line(report) + "\n")
        for line in report.skipped:
            stdout.write(f"  {line}\n")
    return report


def summary_line(report: ContributionsReport) -> str:
    text = _(
        "Contributions: %(projects)s projects, %(budgets)s budgets, %(contributions)s contributions "
        "(%(new)s new; %(validated)s validated, %(paid)s paid, %(pending)s awaiting review), %(payouts)s "
        "payouts."
    ) % {
        "projects": report.projects,
        "budgets": report.budgets,
        "contributions": report.contributions,
        "new": report.new,
        "validated": report.statuses[ContributionStatus.VALIDATED],
        "paid": report.statuses[ContributionStatus.PAID],
        "pending": report.statuses[ContributionStatus.SUBMITTED],
        "payouts": report.payouts,
    }
    if report.in_deficit:
        text += " " + _("In deficit: %(budgets)s.") % {"budgets": ", ".join(report.in_deficit)}
    if report.round:
        text += " " + _(
            "%(round)s (%(status)s, closes on %(closes_on)s): %(allocated)s of %(participants)s "
            "participants have allocated their share."
        ) % {
            "round": report.round,
            "status": RoundStatus(report.round_status).label.lower() if report.round_status else "—",
            "closes_on": f"{report.round_closes_on:%d/%m/%Y}" if report.round_closes_on else "—",
            "allocated": report.allocations,
            "participants": report.participants,
        }
    return text
