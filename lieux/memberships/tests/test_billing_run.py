from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Model

from lieux.billing.models import Invoice, InvoiceLine, InvoiceSeries
from lieux.billing.services.chain import verify
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from lieux.core.models import AuditEvent
from lieux.core.schedule import JOBS
from lieux.memberships import hooks
from lieux.memberships.models import (
    CreditEntry,
    CreditLot,
    CreditType,
    Subscription,
    SubscriptionEvent,
    SubscriptionInvoice,
)
from lieux.memberships.services import billing_run, invoicing
from lieux.memberships.services import subscriptions as S
from lieux.memberships.services.billing_run import run_billing
from lieux.memberships.services.plans import CreditGrantInput
from lieux.memberships.tests.subscription_data import (
    Clock,
    assert_gapless,
    assert_one_invoice_per_period,
    d,
    make_plan,
)
from tests.factories import UserFactory, add_role, organisation

pytestmark = pytest.mark.django_db

D = Decimal
JANUARY = date(2027, 1, 1)


class Killed(BaseException):
    """What the process dying looks like from inside: nothing after it runs, no except clause catches it."""


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def people(venue):
    def make(count):
        users = [UserFactory(email=f"coworker{i}@example.org") for i in range(count)]
        for user in users:
            add_role(user, venue)
        return users

    return make


def subscribe_on(clock, day, plan, member, **kwargs):
    clock.set(day)
    return S.subscribe(plan=plan, member=member, actor=member, **kwargs)


def period_of(subscription):
    subscription.refresh_from_db()
    return subscription.current_period_start, subscription.current_period_end


def invoiced_periods(subscription):
    return list(
        SubscriptionInvoice.objects.filter(subscription=subscription)
        .order_by("period_start")
        .values_list("period_start", "invoice__net_amount")
    )


def test_the_run_invoices_each_period_that_starts_and_only_once(clock, venue, people):
    plan = make_plan(venue)
    first, tenth = people(2)
    a = subscribe_on(clock, "2026-12-01", plan, first)
    b = subscribe_on(clock, "2026-12-10", plan, tenth)
    clock.set("2027-01-05")
    lines = []
    report = run_billing(period=JANUARY, progress=lines.append)
    # On 5 January only the period starting on the 1st has begun.
    assert report.invoices == 1 and report.renewed == 1
    assert period_of(a) == (d("2027-01-01"), d("2027-01-31")) and period_of(b) == (
        d("2026-12-10"),
        d("2027-01-09"),
    )
    clock.set("2027-01-31")
    report = run_billing(period=JANUARY, progress=lines.append)
    assert report.invoices == 1 and period_of(b) == (d("2027-01-10"), d("2027-02-09"))
    again = run_billing(period=JANUARY, progress=lines.append)
    assert (again.subscriptions, again.invoices) == (0, 0)
    assert invoiced_periods(a) == [(d("2026-12-01"), D("100.00")), (d("2027-01-01"), D("100.00"))]
    assert invoiced_periods(b) == [(d("2026-12-10"), D("100.00")), (d("2027-01-10"), D("100.00"))]
    assert assert_gapless(venue) == 4
    assert_one_invoice_per_period()
    number = Invoice.objects.get(source_key=f"subscription:{b.pk}:2027-01-10").number
    assert any(line.startswith("[1/1]") and number in line for line in lines)
    assert any(line.startswith("Billing run 2027-01: 1 subscriptions, 1 invoices issued") for line in lines)
    assert any(
        "la-coroutine: 1 invoices, 100.00 € excl. VAT, 20.00 € VAT, 120.00 € incl. VAT" in x for x in lines
    )
    renewed = SubscriptionEvent.objects.filter(subscription=b, kind="period").get()
    assert renewed.data == {"start": "2027-01-10", "end": "2027-02-09"}
    assert AuditEvent.objects.filter(action="memberships.subscription.renewed").count() == 2


def test_a_run_killed_midway_and_run_again_leaves_no_duplicate_and_no_gap(clock, venue, people, monkeypatch):
    plan = make_plan(venue)
    subscriptions = [subscribe_on(clock, "2026-12-01", plan, person) for person in people(6)]
    clock.set("2027-01-05")
    real = invoicing.period_draft
    calls = []

    def dies_on_the_fourth(**kwargs):
        calls.append(kwargs["subscription"].pk)
        if len(calls) == 4:
            raise Killed()
        return real(**kwargs)

    monkeypatch.setattr(invoicing, "period_draft", dies_on_the_fourth)
    with pytest.raises(Killed):
        run_billing(period=JANUARY, progress=None, batch_size=3)
    monkeypatch.setattr(invoicing, "period_draft", real)
    # The first batch of three committed; the second died with its first subscription.
    assert SubscriptionInvoice.objects.filter(period_start=JANUARY).count() == 3
    assert period_of(subscriptions[3]) == (d("2026-12-01"), d("2026-12-31"))  # its transaction rolled back
    assert assert_gapless(venue) == 9  # 6 first periods + 3: the interrupted batch burnt no number
    report = run_billing(period=JANUARY, progress=None, batch_size=3)
    assert (report.subscriptions, report.invoices, report.errors) == (3, 3, [])
    assert assert_gapless(venue) == 12
    assert_one_invoice_per_period()
    for subscription in subscriptions:
        assert [p for p, _ in invoiced_periods(subscription)] == [d("2026-12-01"), JANUARY]


def test_a_failure_after_the_numbers_were_taken_rolls_the_numbers_back(clock, venue, people, monkeypatch):
    hours = CreditType.objects.create(venue=venue, code="heures", name="Heures de salle")
    plan = make_plan(venue, credit_grants=[CreditGrantInput(hours, D("4"))])
    subscriptions = [subscribe_on(clock, "2026-12-01", plan, person) for person in people(3)]
    clock.set("2027-01-02")
    real = invoicing.grant_credits
    calls = []

    def dies_after_issuing_the_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise Killed()
        return real(**kwargs)

    monkeypatch.setattr(invoicing, "grant_credits", dies_after_issuing_the_second)
    with pytest.raises(Killed):
        run_billing(period=JANUARY, progress=None, batch_size=2)
    monkeypatch.setattr(invoicing, "grant_credits", real)
    # The first batch had issued its two invoices and granted one period's credits: all went back.
    assert assert_gapless(venue) == 3
    assert not CreditLot.objects.filter(granted_on=JANUARY).exists()
    assert period_of(subscriptions[0]) == (d("2026-12-01"), d("2026-12-31"))
    run_billing(period=JANUARY, progress=None, batch_size=2)
    assert assert_gapless(venue) == 6
    assert CreditLot.objects.filter(granted_on=JANUARY).count() == 3  # each period's credits, once
    assert_one_invoice_per_period()


def test_one_broken_subscription_is_reported_and_the_others_are_billed(clock, venue, people, monkeypatch):
    plan = make_plan(venue)
    subscriptions = [subscribe_on(clock, "2026-12-01", plan, person) for person in people(3)]
    clock.set("2027-01-02")
    real = invoicing.period_draft
    broken = subscriptions[1].pk

    def fails_for_one(**kwargs):
        if kwargs["subscription"].pk == broken:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(invoicing, "period_draft", fails_for_one)
    lines = []
    report = run_billing(period=JANUARY, progress=lines.append)
    assert report.invoices == 2 and len(report.errors) == 1
    assert f"#{broken}" in report.errors[0] and "disk full" in report.errors[0]
    assert any(line.startswith("[2/3]") and "error" in line for line in lines)
    assert period_of(subscriptions[1]) == (d("2026-12-01"), d("2026-12-31"))
    monkeypatch.setattr(invoicing, "period_draft", real)
    retry = run_billing(period=JANUARY, progress=None)
    assert (retry.subscriptions, retry.invoices, retry.errors) == (1, 1, [])
    assert assert_gapless(venue) == 6


def test_a_batch_failing_as_a_whole_is_billed_one_by_one(clock, venue, people, monkeypatch):
    """A failure the batch cannot pin on one subscription (here: its bulk write) rolls the batch back and
    each subscription is billed in a transaction of its own."""
    plan = make_plan(venue)
    subscriptions = [subscribe_on(clock, "2026-12-01", plan, person) for person in people(4)]
    clock.set("2027-01-02")

    def refuses(*args, **kwargs):
        raise RuntimeError("bulk write refused")

    monkeypatch.setattr(billing_run, "issue_new_documents", refuses)
    report = run_billing(period=JANUARY, progress=None)
    assert (report.invoices, report.errors, report.renewed) == (4, [], 4)
    assert assert_gapless(venue) == 8
    assert_one_invoice_per_period()
    assert all(period_of(s) == (JANUARY, d("2027-01-31")) for s in subscriptions)


def test_a_batch_writes_what_one_by_one_billing_writes(clock, venue, people):
    """The same kind of subscriptions billed one by one, then in one batch: documents sealed alike (lines,
    snapshots, totals), numbered on, with their links, events and audit rows, and a chain that verifies."""
    plan = make_plan(venue)
    members = people(4)
    coop = organisation("Coop des Indés", *members)
    billed = {}
    for batch_size, pair in ((1, members[:2]), (50, members[2:])):
        clock.set("2026-12-01")
        subs = [
            S.subscribe(plan=plan, member=pair[0], actor=pair[0]),
            S.subscribe(plan=plan, member=pair[1], payer_organisation=coop, actor=pair[1]),
        ]
        clock.set("2027-01-02")
        report = run_billing(period=JANUARY, progress=None, batch_size=batch_size)
        assert (report.invoices, report.renewed, report.errors) == (2, 2, [])
        billed[batch_size] = [
            Invoice.objects.get(source_key=invoicing.period_key(s.pk, JANUARY)) for s in subs
        ]
    assert list(verify(venue.pk)) == []
    assert assert_gapless(venue) == 8
    for alone, together in zip(billed[1], billed[50], strict=True):
        for content in (alone.sealed_content, together.sealed_content):
            for key in ("number", "sequence", "issued_at", "buyer", "buyer_user_id"):
                content.pop(key)
            content["lines"][0].pop("description")  # names the member
        assert together.sealed_content == alone.sealed_content
        assert together.buyer["kind"] == alone.buyer["kind"]
        assert together.subscription_link.period_start == JANUARY
        assert AuditEvent.objects.filter(action="billing.invoice.issued", object_id=str(together.pk)).exists()
        kinds = together.subscription_link.subscription.events.values_list("kind", flat=True)
        assert list(kinds)[-2:] == ["period", "invoice"]
    assert [i.buyer["kind"] for i in billed[50]] == ["person", "business"]


def _snapshot():
    tables: list[type[Model]] = [
        Invoice,
        InvoiceLine,
        InvoiceSeries,
        SubscriptionInvoice,
        SubscriptionEvent,
        Subscription,
        AuditEvent,
        CreditLot,
        CreditEntry,
    ]
    return {model.__name__: sorted(map(repr, model.objects.values_list())) for model in tables}


def test_a_dry_run_shows_what_would_be_issued_and_writes_nothing(clock, venue, other_venue, people):
    hours = CreditType.objects.create(venue=venue, code="heures", name="Heures de salle")
    plan = make_plan(venue, credit_grants=[CreditGrantInput(hours, D("4"))])
    elsewhere = make_plan(other_venue, prices=(("2020-01-01", "80"),))
    trial = make_plan(venue, slug="essai", name="Essai", trial_days=10)
    ending = make_plan(venue, slug="court", name="Court")
    members = people(5)
    for person in members[:2]:
        subscribe_on(clock, "2026-12-03", plan, person)
    subscribe_on(clock, "2026-12-03", elsewhere, members[2])
    subscribe_on(clock, "2026-12-28", trial, members[3])
    leaving = subscribe_on(clock, "2026-12-03", ending, members[4])
    S.cancel(subscription=leaving, actor=members[4])
    clock.set("2027-01-20")
    before = _snapshot()
    lines = []
    preview = run_billing(period=JANUARY, dry_run=True, progress=lines.append)
    assert _snapshot() == before
    assert (preview.invoices, preview.activated, preview.ended, preview.renewed) == (4, 1, 1, 4)
    assert {slug: (t.invoices, t.gross_amount) for slug, t in preview.venues.items()} == {
        "la-coroutine": (3, D("360.00")),
        "baraka": (1, D("96.00")),
    }
    assert any("would invoice 03/01/2027–02/02/2027, 120.00 €" in line for line in lines)
    assert any("(dry run)" in line and "4 invoices would issue" in line for line in lines)
    real = run_billing(period=JANUARY, progress=None)
    assert (real.invoices, real.activated, real.ended, real.renewed) == (4, 1, 1, 4)
    assert {slug: (t.invoices, t.gross_amount) for slug, t in real.venues.items()} == {
        slug: (t.invoices, t.gross_amount) for slug, t in preview.venues.items()
    }


def test_an_organisation_is_invoiced_for_each_member_it_pays_for(clock, venue, people):
    plan = make_plan(venue)
    alix, sam = people(2)
    coop = organisation("Coop des Indés", alix, sam)
    for person in (alix, sam):
        clock.set("2026-12-01")
        S.subscribe(plan=plan, member=person, payer_organisation=coop, actor=alix)
    clock.set("2027-01-01")
    run_billing(period=JANUARY, progress=None)
    january = Invoice.objects.filter(service_from=JANUARY)
    assert january.count() == 2
    assert {i.buyer_organisation_id for i in january} == {coop.pk}
    assert {i.buyer["kind"] for i in january} == {"business"}
    assert sorted(i.lines.get().description.split(" for ")[1].split(",")[0] for i in january) == sorted(
        [alix.get_full_name(), sam.get_full_name()]
    )


def test_a_period_is_priced_by_the_step_in_force_on_its_first_day(clock, venue, people):
    plan = make_plan(venue, prices=(("2026-01-01", "100", "tarif de lancement"), ("2027-02-15", "150")))
    on_first, on_twentieth = people(2)
    a = subscribe_on(clock, "2027-01-01", plan, on_first)
    b = subscribe_on(clock, "2027-01-20", plan, on_twentieth)
    clock.set("2027-02-28")
    run_billing(period=date(2027, 2, 1), progress=None)
    clock.set("2027-03-31")
    run_billing(period=date(2027, 3, 1), progress=None)
    assert invoiced_periods(a) == [
        (d("2027-01-01"), D("100")),
        (d("2027-02-01"), D("100")),
        (d("2027-03-01"), D("150")),
    ]
    assert invoiced_periods(b) == [
        (d("2027-01-20"), D("100")),
        (d("2027-02-20"), D("150")),
        (d("2027-03-20"), D("150")),
    ]
    intro = Invoice.objects.get(source_key=f"subscription:{a.pk}:2027-02-01").lines.get()
    assert intro.description.endswith("(tarif de lancement)")


def test_states_move_forward_with_the_run(clock, venue, people, manager):
    monthly = make_plan(venue, slug="mensuel", name="Mensuel")
    bigger = make_plan(venue, slug="resident", name="Résident", prices=(("2020-01-01", "200"),))
    free = make_plan(venue, slug="benevole", name="Bénévoles", prices=(("2020-01-01", "0"),))
    trial = make_plan(venue, slug="essai", name="Essai", trial_days=14)
    yearly = make_plan(venue, slug="adhesion", name="Adhésion", kind="membership_fee", interval="year",
                       prices=(("2020-01-01", "20"),))  # fmt: skip
    pack = make_plan(venue, slug="carnet", name="Carnet", kind="pack", interval="once", pack_days=10,
                     validity_days=30)  # fmt: skip
    who = people(8)
    leaving = subscribe_on(clock, "2026-12-05", monthly, who[0])
    S.cancel(subscription=leaving, actor=who[0])
    paused = subscribe_on(clock, "2026-12-05", monthly, who[1])
    S.pause(subscription=paused, actor=who[1])
    changing = subscribe_on(clock, "2026-12-05", monthly, who[2])
    S.change_plan(subscription=changing, new_plan=bigger, when=S.PERIOD_END, actor=who[2])
    volunteer = subscribe_on(clock, "2026-12-05", free, who[3])
    trying = subscribe_on(clock, "2026-12-25", trial, who[4])
    member_since_june = subscribe_on(clock, "2026-06-10", yearly, who[5])
    member_since_january = subscribe_on(clock, "2026-01-10", yearly, who[6])
    carnet = subscribe_on(clock, "2026-12-05", pack, who[7])
    ended_hook = []
    hooks.on_subscription_ended.append(ended_hook.append)
    try:
        clock.set("2027-01-31")
        report = run_billing(period=JANUARY, progress=None)
    finally:
        hooks.on_subscription_ended.remove(ended_hook.append)
    assert report.errors == []
    for subscription in (
        leaving,
        paused,
        changing,
        volunteer,
        trying,
        member_since_june,
        member_since_january,
        carnet,
    ):
        subscription.refresh_from_db()
    assert (leaving.status, leaving.ends_on) == ("ended", d("2027-01-04"))
    assert {s.pk for s in ended_hook} == {leaving.pk, carnet.pk}
    assert paused.current_period_start == d("2026-12-05") and paused.status == "paused"
    assert changing.plan == bigger and changing.next_plan is None
    assert invoiced_periods(changing)[-1] == (d("2027-01-05"), D("200.00"))
    assert volunteer.current_period_start == d("2027-01-05") and not invoiced_periods(volunteer)
    assert (trying.status, trying.current_period_start) == ("active", d("2027-01-08"))
    assert invoiced_periods(trying) == [(d("2027-01-08"), D("100.00"))]
    assert member_since_june.current_period_start == d("2026-06-10")  # not its anniversary month
    assert invoiced_periods(member_since_january)[-1] == (d("2027-01-10"), D("20.00"))
    assert carnet.status == "ended"
    assert (report.invoices, report.free_periods, report.activated, report.plan_changes, report.ended) == (
        3, 1, 1, 1, 2,
    )  # fmt: skip
    assert [
        (e.from_status, e.to_status)
        for e in SubscriptionEvent.objects.filter(subscription=trying, kind="transition")
    ] == [
        ("", "trial"),
        ("trial", "active"),
    ]
    assert_gapless(venue)


def test_a_missed_month_is_caught_up(clock, venue, people):
    plan = make_plan(venue)
    subscription = subscribe_on(clock, "2026-11-15", plan, people(1)[0])
    clock.set("2027-01-20")  # no run in December
    report = run_billing(period=JANUARY, progress=None)
    assert report.invoices == 2
    assert [p for p, _ in invoiced_periods(subscription)] == [
        d("2026-11-15"),
        d("2026-12-15"),
        d("2027-01-15"),
    ]
    assert_gapless(venue)


def test_a_past_month_is_billed_up_to_its_end_only(clock, venue, people):
    plan = make_plan(venue)
    subscription = subscribe_on(clock, "2026-11-15", plan, people(1)[0])
    clock.set("2027-02-20")
    run_billing(period=date(2026, 12, 1), progress=None)
    assert period_of(subscription) == (d("2026-12-15"), d("2027-01-14"))
    run_billing(period=JANUARY, venue=venue, as_of=d("2027-01-31"), progress=None)
    assert period_of(subscription) == (d("2027-01-15"), d("2027-02-14"))


def test_other_billing_sources_are_billed_with_the_month(clock, venue, member, monkeypatch):
    pending_keys = [1, 2]

    def pending(start, end, venue_ids):
        return [k for k in pending_keys if not Invoice.objects.filter(source_key=f"extra:{k}").exists()]

    def bill(key, start, end):
        draft = create_draft(
            venue=venue,
            lines=[DraftLine(f"Salle {key}", D(1), D("30"))],
            service_from=start,
            service_to=end,
            buyer_user=member,
            source_key=f"extra:{key}",
        )
        return issue_invoice(draft.pk)

    monkeypatch.setattr(hooks, "billing_sources", [hooks.BillingSource("extras", pending, bill)])
    preview = run_billing(period=JANUARY, dry_run=True, progress=None)
    assert preview.sources == {"extras": 2} and not Invoice.objects.exists()
    report = run_billing(period=JANUARY, progress=None)
    assert report.sources == {"extras": 2} and report.venues["la-coroutine"].invoices == 2
    assert run_billing(period=JANUARY, progress=None).sources == {"extras": 0}
    assert Invoice.objects.count() == 2


def test_the_worker_runs_the_current_month_daily(clock, venue, people, monkeypatch):
    job = JOBS["memberships.billing_run"]
    assert job.every_seconds == 24 * 3600
    plan = make_plan(venue)
    subscription = subscribe_on(clock, "2026-12-01", plan, people(1)[0])
    clock.set("2027-01-02")
    monkeypatch.setattr("lieux.memberships.tasks.now", lambda: clock.instant)
    assert "1 invoices issued" in job.run()
    assert "0 invoices issued" in job.run()
    assert [p for p, _ in invoiced_periods(subscription)] == [d("2026-12-01"), JANUARY]


def test_what_the_member_was_shown_is_what_the_run_invoices(clock, venue, people):
    monthly = make_plan(venue, slug="mensuel", name="Mensuel", proration="by_day")
    resident = make_plan(
        venue, slug="resident", name="Résident", proration="by_day", prices=(("2020-01-01", "310"),)
    )
    yearly = make_plan(venue, slug="annuel", name="Annuel", interval="year", prices=(("2020-01-01", "3000"),))
    upgrading, switching = people(2)
    a = subscribe_on(clock, "2027-01-01", monthly, upgrading)
    b = subscribe_on(clock, "2027-01-01", monthly, switching)
    clock.set("2027-01-10")
    now_quote = S.quote_plan_change(a, resident)
    S.change_plan(subscription=a, new_plan=resident, actor=upgrading, expected=now_quote)
    later_quote = S.quote_plan_change(b, yearly, S.PERIOD_END)
    S.change_plan(subscription=b, new_plan=yearly, when=S.PERIOD_END, actor=switching, expected=later_quote)
    clock.set("2027-02-01")
    run_billing(period=date(2027, 2, 1), progress=None)
    for subscription, quote in ((a, now_quote), (b, later_quote)):
        invoice = Invoice.objects.get(source_key=f"subscription:{subscription.pk}:2027-02-01")
        assert (invoice.service_from, invoice.service_to) == (quote.next_period.start, quote.next_period.end)
        assert invoice.gross_amount == quote.next_period_amounts.gross_amount
    assert period_of(b) == (d("2027-02-01"), d("2028-01-31"))  # yearly from the change: counted afresh
    b.refresh_from_db()
    assert (b.plan, b.billing_anchor_on) == (yearly, d("2027-02-01"))
    assert_gapless(venue)


def test_a_period_written_by_other_code_is_left_to_it_and_the_next_ones_are_billed(clock, venue, people):
    """A membership imported with its period (paid elsewhere, maybe at a free price) is not invoiced again
    by the run; the periods the run opens afterwards are."""
    plan = make_plan(venue)
    imported = Subscription.objects.create(
        venue=venue,
        plan=plan,
        member=people(1)[0],
        status="active",
        started_on=d("2027-01-10"),
        current_period_start=d("2027-01-10"),
        current_period_end=d("2027-02-09"),
    )
    clock.set("2027-01-20")
    assert run_billing(period=JANUARY, progress=None).subscriptions == 0
    assert invoiced_periods(imported) == []
    clock.set("2027-02-10")
    report = run_billing(period=date(2027, 2, 1), progress=None)
    assert report.invoices == 1
    assert invoiced_periods(imported) == [(d("2027-02-10"), D("100.00"))]
