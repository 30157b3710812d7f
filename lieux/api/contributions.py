"""Projects, declared contributions, bulk imports and peer review.

Projects: public ones are readable by anyone with a token, private ones by the people of their network
and their stewards. Contributions: readable by their contributor, whoever declared them, the people of the
project's network and its stewards; anyone else gets 404. People are named by their e-mail. Amounts are
decimal strings in euros (`"60.50"`); hours are decimal strings too (`"1.50"` for 1h30).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from annotated_types import Len
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field, StringConstraints

from lieux.accounts.models import User
from lieux.api.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api, caller, paginate
from lieux.api.schemas import Day, DbId, ErrorOut, Input, Slug, ValidationErrorOut, _no_nul
from lieux.api.venues import venue_by_slug
from lieux.contributions.errors import NotProjectManager, NotSteward, ProjectNotFound, declaration_invalid
from lieux.contributions.errors_budgets import BudgetNotFound
from lieux.contributions.models import (
    Activity,
    Budget,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Project,
    ProjectStatus,
    Verdict,
)
from lieux.contributions.selectors import contributions as contribution_selectors
from lieux.contributions.selectors import projects as project_selectors
from lieux.contributions.services.declare import (
    confirm_contribution,
    declare_contribution,
    decline_contribution,
    withdraw_contribution,
)
from lieux.contributions.services.imports import (
    ImportPreview,
    PreviewLine,
    import_contributions,
    preview_import,
)
from lieux.contributions.services.projects import create_project
from lieux.contributions.services.review import review_contribution
from lieux.core.errors import NotFound, ValidationError
from lieux.venues.models import Network

router = Router(tags=["Projects and contributions"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}

EmailStr = Annotated[str, StringConstraints(pattern=r"^[^@\s\x00]+@[^@\s\x00]+$", max_length=254)]
Title = Annotated[str, Len(1, 120), AfterValidator(_no_nul)]
LongText = Annotated[str, Len(0, 10_000), AfterValidator(_no_nul)]
Description = Annotated[str, Len(1, 5000), AfterValidator(_no_nul)]
Message = Annotated[str, Len(0, 5000), AfterValidator(_no_nul)]
Link = Annotated[str, Len(0, 200), AfterValidator(_no_nul)]
ActivityName = Annotated[str, Len(1, 80), AfterValidator(_no_nul)]
Hours = Annotated[Decimal, Field(gt=0, max_digits=6, decimal_places=2, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
# Text of an import: the request body limit (DATA_UPLOAD_MAX_MEMORY_SIZE) bounds it first.
ImportText = Annotated[str, Len(1, 1_000_000), AfterValidator(_no_nul)]


# --- People ----------------------------------------------------------------------------------------------


class PersonOut(Schema):
    email: str | None = Field(description="Only for the people of the network; null for others.")
    name: str


def person_out(person: User, *, with_email: bool) -> dict[str, Any]:
    return {
        "email": person.email if with_email else None,
        "name": person.get_full_name() or person.get_short_name(),
    }


def _person_by_email(email: str) -> User:
    person = User.objects.filter(email__iexact=email, is_active=True).first()
    if person is None:
        raise NotFound(_("No such person."), code="unknown_person")
    return person


# --- Projects --------------------------------------------------------------------------------------------


class ProjectIn(Input):
    network: Slug | None = Field(
        None, description="Slug of the network; default: the venue's, or the only network there is."
    )
    venue: Slug | None = Field(
        None, description="Slug of the venue; none for a project of the whole network."
    )
    slug: Slug
    title: Title
    description: LongText = ""
    status: ProjectStatus = ProjectStatus.ACTIVE
    stewards: Annotated[list[EmailStr], Len(0, 50)] = Field(
        default_factory=list, description="E-mails of the stewards (soucieux) who look after the project."
    )
    is_public: bool = Field(True, description="Shown on the public transparency pages.")


class ProjectOut(Schema):
    id: int
    network: str
    venue: str | None = Field(description="Slug of the venue; null for a project of the whole network.")
    slug: str
    title: str
    description: str
    status: str = Field(description="`proposed`, `active`, `paused`, `done` or `archived`.")
    is_public: bool
    stewards: list[PersonOut]
    activities: list[str] = Field(description="The network's shared activities a contribution may name.")


class ProjectPageOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[ProjectOut]


class ProjectWriter:
    """Serialises projects for one caller, reading once what every project of a page shares: the caller's
    networks (e-mails of stewards are for insiders) and each network's shared activities."""

    def __init__(self, user: User) -> None:
        self.insider_of = project_selectors.network_ids(user)
        self.activities: dict[int, list[str]] = {}

    def shared_activities(self, network_id: int) -> list[str]:
        if network_id not in self.activities:
            found = project_selectors.activities_for(network_id=network_id)
            self.activities[network_id] = [a.name for a in found]
        return self.activities[network_id]

    def __call__(self, project: Project) -> dict[str, Any]:
        insider = project.network_id in self.insider_of
        return {
            "id": project.pk,
            "network": project.network.slug,
            "venue": project.venue.slug if project.venue else None,
            "slug": project.slug,
            "title": project.title,
            "description": project.description,
            "status": project.status,
            "is_public": project.is_public,
            "stewards": [person_out(p, with_email=insider) for p in project.stewards.all()],
            "activities": self.shared_activities(project.network_id),
        }


def readable_project(user: User, project_id: int) -> Project:
    project = project_selectors.projects(user).filter(pk=project_id).first()
    if project is None:
        raise ProjectNotFound()
    return project


def _network(slug: str | None, venue_slug: str | None) -> tuple[Network, Any]:
    venue = venue_by_slug(venue_slug) if venue_slug else None
    if slug is not None:
        network = Network.objects.filter(slug=slug).first()
        if network is None or (venue is not None and venue.network_id != network.pk):
            raise NotFound(_("No such network."), code="unknown_network")
        return network, venue
    if venue is not None:
        return venue.network, venue
    networks = list(Network.objects.all()[:2])
    if len(networks) != 1:
        raise ValidationError(_("Say which network."), code="network_required", field="network")
    return networks[0], None


@router.get(
    "/projects",
    response={200: ProjectPageOut, **ERRORS},
    summary="List projects",
    description="Projects (chantiers) the caller may read: public ones and those of their network. Filter "
    "by `network`, `venue` (that venue's own projects), `network_wide` (projects of the whole network "
    "only), `status`, `public`, and `stewarded` (those the caller looks after). Paginated with `limit` and "
    "`offset`.",
)
def list_projects(
    request: HttpRequest,
    network: Slug | None = None,
    venue: Slug | None = None,
    network_wide: bool = False,
    status: ProjectStatus | None = None,
    public: bool = False,
    stewarded: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    user = caller(request)
    place = venue_by_slug(venue) if venue else None
    net = None
    if network is not None:
        net = Network.objects.filter(slug=network).first()
        if net is None:
            raise NotFound(_("No such network."), code="unknown_network")
    found = project_selectors.projects(
        user,
        network=net,
        venue=place,
        network_wide=network_wide,
        status=str(status) if status else None,
        public_only=public,
        stewarded=stewarded,
    )
    return paginate(request, found, limit=limit, offset=offset, serialize=ProjectWriter(user))


@router.post(
    "/projects",
    response={201: ProjectOut, **ERRORS},
    summary="Create a project",
    description="For the managers of `venue` (for a project of the whole network: the managers of any of "
    "its venues and its admins): a new project with its stewards. 403 `not_project_manager`; 404 "
    "`unknown_venue`, `unknown_network`, `unknown_person` (a steward); 409 `project_slug_taken`; 422 "
    "`network_required` when there are several networks and none is named. A refused request writes "
    "nothing.",
)
def post_project(request: HttpRequest, payload: ProjectIn):
    user = caller(request)
    network, venue = _network(payload.network, payload.venue)
    if not project_selectors.may_manage(user, network_id=network.pk, venue_id=venue.pk if venue else None):
        # Checked before the stewards are looked up, so that nobody learns who has an account.
        raise NotProjectManager()
    stewards = [_person_by_email(email) for email in payload.stewards]
    project = create_project(
        network=network,
        venue=venue,
        slug=payload.slug,
        title=payload.title,
        description=payload.description,
        status=payload.status,
        stewards=stewards,
        is_public=payload.is_public,
        actor=user,
    )
    return Status(201, ProjectWriter(user)(readable_project(user, project.pk)))


# --- Contributions ---------------------------------------------------------------------------------------


class ContributionIn(Input):
    project: DbId
    budget: DbId | None = Field(None, description="The budget asked for `amount_asked`.")
    contributor: EmailStr | None = Field(
        None,
        description="E-mail of the person who contributed; default: the caller. Stewards only: the "
        "person then confirms it.",
    )
    performed_on: Day = Field(description="The day it was done (not in the future).")
    hours: Hours | None = Field(None, description='Hours spent, e.g. `"1.5"`; optional.')
    kind: ContributionKind = ContributionKind.TIME
    activities: Annotated[list[ActivityName], Len(0, 20)] = Field(
        default_factory=list, description="Names of the network's shared activities or of the budget's own."
    )
    description: Description
    link: Link = Field("", description="A web link to evidence (http or https).")
    amount_asked: Money | None = Field(None, description='Euros asked from `budget`, e.g. `"60.50"`.')


class ProjectBriefOut(Schema):
    id: int
    slug: str
    title: str


class ContributionOut(Schema):
    id: int
    project: ProjectBriefOut
    budget: int | None
    contributor: PersonOut
    declared_by: PersonOut
    performed_on: date
    hours: str | None
    kind: str
    activities: list[str]
    description: str
    link: str
    amount_asked: str | None
    amount_granted: str | None = Field(description="What was validated (reduced if a closing says so).")
    status: str = Field(
        description="`awaiting` (the contributor's confirmation), `submitted`, `validated`, `refused`, "
        "`paid` or `withdrawn`."
    )
    validations: int = Field(description="Validations so far.")
    validated_at: datetime | None
    created_at: datetime


class ReviewOut(Schema):
    id: int
    reviewer: PersonOut
    verdict: str
    message: str
    created_at: datetime


class ContributionDetailOut(ContributionOut):
    reviews: list[ReviewOut] = Field(
        description="Comments, questions, validations and refusals, oldest first."
    )


class ContributionPageOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[ContributionOut]


def contribution_out(contribution: Contribution, *, validations: int | None = None) -> dict[str, Any]:
    if validations is None:
        validations = getattr(contribution, "validation_count", None)
    if validations is None:
        validations = len(contribution_selectors.validations_of(contribution))
    return {
        "id": contribution.pk,
        "project": {
            "id": contribution.project.pk,
            "slug": contribution.project.slug,
            "title": contribution.project.title,
        },
        "budget": contribution.budget_id,
        "contributor": person_out(contribution.contributor, with_email=True),
        "declared_by": person_out(contribution.declared_by, with_email=True),
        "performed_on": contribution.performed_on,
        "hours": None if contribution.hours is None else str(contribution.hours),
        "kind": contribution.kind,
        "activities": [a.name for a in contribution.activities.all()],
        "description": contribution.description,
        "link": contribution.evidence_url,
        "amount_asked": None if contribution.amount_asked is None else str(contribution.amount_asked),
        "amount_granted": None if contribution.amount_granted is None else str(contribution.amount_granted),
        "status": contribution.status,
        "validations": validations,
        "validated_at": contribution.validated_at,
        "created_at": contribution.created_at,
    }


def contribution_detail(user: User, contribution_id: int) -> dict[str, Any]:
    contribution = contribution_selectors.contribution_for(user, contribution_id)
    reviews = list(contribution_selectors.reviews_of(contribution))
    insider = project_selectors.is_network_member(user, contribution.project.network_id)
    return {
        **contribution_out(contribution, validations=sum(r.verdict == Verdict.VALIDATE for r in reviews)),
        "reviews": [
            {
                "id": r.pk,
                "reviewer": person_out(r.reviewer, with_email=insider),
                "verdict": r.verdict,
                "message": r.message,
                "created_at": r.created_at,
            }
            for r in reviews
        ],
    }


def _budget(budget_id: int | None) -> Budget | None:
    if budget_id is None:
        return None
    budget = Budget.objects.filter(pk=budget_id).first()
    if budget is None:
        raise BudgetNotFound()
    return budget


def _activities(project: Project, budget: Budget | None, names: list[str]) -> list[Activity]:
    index = project_selectors.activity_index(network_id=project.network_id, budget=budget)
    found = []
    for name in names:
        activity = index.get(" ".join(name.split()).casefold())
        if activity is None:
            raise declaration_invalid("unknown_activity", {"value": name}, field="activities")
        found.append(activity)
    return found


@router.get(
    "/contributions",
    response={200: ContributionPageOut, **ERRORS},
    summary="List contributions",
    description="Contributions the caller may read (their own, those they declared, those of their "
    "network's projects), newest first. Filter by `project` (id), `budget` (id), `status`, "
    "`contributor=me` (only the caller's) and `to_review` (submitted, neither theirs nor validated by them "
    "yet). Paginated with `limit` and `offset`.",
)
def list_contributions(
    request: HttpRequest,
    project: DbId | None = None,
    budget: DbId | None = None,
    status: ContributionStatus | None = None,
    contributor: Literal["me"] | None = None,
    to_review: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    user = caller(request)
    found = contribution_selectors.contributions(
        user,
        project_id=project,
        budget_id=budget,
        status=str(status) if status else None,
        mine=contributor == "me",
        to_review=to_review,
    ).annotate(validation_count=Count("reviews", filter=Q(reviews__verdict=Verdict.VALIDATE)))
    return paginate(request, found, limit=limit, offset=offset, serialize=contribution_out)


@router.post(
    "/contributions",
    response={201: ContributionDetailOut, **ERRORS},
    summary="Declare a contribution",
    description="Declare what was done for `project`, optionally asking `amount_asked` euros from `budget`. "
    "Declared by the contributor it is `submitted` for review; declared by a steward for `contributor` it "
    "is `awaiting` that person's confirmation. 403 `not_steward`; 404 `unknown_project`, `unknown_budget`, "
    "`unknown_person`; 409 `budget_closed`, `project_archived`; 422 `in_future`, `before_budget`, "
    "`after_budget` (outside the budget's period), `budget_not_for_project`, `amount_needs_budget`, "
    "`unknown_activity`, `invalid_evidence`… A refused request writes nothing.",
)
def post_contribution(request: HttpRequest, payload: ContributionIn):
    user = caller(request)
    project = Project.objects.filter(pk=payload.project).select_related("venue").first()
    if project is None:
        raise ProjectNotFound()
    budget = _budget(payload.budget)
    contributor = user
    if payload.contributor is not None and payload.contributor.lower() != user.email.lower():
        if not project_selectors.is_steward(user, project):
            if not project_selectors.may_see_project(user, project):
                raise ProjectNotFound()
            raise NotSteward()
        contributor = _person_by_email(payload.contributor)
    contribution = declare_contribution(
        actor=user,
        project=project,
        contributor=contributor,
        performed_on=payload.performed_on,
        hours=payload.hours,
        kind=payload.kind,
        activities=_activities(project, budget, payload.activities),
        description=payload.description,
        evidence_url=payload.link,
        budget=budget,
        amount_asked=payload.amount_asked,
    )
    return Status(201, contribution_detail(user, contribution.pk))


# --- Import ----------------------------------------------------------------------------------------------


class ImportIn(Input):
    project: DbId
    budget: DbId | None = Field(None, description="The budget the amounts are asked from.")
    format: Literal["lines", "csv"] = Field(
        "lines",
        description="`lines`: one contribution per line, e.g. `01/02/2026 2h 60€ Communication, Animation : "
        "newsletter de février`; `csv`: a header row then one row each (columns `date`, `hours`, `amount`, "
        "`activities`, `description`, and optionally `contributor`, `kind`, `link`).",
    )
    content: ImportText
    kind: ContributionKind = Field(ContributionKind.TIME, description="Kind of the lines that give none.")
    dry_run: bool = Field(False, description="Only read and check every line: the preview, nothing saved.")


class PreviewLineOut(Schema):
    line: int = Field(description="Line number in the content, from 1.")
    ok: bool
    code: str | None = Field(description="Why the line cannot be imported, e.g. `invalid_date`.")
    detail: str | None
    already_imported: bool = Field(description="Saved by an earlier run of the same import: skipped.")
    performed_on: date | None
    hours: str | None
    amount_asked: str | None
    activities: list[str]
    description: str | None
    contributor: str | None = Field(description="E-mail of the contributor.")
    kind: str | None
    link: str | None


class ImportPreviewOut(Schema):
    valid: bool = Field(description="Every line can be imported.")
    import_key: str
    lines: list[PreviewLineOut]
    to_create: int
    already_imported: int
    bad_lines: int


class ImportOut(Schema):
    import_key: str
    created: int
    skipped: int = Field(description="Lines saved by an earlier run of the same import.")
    contributions: list[int] = Field(description="Ids of the contributions created.")


class LineErrorOut(Schema):
    line: int
    code: str
    detail: str


class ImportRejectedOut(ValidationErrorOut):
    lines: list[LineErrorOut] | None = Field(
        None, description="Every bad line, when the lines were at fault."
    )


def _line_contributor(line: PreviewLine) -> str | None:
    if line.contributor is not None:
        return line.contributor.email
    return (line.row.contributor_email or None) if line.row else None


def preview_out(preview: ImportPreview) -> dict[str, Any]:
    lines = []
    for ln in preview.lines:
        row = ln.row
        lines.append(
            {
                "line": ln.number,
                "ok": ln.ok,
                "code": ln.problem.code if ln.problem else None,
                "detail": ln.message or None,
                "already_imported": ln.already_imported,
                "performed_on": row.performed_on if row else None,
                "hours": None if row is None or row.hours is None else str(row.hours),
                "amount_asked": None if row is None or row.amount is None else str(row.amount),
                "activities": list(row.activities) if row else [],
                "description": row.description if row else None,
                "contributor": _line_contributor(ln),
                "kind": ln.kind or None,
                "link": row.link if row else None,
            }
        )
    fine = [ln for ln in preview.lines if ln.ok]
    return {
        "valid": preview.ok,
        "import_key": preview.import_key,
        "lines": lines,
        "to_create": sum(not ln.already_imported for ln in fine),
        "already_imported": sum(ln.already_imported for ln in fine),
        "bad_lines": len(preview.lines) - len(fine),
    }


@router.post(
    "/contributions/import",
    response={
        200: ImportPreviewOut | ImportOut,
        201: ImportOut,
        **ERRORS,
        422: ImportRejectedOut,
    },
    summary="Import contributions in bulk",
    description="Declare many contributions at once from pasted lines or CSV. With `dry_run`, the preview: "
    "every line read and checked, with its problem if any (200). Otherwise every line is saved in one "
    "transaction (201), or nothing when any line is bad: 422 `import_rejected` with `lines`, each bad line's "
    "number, `code` and `detail`. Replaying the same import creates nothing twice (200 with `created: 0`). "
    "404 `unknown_project`, `unknown_budget`; 409 `budget_closed`, `project_archived`; 422 `import_empty`, "
    "`import_too_large`; 413 beyond the request size limit.",
)
def post_import(request: HttpRequest, payload: ImportIn):
    user = caller(request)
    project = Project.objects.filter(pk=payload.project).select_related("venue").first()
    if project is None:
        raise ProjectNotFound()
    budget = _budget(payload.budget)
    if payload.dry_run:
        preview = preview_import(
            actor=user,
            project=project,
            content=payload.content,
            fmt=payload.format,
            budget=budget,
            kind=payload.kind,
        )
        return preview_out(preview)
    result = import_contributions(
        actor=user,
        project=project,
        content=payload.content,
        fmt=payload.format,
        budget=budget,
        kind=payload.kind,
    )
    body = {
        "import_key": result.import_key,
        "created": len(result.created),
        "skipped": result.skipped,
        "contributions": [c.pk for c in result.created],
    }
    return Status(201 if result.created else 200, body)


# Declared after the import route: `/contributions/import` must not be read as a contribution id.
@router.get(
    "/contributions/{contribution_id}",
    response={200: ContributionDetailOut, **ERRORS},
    summary="One contribution",
    description="A contribution with its reviews. 404 `unknown_contribution` for one the caller may not "
    "read.",
)
def get_contribution(request: HttpRequest, contribution_id: DbId):
    return contribution_detail(caller(request), contribution_id)


# --- Review and the contributor's answers -----------------------------------------------------------------


class ReviewIn(Input):
    verdict: Verdict = Field(description="`comment`, `question`, `validate` or `refuse`.")
    message: Message = Field("", description="Required for comments, questions and refusals.")


class ReviewResultOut(Schema):
    review: ReviewOut
    contribution: ContributionDetailOut


class ReasonIn(Input):
    reason: Annotated[str, Len(0, 300), AfterValidator(_no_nul)] = ""


@router.post(
    "/contributions/{contribution_id}/review",
    response={201: ReviewResultOut, **ERRORS},
    summary="Review a contribution",
    description="Comment, ask a question (the contributor is e-mailed and answers with a comment), "
    "validate or refuse, under the budget's rules (who validates and how many validations). The validation "
    "that reaches the required number validates the request and grants the amount asked. 403 "
    "`own_contribution` (nobody decides on a request they made or declared), `not_a_validator`; 404 "
    "`unknown_contribution`; 409 `already_validated`, `contribution_state`, `budget_closed`, "
    "`envelope_exceeded` (the budget's envelope is a hard limit and this would pass it); 422 "
    "`message_required`.",
)
def post_review(request: HttpRequest, contribution_id: DbId, payload: ReviewIn):
    user = caller(request)
    contribution = contribution_selectors.contribution_for(user, contribution_id)
    review = review_contribution(
        contribution=contribution, reviewer=user, verdict=payload.verdict, message=payload.message
    )
    detail = contribution_detail(user, contribution.pk)
    mine = next(r for r in detail["reviews"] if r["id"] == review.pk)
    return Status(201, {"review": mine, "contribution": detail})


@router.post(
    "/contributions/{contribution_id}/confirm",
    response={200: ContributionDetailOut, **ERRORS},
    summary="Confirm a contribution declared for you",
    description="The contributor agrees with what a steward declared for them: it goes to review. 403 "
    "`not_your_contribution`; 409 `contribution_state` when it is not awaiting confirmation.",
)
def post_confirm(request: HttpRequest, contribution_id: DbId):
    user = caller(request)
    contribution = contribution_selectors.contribution_for(user, contribution_id)
    confirm_contribution(contribution=contribution, actor=user)
    return contribution_detail(user, contribution.pk)


@router.post(
    "/contributions/{contribution_id}/withdraw",
    response={200: ContributionDetailOut, **ERRORS},
    summary="Withdraw a contribution",
    description="The contributor takes back a request not decided yet, or declines one a steward declared "
    "for them; the steward who declared it may take it back while it awaits confirmation. 403 "
    "`not_your_contribution`; 409 `contribution_state` once validated, refused or paid.",
)
def post_withdraw(request: HttpRequest, contribution_id: DbId, payload: ReasonIn):
    user = caller(request)
    contribution = contribution_selectors.contribution_for(user, contribution_id)
    if (
        contribution.contributor_id == user.pk
        and contribution.status == ContributionStatus.AWAITING_CONFIRMATION
    ):
        decline_contribution(contribution=contribution, actor=user, reason=payload.reason)
    else:
        withdraw_contribution(contribution=contribution, actor=user, reason=payload.reason)
    return contribution_detail(user, contribution.pk)


api.add_router("", router)
