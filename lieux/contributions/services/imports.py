"""Declaring many contributions at once, from pasted lines or a CSV file (rules/imports.py reads them).

- `preview_import` reads every line and checks it like a single declaration (rights, activities, budget
  period…): each line comes back parsed or with its problem (line number, code, reason), and lines
  already imported are flagged. It writes nothing.
- `import_contributions` saves every line in one transaction, or nothing at all when any line is bad
  (ImportRejected lists every bad line).
- Replaying an import creates nothing twice: each line's `source_key` is derived from the project, the
  budget, the whole content, the line number and the contributor, so the same text imported again (after a
  timeout, a double click, by another steward) finds its lines already there and skips them.

A line without a contributor is the importing person's own (`submitted`); a CSV line naming someone else
(a steward importing for others) awaits that person's confirmation.
"""

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.errors import ImportEmpty, ImportRejected, ImportTooLarge, problem_message
from lieux.contributions.errors_budgets import BudgetClosed
from lieux.contributions.models import (
    Activity,
    Budget,
    BudgetStatus,
    Contribution,
    ContributionKind,
    Project,
)
from lieux.contributions.rules import imports as parser
from lieux.contributions.rules.declarations import Problem
from lieux.contributions.selectors.projects import activity_index
from lieux.contributions.services.budgets import lock_budget
from lieux.contributions.services.declare import (
    Context,
    audit_data,
    context_for,
    first_problem,
    initial_status,
)
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError

LINES, CSV = "lines", "csv"
FORMATS = (LINES, CSV)
MAX_LINES = 20_000
BATCH = 1000


@dataclass
class PreviewLine:
    number: int
    text: str
    row: parser.Row | None = None
    contributor: User | None = None
    activities: list[Activity] = field(default_factory=list)
    kind: str = ""
    source_key: str = ""
    already_imported: bool = False
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        return problem_message(self.problem.code, self.problem.params) if self.problem else ""


@dataclass
class ImportPreview:
    lines: list[PreviewLine]
    import_key: str

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)

    @property
    def bad_lines(self) -> list[PreviewLine]:
        return [line for line in self.lines if not line.ok]

    def errors(self) -> list[dict[str, object]]:
        return [
            {"line": ln.number, "code": ln.problem.code, "detail": ln.message}
            for ln in self.bad_lines
            if ln.problem
        ]


@dataclass
class ImportResult:
    created: list[Contribution]
    skipped: int  # lines already imported by an earlier run
    import_key: str


def import_key(*, project: Project, budget: Budget | None, fmt: str, content: str) -> str:
    normalised = content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    seed = f"{project.pk}\n{budget.pk if budget else '-'}\n{fmt}\n{normalised}"
    return hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _parse(fmt: str, content: str) -> list[parser.Line]:
    if fmt not in FORMATS:
        raise ValidationError(_("Give the lines as text or as CSV."), code="invalid_format", field="format")
    lines = parser.parse_csv(content) if fmt == CSV else parser.parse_lines(content)
    if not lines:
        raise ImportEmpty()
    if len(lines) > MAX_LINES:
        raise ImportTooLarge(MAX_LINES)
    return lines


def _people(actor: User, lines: list[parser.Line]) -> dict[str, User]:
    emails = {ln.row.contributor_email for ln in lines if ln.row and ln.row.contributor_email}
    emails.discard(actor.email.lower())
    found = {actor.email.lower(): actor}
    if emails:
        rows = User.objects.annotate(folded=Lower("email")).filter(folded__in=emails, is_active=True)
        found.update({user.email.lower(): user for user in rows})
    return found


def _check_line(
    line: parser.Line,
    *,
    context: Context,
    people: dict[str, User],
    index: dict[str, Activity],
    kind: str,
    key: str,
) -> PreviewLine:
    preview = PreviewLine(number=line.number, text=line.text, row=line.row, problem=line.problem)
    row = line.row
    if row is None:
        return preview
    email = row.contributor_email or context.actor.email.lower()
    contributor = people.get(email)
    if contributor is None:
        if not context.actor_is_steward:
            preview.problem = Problem("not_steward", "contributor")
        else:
            preview.problem = Problem("unknown_person", "contributor", {"value": email})
        return preview
    activities = []
    for name in row.activities:
        activity = index.get(name.casefold())
        if activity is None:
            preview.problem = Problem("unknown_activity", "activities", {"value": name})
            return preview
        activities.append(activity)
    preview.contributor = contributor
    preview.activities = list(dict.fromkeys(activities))
    preview.kind = row.kind or kind
    preview.problem = first_problem(
        context,
        contributor=contributor,
        performed_on=row.performed_on,
        description=row.description,
        hours=row.hours,
        amount_asked=row.amount,
        kind=preview.kind,
        activities=preview.activities,
        link=row.link,
    )
    preview.source_key = f"import:{key}:{line.number}:{contributor.pk}"
    return preview


def existing_keys(keys: list[str]) -> set[str]:
    """Those of `keys` some contribution already has, asked in batches (a query has a parameter limit)."""
    found: set[str] = set()
    for start in range(0, len(keys), BATCH):
        rows = Contribution.objects.filter(source_key__in=keys[start : start + BATCH])
        found |= {key for key in rows.values_list("source_key", flat=True) if key}
    return found


def preview_import(
    *,
    actor: User,
    project: Project,
    content: str,
    fmt: str = LINES,
    budget: Budget | None = None,
    kind: str = ContributionKind.TIME,
) -> ImportPreview:
    """Every line of `content` read and checked; writes nothing. Raises only for what concerns the whole
    import (no such project, closed budget, empty or too long)."""
    context = context_for(actor=actor, project=project, budget=budget)
    if kind not in ContributionKind.values:
        raise ValidationError(
            problem_message("invalid_kind", {"value": kind[:20]}), code="invalid_kind", field="kind"
        )
    lines = _parse(fmt, content)
    key = import_key(project=project, budget=budget, fmt=fmt, content=content)
    people = _people(actor, lines)
    index = activity_index(network_id=project.network_id, budget=budget)
    checked = [
        _check_line(ln, context=context, people=people, index=index, kind=kind, key=key) for ln in lines
    ]
    done = existing_keys([ln.source_key for ln in checked if ln.source_key])
    for line in checked:
        line.already_imported = line.source_key in done
    return ImportPreview(lines=checked, import_key=key)


def import_contributions(
    *,
    actor: User,
    project: Project,
    content: str,
    fmt: str = LINES,
    budget: Budget | None = None,
    kind: str = ContributionKind.TIME,
) -> ImportResult:
    """Save every line, or none when one is bad (ImportRejected with every bad line)."""
    preview = preview_import(actor=actor, project=project, content=content, fmt=fmt, budget=budget, kind=kind)
    if not preview.ok:
        raise ImportRejected(preview.errors())
    context = context_for(actor=actor, project=project, budget=budget)

    def write() -> ImportResult:
        # Closing holds the budget's lock while it settles the budget: no request slips in as it closes.
        if budget is not None and lock_budget(budget).status == BudgetStatus.CLOSED:
            raise BudgetClosed()
        existing = existing_keys([ln.source_key for ln in preview.lines])
        fresh = [ln for ln in preview.lines if ln.source_key not in existing]
        rows = []
        for line in fresh:
            assert line.row is not None and line.contributor is not None  # checked lines
            rows.append(
                Contribution(
                    project=project,
                    budget=budget,
                    contributor=line.contributor,
                    declared_by=actor,
                    performed_on=line.row.performed_on,
                    hours=line.row.hours,
                    kind=line.kind,
                    description=line.row.description,
                    evidence_url=line.row.link,
                    amount_asked=line.row.amount,
                    status=initial_status(context, line.contributor),
                    source_key=line.source_key,
                )
            )
        created = Contribution.objects.bulk_create(rows, batch_size=BATCH)
        through = Contribution.activities.through
        through.objects.bulk_create(
            [
                through(contribution_id=contribution.pk, activity_id=activity.pk)
                for contribution, line in zip(created, fresh, strict=True)
                for activity in line.activities
            ],
            batch_size=BATCH,
        )
        audit.record_all(
            [
                audit.entry(
                    "contributions.contribution.imported",
                    contribution,
                    actor=actor,
                    venue_id=project.venue_id,
                    import_key=preview.import_key,
                    line=line.number,
                    activities=[a.pk for a in line.activities],
                    **audit_data(contribution),
                )
                for contribution, line in zip(created, fresh, strict=True)
            ]
        )
        return ImportResult(
            created=created, skipped=len(preview.lines) - len(fresh), import_key=preview.import_key
        )

    try:
        return atomic_with_retry(write)
    except IntegrityError:
        # The same import running at the same moment saved its lines first (unique source_key): this run
        # now finds them there and skips them.
        return atomic_with_retry(write)
