"""Peer review: who may comment, question, validate and refuse under each budget's rules; what a validation
grants and posts; the envelope's guard rail (hard cap or explicit deficit). Refused reviews write nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from hypothesis import given
from hypothesis import strategies as st

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
    BudgetStatus,
    ContributionStatus,
    LedgerEntry,
    LedgerTransaction,
    Overrun,
    Review,
    TransactionKind,
    Validators,
)
from lieux.contributions.rules import review as rules
from lieux.contributions.services.declare import confirm_contribution, declare_contribution
from lieux.contributions.services.review import may_decide, review_contribution
from lieux.core.models import AuditEvent
from lieux.venues.models import Role
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, fund
from tests.factories import UserFactory, add_role

D = Decimal


@pytest.fixture
def second_steward(venue, garden):
    person = UserFactory(email="soucieuse@example.org", first_name="Maïa")
    add_role(person, venue)
    garden.stewards.add(person)
    return person


def ask(person, project, budget=None, amount="60", **fields):
    return declare_contribution(
        actor=fields.pop("actor", person),
        contributor=person,
        project=project,
        performed_on=date(2026, 2, 1),
        description="Atelier réparation",
        budget=budget,
        amount_asked=amount if budget else None,
        **fields,
    )


def review(contribution, reviewer, verdict, message=""):
    return review_contribution(contribution=contribution, reviewer=reviewer, verdict=verdict, message=message)


def written() -> tuple[int, int, int, int]:
    return Review.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count(), _statuses()


def _statuses() -> int:
    return hash(tuple(data.Budget.objects.values_list("status", flat=True)))


def test_a_stewards_validation_validates_grants_and_posts_to_the_ledger(member, steward, garden, budget):
    fund(budget, "1000")
    request = ask(member, garden, budget, amount="60.50")
    review(request, steward, "validate")
    request.refresh_from_db()
    assert (request.status, request.amount_granted) == (ContributionStatus.VALIDATED, D("60.50"))
    assert request.validated_at is not None
    posting = LedgerTransaction.objects.get(kind=TransactionKind.VALIDATION)
    assert posting.key == f"validation:{request.pk}"
    assert {(e.account, e.amount, e.person_id) for e in posting.entries.all()} == {
        (Account.ENVELOPE, D("60.50"), None),
        (Account.OWED, D("-60.50"), member.pk),
    }
    event = AuditEvent.objects.get(action="contributions.contribution.validated")
    assert (event.actor, event.data["amount_granted"], event.data["validators"]) == (
        steward,
        "60.50",
        [steward.pk],
    )
    figures = assert_ledger_sound(budget)
    assert (figures.granted, figures.remaining) == (D("60.50"), D("939.50"))


def test_nobody_decides_on_their_own_request_nor_on_one_they_declared_for_someone(
    member, steward, second_steward, garden, budget
):
    fund(budget, "1000")
    own = ask(steward, garden, budget)
    for verdict in ("validate", "refuse"):
        before = written()
        with pytest.raises(OwnContribution):
            review(own, steward, verdict, "non")
        assert written() == before
    for_member = ask(member, garden, budget, actor=steward)
    confirm_contribution(contribution=for_member, actor=member)
    with pytest.raises(OwnContribution):
        review(for_member, steward, "validate")
    with pytest.raises(OwnContribution):
        review(for_member, member, "validate")
    review(for_member, second_steward, "validate")
    for_member.refresh_from_db()
    assert for_member.status == ContributionStatus.VALIDATED


def test_the_budgets_rules_say_who_validates(
    member, other_member, steward, manager, stranger, garden, budget
):
    fund(budget, "1000")
    request = ask(member, garden, budget)
    with pytest.raises(NotAValidator):  # a member of the network, but the budget asks for stewards
        review(request, other_member, "validate")
    with pytest.raises(NotAReviewer):  # no part in it at all: as if it did not exist
        review(request, stranger, "validate")
    assert may_decide(steward, request) and not may_decide(other_member, request)
    assert not may_decide(member, request)
    budget.validators = Validators.MEMBERS
    budget.save()
    review(request, other_member, "validate")
    request.refresh_from_db()
    assert request.status == ContributionStatus.VALIDATED


def test_members_of_any_venue_of_the_network_validate_a_members_budget(member, other_venue, garden, budget):
    budget.validators = Validators.MEMBERS
    budget.save()
    elsewhere = UserFactory(email="baraka@example.org")
    add_role(elsewhere, other_venue)
    request = ask(member, garden, budget, amount=None)
    review(request, elsewhere, "validate")
    request.refresh_from_db()
    assert request.status == ContributionStatus.VALIDATED


def test_managers_validate_a_managers_budget_and_a_network_budget_is_for_the_networks_managers(
    member, steward, manager, other_manager, network, garden, budget
):
    fund(budget, "1000")
    budget.validators = Validators.MANAGERS
    budget.save()
    request = ask(member, garden, budget)
    with pytest.raises(NotAValidator):
        review(request, steward, "validate")
    with pytest.raises(NotAValidator):  # the manager of another venue has no say on this venue's budget
        review(request, other_manager, "validate")
    review(request, manager, "validate")
    network_budget = data.budget(network, "reseau", validators=Validators.MANAGERS)
    fund(network_budget, "100")
    across = ask(member, garden, network_budget, amount="10")
    review(across, other_manager, "validate")
    across.refresh_from_db()
    assert across.status == ContributionStatus.VALIDATED


def test_validations_count_once_per_person_up_to_the_budgets_number(
    member, steward, second_steward, garden, budget
):
    fund(budget, "1000")
    budget.validations_required = 2
    budget.save()
    request = ask(member, garden, budget)
    review(request, steward, "validate")
    request.refresh_from_db()
    assert request.status == ContributionStatus.SUBMITTED
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.VALIDATION).exists()
    assert AuditEvent.objects.get(action="contributions.contribution.validation_added").data == {
        "validations": 1,
        "required": 2,
    }
    with pytest.raises(AlreadyValidated):
        review(request, steward, "validate")
    review(request, second_steward, "validate")
    request.refresh_from_db()
    assert request.status == ContributionStatus.VALIDATED
    assert LedgerTransaction.objects.filter(kind=TransactionKind.VALIDATION).count() == 1


def test_a_refusal_says_why_and_is_final(member, steward, second_steward, garden, budget):
    request = ask(member, garden, budget)
    before = written()
    with pytest.raises(MessageRequired):
        review(request, steward, "refuse", "  ")
    assert written() == before
    review(request, steward, "refuse", "Hors du périmètre du chantier")
    request.refresh_from_db()
    assert request.status == ContributionStatus.REFUSED
    assert AuditEvent.objects.get(action="contributions.contribution.refused").data["message"] == (
        "Hors du périmètre du chantier"
    )
    with pytest.raises(ContributionStateError):
        review(request, second_steward, "validate")


def test_a_question_is_recorded_and_e_mailed_and_the_contributor_answers_with_a_comment(
    member, steward, stranger, garden, budget, django_capture_on_commit_callbacks
):
    request = ask(member, garden, budget)
    with django_capture_on_commit_callbacks(execute=True):
        question = review(request, steward, "question", "Combien de participants ?")
    assert question.verdict == "question"
    assert AuditEvent.objects.filter(action="contributions.contribution.questioned").count() == 1
    [sent] = mail.outbox
    assert sent.to == [member.email]
    assert "Combien de participants ?" in sent.body
    answer = review(request, member, "comment", "Douze, liste en pièce jointe")
    assert answer.reviewer == member
    request.refresh_from_db()
    assert request.status == ContributionStatus.SUBMITTED  # talk changes nothing
    with pytest.raises(MessageRequired):
        review(request, member, "comment", "")
    with pytest.raises(NotAReviewer):
        review(request, stranger, "comment", "Je passe")


def test_a_request_awaiting_its_contributors_confirmation_is_not_reviewed_yet(
    member, steward, second_steward, garden
):
    pending = ask(member, garden, actor=steward)
    with pytest.raises(ContributionStateError):
        review(pending, second_steward, "validate")
    assert review(pending, second_steward, "question", "Tu confirmes ?").verdict == "question"


def test_with_a_hard_cap_a_validation_beyond_the_envelope_is_refused_and_writes_nothing(
    member, other_member, steward, garden, budget
):
    budget.overrun = Overrun.REFUSE
    budget.save()
    fund(budget, "100")
    first = ask(member, garden, budget, amount="60")
    second = ask(other_member, garden, budget, amount="60")
    review(first, steward, "validate")
    before = written()
    with pytest.raises(EnvelopeExceeded) as refused:
        review(second, steward, "validate")
    assert refused.value.status == 409
    assert (refused.value.extra["asked"], refused.value.extra["remaining"]) == ("60.00", "40.00")
    assert written() == before
    second.refresh_from_db()
    assert second.status == ContributionStatus.SUBMITTED
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.OPEN
    # What still fits is validated.
    third = ask(other_member, garden, budget, amount="40")
    review(third, steward, "validate")
    assert assert_ledger_sound(budget).remaining == 0


def test_in_deficit_mode_the_validation_passes_and_the_budget_is_flagged_once(
    member, other_member, steward, garden, budget
):
    fund(budget, "100")
    review(ask(member, garden, budget, amount="60"), steward, "validate")
    review(ask(other_member, garden, budget, amount="60"), steward, "validate")
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.DEFICIT
    event = AuditEvent.objects.get(action="contributions.budget.deficit")
    assert (event.data["remaining_before"], event.data["remaining_after"]) == ("40.00", "-20.00")
    review(ask(member, garden, budget, amount="5"), steward, "validate")
    assert AuditEvent.objects.filter(action="contributions.budget.deficit").count() == 1
    figures = assert_ledger_sound(budget)
    assert (figures.granted, figures.deficit) == (D("125.00"), D("25.00"))


def test_a_request_asking_nothing_is_simply_validated(member, steward, garden, budget):
    request = ask(member, garden, budget, amount=None)
    review(request, steward, "validate")
    request.refresh_from_db()
    assert (request.status, request.amount_granted) == (ContributionStatus.VALIDATED, None)
    assert not LedgerTransaction.objects.exists()
    without_budget = ask(member, garden)
    review(without_budget, steward, "validate")
    without_budget.refresh_from_db()
    assert without_budget.status == ContributionStatus.VALIDATED


def test_without_budget_nor_steward_the_projects_managers_validate(
    member, other_member, manager, network, venue, clock
):
    orphan = data.project(network, "sans-soucieux", venue=venue)
    request = ask(member, orphan)
    with pytest.raises(NotAValidator):
        review(request, other_member, "validate")
    review(request, manager, "validate")
    request.refresh_from_db()
    assert request.status == ContributionStatus.VALIDATED


def test_a_closed_budget_takes_no_validation(member, steward, garden, budget):
    request = ask(member, garden, budget)
    budget.status = BudgetStatus.CLOSED
    budget.save()
    with pytest.raises(BudgetClosed):
        review(request, steward, "validate")
    # Talking about it is still possible.
    assert review(request, steward, "comment", "Trop tard, hélas").verdict == "comment"


def test_network_admins_count_as_members_of_the_network(member, network, garden, budget):
    admin = UserFactory(email="reseau@example.org")
    network.admins.add(admin)
    budget.validators = Validators.MEMBERS
    budget.save()
    request = ask(member, garden, budget, amount=None)
    review(request, admin, "validate")
    request.refresh_from_db()
    assert request.status == ContributionStatus.VALIDATED
    assert Role.MANAGER  # the admin holds no role at any venue


# The rules, for any facts -------------------------------------------------------------------------------

people = st.integers(1, 6)


@given(
    reviewer=st.builds(rules.Reviewer, people, st.booleans(), st.booleans(), st.booleans()),
    contributor=people,
    declared_by=people,
    status=st.sampled_from(["awaiting", "submitted", "validated", "refused", "paid", "withdrawn"]),
    validated_by=st.frozensets(people, max_size=4),
    validators=st.sampled_from(["stewards", "members", "managers"]),
    verdict=st.sampled_from(rules.VERDICTS),
)
def test_nobody_ever_decides_on_their_own_request_and_decisions_need_the_right(
    reviewer, contributor, declared_by, status, validated_by, validators, verdict
):
    request = rules.Request(contributor, declared_by, status, validated_by)
    review_rules = rules.ReviewRules(validators, 2)
    problem = rules.review_problem(
        verdict, reviewer=reviewer, request=request, rules=review_rules, message="ok"
    )
    if problem is None and verdict in (rules.VALIDATE, rules.REFUSE):
        assert reviewer.person_id not in (contributor, declared_by)
        assert rules.entitled(reviewer, review_rules)
        assert status == "submitted"
        assert verdict == rules.REFUSE or reviewer.person_id not in validated_by


@given(
    remaining=st.decimals(min_value=-1000, max_value=1000, places=2),
    amount=st.decimals(min_value=D("0.01"), max_value=1000, places=2),
)
def test_a_hard_cap_never_lets_the_envelope_go_below_zero(remaining, amount):
    outcome = rules.envelope_outcome(remaining=remaining, amount=amount, overrun="refuse")
    assert (outcome == rules.WITHIN) == (remaining - amount >= 0)
    deficit = rules.envelope_outcome(remaining=remaining, amount=amount, overrun="deficit")
    assert deficit in (rules.WITHIN, rules.OVER_DEFICIT)
