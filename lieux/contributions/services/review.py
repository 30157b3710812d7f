"""Peer review of a contribution: comments, questions, validations and refusals, under the rules of the
request's budget (rules/review.py states them).

The validation that reaches the budget's required number validates the request: `amount_granted` takes the
amount asked and the ledger posts VALIDATION (envelope +G / owed to the contributor −G). Guard rail: in the
same transaction the budget's row is locked first (`lock_budget`), then the envelope left is read from the
ledger, so two validations on one budget never decide on the same balance. Beyond the envelope, a budget
whose overrun is `refuse` refuses the validation (409 `envelope_exceeded`, nothing written); one whose
overrun is `deficit` validates it and is put in deficit (audited `contributions.budget.deficit`).
SQLite's IMMEDIATE transactions serialise writers anyway; on PostgreSQL the row lock does it
(tests/concurrency/test_contribution_validation_race.py shows the race without it).

Locks are always taken budget first, then contribution, as payouts and closing do, so that no two use cases
wait on each other in opposite orders.
"""

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.errors import (
    AlreadyValidated,
    ContributionStateError,
    EnvelopeExceeded,
    MessageRequired,
    NotAReviewer,
    NotAValidator,
    OwnContribution,
)
from lieux.contributions.errors_budgets import BudgetClosed
from lieux.contributions.models import (
    Account,
    Budget,
    BudgetStatus,
    Contribution,
    ContributionStatus,
    Review,
    TransactionKind,
    Validators,
    Verdict,
)
from lieux.contributions.rules import review as rules
from lieux.contributions.selectors import projects as project_selectors
from lieux.contributions.selectors.budgets import account_balance, may_manage_budget
from lieux.contributions.selectors.contributions import validations_of
from lieux.contributions.services import hours
from lieux.contributions.services.budgets import lock_budget
from lieux.contributions.services.ledger import Leg, post
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.core.money import ZERO
from lieux.core.time import now

log = logging.getLogger("lieux.contributions.review")

MAX_MESSAGE = 5000

# The review rules of a request that asks nothing from any budget.
WITHOUT_BUDGET = rules.ReviewRules(validators=Validators.STEWARDS, validations_required=1)
WITHOUT_BUDGET_OR_STEWARD = rules.ReviewRules(validators=Validators.MANAGERS, validations_required=1)

PROBLEMS: dict[str, Any] = {
    "not_a_reviewer": NotAReviewer,
    "own_contribution": OwnContribution,
    "not_a_validator": NotAValidator,
    "already_validated": AlreadyValidated,
    "message_required": MessageRequired,
}


def validation_key(contribution: Contribution) -> str:
    return f"validation:{contribution.pk}"


def remaining_envelope(budget: Budget) -> Decimal:
    """What is left to validate: committed − granted. The envelope account's balance is its opposite;
    read from the per-day ledger totals so that validating stays cheap on a long budget. Negative in
    deficit."""
    return -account_balance(budget, Account.ENVELOPE)


def review_rules(contribution: Contribution, budget: Budget | None) -> rules.ReviewRules:
    if budget is not None:
        return rules.ReviewRules(
            validators=budget.validators, validations_required=budget.validations_required
        )
    if contribution.project.stewards.exists():
        return WITHOUT_BUDGET
    return WITHOUT_BUDGET_OR_STEWARD


def reviewer_facts(reviewer: User, contribution: Contribution, budget: Budget | None) -> rules.Reviewer:
    project = contribution.project
    if budget is not None:
        manages = may_manage_budget(reviewer, budget)
    else:
        manages = project_selectors.may_manage(
            reviewer, network_id=project.network_id, venue_id=project.venue_id
        )
    return rules.Reviewer(
        person_id=reviewer.pk,
        is_steward=project_selectors.is_steward(reviewer, project),
        is_network_member=project_selectors.is_network_member(reviewer, project.network_id),
        manages=manages,
    )


def may_decide(reviewer: User, contribution: Contribution) -> bool:
    """Whether `reviewer` could validate or refuse this request now (for pages showing the buttons)."""
    budget = contribution.budget
    facts = reviewer_facts(reviewer, contribution, budget)
    request = rules.Request(
        contributor_id=contribution.contributor_id,
        declared_by_id=contribution.declared_by_id,
        status=contribution.status,
        validated_by=frozenset(validations_of(contribution)),
    )
    problem = rules.review_problem(
        rules.VALIDATE, reviewer=facts, request=request, rules=review_rules(contribution, budget), message="-"
    )
    return problem is None


def _raise(problem: str, current: Contribution) -> None:
    if problem == "contribution_state":
        raise ContributionStateError(
            _("This contribution is %(status)s: it cannot be reviewed this way.")
            % {"status": ContributionStatus(current.status).label.lower()}
        )
    if problem == "invalid_verdict":
        raise ValidationError(_("Not a valid choice."), code="invalid_verdict", field="verdict")
    raise PROBLEMS[problem]()


def review_contribution(
    *, contribution: Contribution, reviewer: User, verdict: str, message: str = ""
) -> Review:
    """Record one person's word on a request, and what it decides. Refused reviews write nothing."""
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": MAX_MESSAGE}, code="too_long", field="message"
        )
    if "\x00" in message or any(0xD800 <= ord(c) <= 0xDFFF for c in message):
        raise ValidationError(
            _("The text holds control characters."), code="invalid_characters", field="message"
        )
    deciding = verdict in (Verdict.VALIDATE, Verdict.REFUSE)

    def write() -> Review:
        budget = None
        if deciding and contribution.budget_id is not None:
            budget = lock_budget(contribution.budget_id)
        # Locked even without a budget: two validations arriving together must count each other.
        current = (
            Contribution.objects.select_for_update(of=("self",))
            .select_related("project", "contributor")
            .get(pk=contribution.pk)
        )
        if budget is None and current.budget_id is not None:
            budget = Budget.objects.get(pk=current.budget_id)
        request = rules.Request(
            contributor_id=current.contributor_id,
            declared_by_id=current.declared_by_id,
            status=current.status,
            validated_by=frozenset(validations_of(current)),
        )
        review_rules_ = review_rules(current, budget)
        problem = rules.review_problem(
            verdict,
            reviewer=reviewer_facts(reviewer, current, budget),
            request=request,
            rules=review_rules_,
            message=message,
        )
        if problem is not None:
            _raise(problem, current)
        if deciding and budget is not None and budget.status == BudgetStatus.CLOSED:
            raise BudgetClosed()
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    contribution=current, reviewer=reviewer, verdict=verdict, message=message
                )
        except IntegrityError:
            raise AlreadyValidated() from None
        venue_id = current.project.venue_id
        if verdict == Verdict.REFUSE:
            current.status = ContributionStatus.REFUSED
            current.save(update_fields=["status"])
            audit.record(
                "contributions.contribution.refused",
                current,
                actor=reviewer,
                venue_id=venue_id,
                message=message,
            )
        elif verdict == Verdict.VALIDATE:
            if rules.completes(request, reviewer.pk, review_rules_):
                _validate(current, budget, reviewer=reviewer, validators=request.validated_by | {reviewer.pk})
            else:
                audit.record(
                    "contributions.contribution.validation_added",
                    current,
                    actor=reviewer,
                    venue_id=venue_id,
                    validations=len(request.validated_by) + 1,
                    required=review_rules_.validations_required,
                )
        else:
            audit.record(
                f"contributions.contribution.{'questioned' if verdict == Verdict.QUESTION else 'commented'}",
                current,
                actor=reviewer,
                venue_id=venue_id,
                review=review.pk,
            )
            if verdict == Verdict.QUESTION and current.contributor_id != reviewer.pk:
                review_id = review.pk
                # Robust: a failed e-mail must not turn a recorded question into an error.
                transaction.on_commit(lambda: notify_question(review_id), robust=True)
        return review

    return atomic_with_retry(write)


def _validate(
    current: Contribution, budget: Budget | None, *, reviewer: User, validators: frozenset[int]
) -> None:
    """Validate the request and post what it grants; the caller holds the budget's and the request's locks."""
    amount = current.amount_asked
    venue_id = current.project.venue_id
    if budget is not None and amount is not None and amount > 0:
        remaining = remaining_envelope(budget)
        outcome = rules.envelope_outcome(remaining=remaining, amount=amount, overrun=budget.overrun)
        if outcome == rules.OVER_REFUSED:
            raise EnvelopeExceeded(amount, max(remaining, ZERO))
        post(
            budget=budget,
            key=validation_key(current),
            kind=TransactionKind.VALIDATION,
            legs=[
                Leg(Account.ENVELOPE, amount),
                Leg(Account.OWED, -amount, person_id=current.contributor_id),
            ],
            memo=current.description[:200],
            actor=reviewer,
        )
        if outcome == rules.OVER_DEFICIT and budget.status == BudgetStatus.OPEN:
            budget.status = BudgetStatus.DEFICIT
            budget.save(update_fields=["status"])
            audit.record(
                "contributions.budget.deficit",
                budget,
                actor=reviewer,
                venue_id=budget.venue_id,
                contribution=current.pk,
                amount=str(amount),
                remaining_before=str(remaining),
                remaining_after=str(remaining - amount),
            )
    current.status = ContributionStatus.VALIDATED
    current.amount_granted = amount
    current.validated_at = now()
    current.save(update_fields=["status", "amount_granted", "validated_at"])
    hours.count_validated(current)
    audit.record(
        "contributions.contribution.validated",
        current,
        actor=reviewer,
        venue_id=venue_id,
        budget=current.budget_id,
        amount_granted=None if amount is None else str(amount),
        validators=sorted(validators),
    )


def notify_question(review_id: int) -> None:
    """E-mail the contributor a reviewer's question, after the question is committed. A failed e-mail is
    logged: the question stays on the request, where the contributor sees it."""
    review = Review.objects.select_related(
        "contribution__contributor", "contribution__project", "reviewer"
    ).get(pk=review_id)
    person = review.contribution.contributor
    if not person.email:
        return
    with translation.override(person.language or settings.LANGUAGE_CODE):
        context = {
            "reviewer": review.reviewer.get_short_name(),
            "project": review.contribution.project.title,
            "day": f"{review.contribution.performed_on:%d/%m/%Y}",
        }
        subject = _("A question about your contribution to %(project)s") % context
        body = "\n\n".join(
            [
                _("Hello,"),
                _("%(reviewer)s has a question about your contribution of %(day)s to %(project)s:") % context,
                review.message,
                _("Answer with a comment on the contribution, so that the review can go on."),
            ]
        )
    try:
        EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[person.email]
        ).send()
    except Exception:  # a mail server down must not undo a question already recorded
        log.exception("Could not e-mail question %s", review_id)
