import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.core.errors import Conflict
from lieux.memberships.models import SubscriptionStatus
from lieux.memberships.rules import states as S


def test_the_rules_speak_of_the_model_statuses():
    assert set(S.STATUSES) == set(SubscriptionStatus.values)
    assert set(S.TRANSITIONS) == set(S.STATUSES)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("trial", "active"),
        ("trial", "ended"),
        ("active", "paused"),
        ("active", "cancelling"),
        ("active", "past_due"),
        ("active", "ended"),
        ("paused", "active"),
        ("paused", "ended"),
        ("cancelling", "active"),
        ("cancelling", "ended"),
        ("cancelling", "past_due"),
        ("past_due", "active"),
        ("past_due", "cancelling"),
        ("past_due", "ended"),
    ],
)
def test_allowed_transitions(current, target):
    S.check_transition(current, target)
    assert S.can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("ended", "active"),
        ("ended", "trial"),
        ("trial", "paused"),
        ("trial", "cancelling"),
        ("paused", "cancelling"),
        ("paused", "past_due"),
        ("active", "trial"),
        ("active", "active"),
        ("cancelling", "paused"),
        ("active", "nonsense"),
    ],
)
def test_illegal_transitions_are_refused_as_conflicts(current, target):
    with pytest.raises(S.IllegalTransition) as refused:
        S.check_transition(current, target)
    assert isinstance(refused.value, Conflict)
    assert refused.value.code == "illegal_transition"
    assert refused.value.status == 409
    assert refused.value.as_dict()["target"] == target


def test_past_due_goes_back_where_it_came_from():
    assert S.status_after_payment(has_end_date=True) == S.CANCELLING
    assert S.status_after_payment(has_end_date=False) == S.ACTIVE


def _reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in S.TRANSITIONS[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_status_can_end_and_ended_is_final():
    assert S.TRANSITIONS[S.ENDED] == frozenset()
    for status in S.STATUSES:
        assert S.ENDED in _reachable(status)
    assert _reachable(S.TRIAL) == set(S.STATUSES)


@given(st.lists(st.sampled_from(S.STATUSES), max_size=40))
def test_a_random_walk_only_follows_allowed_transitions(wanted):
    status = S.TRIAL
    for target in wanted:
        if S.can_transition(status, target):
            S.check_transition(status, target)
            status = target
        else:
            with pytest.raises(S.IllegalTransition):
                S.check_transition(status, target)
    assert status in S.STATUSES
    assert (status == S.ENDED) <= (S.TRANSITIONS[status] == frozenset())
