"""Peer review of a contribution: who may say what, when a request is validated, and what a validation
that passes the envelope does. Pure: the service gathers the facts under its locks.

Policies:

- **Who validates or refuses** follows the budget's rules: its `stewards` (the project's), any `members`
  of the network (a person with a role at any of its venues, its admins, and the project's stewards), or
  its `managers` (the venue's managers; for a network-wide budget, the managers of the network's venues and
  its admins). A contribution asking nothing from any budget is reviewed by the project's stewards, or by
  the project's managers when it has no steward, one validation being enough.
- **Nobody decides on their own request**: neither the contributor nor the person who declared it for them
  (a steward declaring for someone vouches for it already; another person must agree) may validate or
  refuse it. They may comment and answer questions.
- **Validations** count once per person; the request is validated when `validations_required` distinct
  people have validated it. **A refusal** by one entitled person is final and must say why; the contributor
  may declare again.
- **Comments and questions** come from anyone taking part: the contributor, the declarer, the people of the
  network (who read its requests), the stewards and those entitled to validate. Each needs a message.
  Questions are asked while the request is awaiting confirmation or review; comments are welcome whatever
  its state, except once withdrawn.
- **The envelope** (committed − granted) is checked under the budget's lock before a validation is posted:
  within it, validated; beyond it, refused when the budget's overrun is `refuse` (a hard cap) or validated
  with the budget put in deficit when it is `deficit`.
"""

from dataclasses import dataclass
from decimal import Decimal

COMMENT, QUESTION, VALIDATE, REFUSE = "comment", "question", "validate", "refuse"
VERDICTS = (COMMENT, QUESTION, VALIDATE, REFUSE)
STEWARDS, MEMBERS, MANAGERS = "stewards", "members", "managers"

AWAITING, SUBMITTED, WITHDRAWN = "awaiting", "submitted", "withdrawn"

# Outcomes of the envelope check
WITHIN, OVER_REFUSED, OVER_DEFICIT = "within", "over_refused", "over_deficit"


@dataclass(frozen=True)
class ReviewRules:
    validators: str
    validations_required: int


@dataclass(frozen=True)
class Reviewer:
    person_id: int
    is_steward: bool
    is_network_member: bool
    manages: bool  # manages the budget (the project, for a request without a budget)


@dataclass(frozen=True)
class Request:
    contributor_id: int
    declared_by_id: int
    status: str
    validated_by: frozenset[int]


def entitled(reviewer: Reviewer, rules: ReviewRules) -> bool:
    """Whether the budget's rules let this person validate or refuse."""
    if rules.validators == STEWARDS:
        return reviewer.is_steward
    if rules.validators == MEMBERS:
        return reviewer.is_network_member or reviewer.is_steward
    if rules.validators == MANAGERS:
        return reviewer.manages
    return False


def own(reviewer: Reviewer, request: Request) -> bool:
    return reviewer.person_id in (request.contributor_id, request.declared_by_id)


def takes_part(reviewer: Reviewer, request: Request, rules: ReviewRules) -> bool:
    return (
        own(reviewer, request)
        or reviewer.is_steward
        or reviewer.is_network_member
        or reviewer.manages
        or entitled(reviewer, rules)
    )


def review_problem(
    verdict: str, *, reviewer: Reviewer, request: Request, rules: ReviewRules, message: str
) -> str | None:
    """The code of the rule this review breaks, or None when it may be recorded. Checked in an order that
    tells outsiders nothing (`not_a_reviewer` first) and insiders the most useful thing."""
    if verdict not in VERDICTS:
        return "invalid_verdict"
    if not takes_part(reviewer, request, rules):
        return "not_a_reviewer"
    if verdict in (VALIDATE, REFUSE):
        if own(reviewer, request):
            return "own_contribution"
        if not entitled(reviewer, rules):
            return "not_a_validator"
        if request.status != SUBMITTED:
            return "contribution_state"
        if verdict == VALIDATE and reviewer.person_id in request.validated_by:
            return "already_validated"
        if verdict == REFUSE and not message.strip():
            return "message_required"
        return None
    if not message.strip():
        return "message_required"
    if request.status == WITHDRAWN or (verdict == QUESTION and request.status not in (AWAITING, SUBMITTED)):
        return "contribution_state"
    return None


def completes(request: Request, reviewer_id: int, rules: ReviewRules) -> bool:
    """Whether this person's validation is the one that reaches the required number."""
    return len(request.validated_by | {reviewer_id}) >= rules.validations_required


def envelope_outcome(*, remaining: Decimal, amount: Decimal, overrun: str) -> str:
    """`remaining` is the envelope left before this validation (negative when already in deficit)."""
    if amount <= remaining:
        return WITHIN
    return OVER_REFUSED if overrun == "refuse" else OVER_DEFICIT
