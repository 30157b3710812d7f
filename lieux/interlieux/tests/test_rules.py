"""The access decision as a pure function: examples that read as the rules, and properties that hold for
any facts hypothesis can think of."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from lieux.interlieux import rules

PARIS = ZoneInfo("Europe/Paris")
HOME, HOST, ELSEWHERE = 1, 2, 3
OPEN_8_20 = {d: [(time(8), time(20))] for d in range(7)}


def venue(venue_id: int = HOST, windows=None, closures=()) -> rules.VenueFacts:
    return rules.VenueFacts(
        venue_id=venue_id,
        name={HOME: "La Coroutine", HOST: "Baraka"}.get(venue_id, "Mons Fabrica"),
        tz=PARIS,
        windows=OPEN_8_20 if windows is None else windows,
        closures=closures,
    )


def pass_grant(**changes) -> rules.Grant:
    fields = dict(
        kind=rules.PASS,
        subscription_id=10,
        home_venue_id=HOME,
        home_venue_name="La Coroutine",
        plan_name="Pass",
        host_venue_ids=frozenset({HOME, HOST}),
        days_per_month=8,
        days_used=2,
    )
    fields.update(changes)
    return rules.Grant(**fields)  # type: ignore[arg-type]


def member_grant(**changes) -> rules.Grant:
    fields = dict(
        kind=rules.MEMBER,
        subscription_id=5,
        home_venue_id=HOST,
        home_venue_name="Baraka",
        plan_name="Coworking",
    )
    fields.update(changes)
    return rules.Grant(**fields)  # type: ignore[arg-type]


def person(*grants: rules.Grant, problem: str | None = None, staff: bool = False) -> rules.PersonFacts:
    return rules.PersonFacts(person_id=7, grants=grants, credential_problem=problem, is_staff_here=staff)


TUESDAY_10H = datetime(2026, 12, 8, 10, 0, tzinfo=PARIS)


def test_a_pass_holder_enters_a_host_venue_and_hears_how_many_days_are_used():
    decision = rules.decide(person(pass_grant(days_used=2)), venue(), TUESDAY_10H)
    assert decision.allowed and decision.reason == rules.OK_PASS
    assert decision.days_used == 3
    assert decision.explanation == (
        "valid: Pass Interlieux from La Coroutine, 3 of 8 days used this month at Baraka"
    )


def test_a_second_entry_the_same_day_spends_no_new_day():
    decision = rules.decide(person(pass_grant(days_used=8, visited_today=True)), venue(), TUESDAY_10H)
    assert decision.allowed and decision.days_used == 8


def test_the_quota_refuses_a_new_day_once_used_up():
    decision = rules.decide(person(pass_grant(days_used=8)), venue(), TUESDAY_10H)
    assert not decision.allowed and decision.reason == rules.QUOTA_REACHED
    assert "8 of 8 days" in decision.explanation


def test_a_venue_outside_the_pass_is_refused():
    decision = rules.decide(person(pass_grant()), venue(ELSEWHERE), TUESDAY_10H)
    assert decision.reason == rules.NOT_IN_PASS


def test_pass_days_and_hours_apply():
    weekend_only = pass_grant(weekdays=frozenset({5, 6}))
    assert rules.decide(person(weekend_only), venue(), TUESDAY_10H).reason == rules.OUTSIDE_PASS_HOURS
    afternoons = pass_grant(window=(time(14), time(18)))
    assert rules.decide(person(afternoons), venue(), TUESDAY_10H).reason == rules.OUTSIDE_PASS_HOURS
    assert rules.decide(person(afternoons), venue(), TUESDAY_10H + timedelta(hours=5)).allowed


def test_past_due_at_home_blocks_entry_when_the_policy_says_so():
    decision = rules.decide(person(pass_grant(may_enter=False)), venue(), TUESDAY_10H)
    assert decision.reason == rules.PAST_DUE and "La Coroutine" in decision.explanation


def test_a_venue_closed_that_day_or_at_that_hour_refuses_everyone():
    closed = venue(closures=[(date(2026, 12, 8), date(2026, 12, 8))])
    assert rules.decide(person(member_grant()), closed, TUESDAY_10H).reason == rules.VENUE_CLOSED
    at_night = TUESDAY_10H.replace(hour=22)
    assert rules.decide(person(member_grant()), venue(), at_night).reason == rules.OUTSIDE_HOURS
    assert rules.decide(person(staff=True), venue(), at_night).reason == rules.OUTSIDE_HOURS


def test_credential_problems_come_first():
    decision = rules.decide(person(member_grant(), problem=rules.REPLAYED_TOKEN), venue(), TUESDAY_10H)
    assert decision.reason == rules.REPLAYED_TOKEN and not decision.allowed


def test_no_grant_is_no_subscription_and_staff_enter():
    assert rules.decide(person(), venue(), TUESDAY_10H).reason == rules.NO_SUBSCRIPTION
    assert rules.decide(person(staff=True), venue(), TUESDAY_10H).reason == rules.OK_STAFF


def test_the_refusal_names_the_grant_that_came_closest():
    other_network_member = member_grant(home_venue_id=ELSEWHERE, subscription_id=1)
    decision = rules.decide(person(other_network_member, pass_grant(days_used=8)), venue(), TUESDAY_10H)
    assert decision.reason == rules.QUOTA_REACHED


def test_a_venue_without_hours_recorded_is_open_at_any_hour():
    assert rules.decide(person(member_grant()), venue(windows={}), TUESDAY_10H.replace(hour=3)).allowed


def test_naive_instants_are_refused():
    import pytest

    with pytest.raises(ValueError):
        rules.decide(person(), venue(), datetime(2026, 12, 8, 10))


def test_month_bounds():
    assert rules.month_bounds(date(2026, 12, 8)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert rules.month_bounds(date(2028, 2, 29)) == (date(2028, 2, 1), date(2028, 2, 29))


# --- Properties ------------------------------------------------------------------------------------------

times = st.times()
windows_strategy = st.dictionaries(
    st.integers(0, 6),
    st.lists(
        st.tuples(st.integers(0, 22), st.integers(1, 23))
        .filter(lambda t: t[0] < t[1])
        .map(lambda t: (time(t[0]), time(t[1]))),
        min_size=1,
        max_size=2,
    ),
    min_size=1,
)
grants_strategy = st.builds(
    rules.Grant,
    kind=st.sampled_from([rules.MEMBER, rules.PASS]),
    subscription_id=st.integers(1, 50),
    home_venue_id=st.sampled_from([HOME, HOST, ELSEWHERE]),
    home_venue_name=st.just("Lieu"),
    plan_name=st.just("Formule"),
    may_enter=st.booleans(),
    host_venue_ids=st.frozensets(st.sampled_from([HOME, HOST, ELSEWHERE])),
    weekdays=st.frozensets(st.integers(0, 6)),
    window=st.none()
    | st.tuples(st.integers(0, 22), st.integers(1, 23))
    .filter(lambda t: t[0] < t[1])
    .map(lambda t: (time(t[0]), time(t[1]))),
    days_per_month=st.none() | st.integers(0, 31),
    days_used=st.integers(0, 31),
    visited_today=st.booleans(),
)
people = st.builds(
    rules.PersonFacts,
    person_id=st.just(7),
    grants=st.lists(grants_strategy, max_size=4).map(tuple),
    credential_problem=st.none() | st.sampled_from(sorted(rules.CREDENTIAL_REASONS)),
    is_staff_here=st.booleans(),
)
venues = st.builds(
    rules.VenueFacts,
    venue_id=st.just(HOST),
    name=st.just("Baraka"),
    tz=st.just(PARIS),
    windows=windows_strategy,
    closures=st.lists(st.tuples(st.dates(), st.dates()).map(sorted).map(tuple), max_size=2),
)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))


@settings(max_examples=300)
@given(people, venues, moments)
def test_never_allowed_outside_opening_hours_or_on_a_closed_day(who, where, moment):
    decision = rules.decide(who, where, moment)
    if decision.allowed:
        assert rules.is_open(where, moment)
        assert not rules.is_closed_on(moment.astimezone(PARIS).date(), where.closures)


@settings(max_examples=300)
@given(people, venues, moments)
def test_a_pass_never_lets_in_beyond_its_quota(who, where, moment):
    decision = rules.decide(who, where, moment)
    grant = decision.grant
    if (
        decision.allowed
        and grant is not None
        and grant.kind == rules.PASS
        and grant.days_per_month is not None
    ):
        assert grant.visited_today or grant.days_used < grant.days_per_month
        assert decision.days_used is not None and decision.days_used <= grant.days_per_month


@settings(max_examples=300)
@given(people, venues, moments, st.integers(0, 100))
def test_a_member_of_the_venue_is_never_blocked_by_network_quotas(who, where, moment, used):
    own = member_grant(home_venue_id=where.venue_id, may_enter=True)
    exhausted_pass = pass_grant(days_per_month=0, days_used=used)
    facts = rules.PersonFacts(person_id=7, grants=(exhausted_pass, own, *who.grants))
    decision = rules.decide(facts, where, moment)
    if rules.is_open(where, moment):
        assert decision.allowed and decision.reason == rules.OK_MEMBER
    else:
        assert decision.reason in (rules.OUTSIDE_HOURS, rules.VENUE_CLOSED)


@settings(max_examples=200)
@given(people, venues, moments)
def test_deciding_is_deterministic_and_credential_problems_always_refuse(who, where, moment):
    first = rules.decide(who, where, moment)
    assert first == rules.decide(who, where, moment)
    assert first.allowed == (first.reason in rules.ALLOWED_REASONS)
    if who.credential_problem is not None:
        assert not first.allowed and first.reason == who.credential_problem
