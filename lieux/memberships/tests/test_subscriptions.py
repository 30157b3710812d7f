from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction

from lieux.billing.models import Invoice, InvoiceSeries
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine
from lieux.core.errors import Conflict, Forbidden, NotFound, ValidationError
from lieux.core.models import AuditEvent
from lieux.memberships import hooks
from lieux.memberships.models import (
    CreditLot,
    CreditType,
    Subscription,
    SubscriptionEvent,
    SubscriptionInvoice,
)
from lieux.memberships.rules.states import IllegalTransition
from lieux.memberships.selectors import subscriptions as selectors
from lieux.memberships.services import subscriptions as S
from lieux.memberships.services.plans import CreditGrantInput, PriceStepInput, create_plan, update_plan
from lieux.memberships.tests.subscription_data import Clock, assert_gapless, d, make_plan
from lieux.venues.models import ResourceKind
from tests.factories import ResourceFactory, UserFactory, organisation

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def monthly(venue):
    return make_plan(venue, proration="by_day", prices=(("2020-01-01", "150"),))


def period_invoice(subscription, start):
    return SubscriptionInvoice.objects.get(subscription=subscription, period_start=start).invoice


def events(subscription, kind=None):
    qs = SubscriptionEvent.objects.filter(subscription=subscription).order_by("at", "pk")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)


# Subscribing


def test_subscribing_starts_the_first_period_and_invoices_it(clock, venue, member, monthly):
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    assert subscription.status == "active"
    assert (subscription.current_period_start, subscription.current_period_end) == (
        d("2027-01-15"),
        d("2027-02-14"),
    )
    assert subscription.billing_anchor_on == d("2027-01-15")
    invoice = period_invoice(subscription, d("2027-01-15"))
    assert invoice.is_issued and invoice.sequence == 1
    assert invoice.buyer_user == member and invoice.buyer["name"] == member.get_full_name()
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (
        D("150.00"),
        D("30.00"),
        D("180.00"),
    )
    line = invoice.lines.get()
    assert (line.service_from, line.service_to) == (d("2027-01-15"), d("2027-02-14"))
    assert line.description == "Coworking au mois, 15/01/2027 to 14/02/2027"
    assert invoice.source_key == f"subscription:{subscription.pk}:2027-01-15"
    assert [(e.kind, e.from_status, e.to_status) for e in events(subscription)] == [
        ("transition", "", "active"),
        ("invoice", "", ""),
    ]
    assert events(subscription, "invoice")[0].data["number"] == invoice.number
    assert AuditEvent.objects.filter(
        action="memberships.subscription.started", object_id=str(subscription.pk)
    ).exists()


def test_a_trial_is_free_once_per_person(clock, venue, member, manager):
    plan = make_plan(venue, trial_days=14)
    first = S.subscribe(plan=plan, member=member, actor=member)
    assert first.status == "trial"
    assert (first.trial_ends_on, first.current_period_end) == (d("2027-01-28"), d("2027-01-28"))
    assert first.billing_anchor_on == d("2027-01-29")
    assert not Invoice.objects.exists()
    S.end(subscription=first, actor=manager)
    again = S.subscribe(plan=plan, member=member, actor=member)
    assert again.status == "active" and again.trial_ends_on is None
    assert SubscriptionInvoice.objects.filter(subscription=again).count() == 1


def test_an_organisation_pays_for_several_members(clock, venue, member, other_member, monthly):
    coop = organisation("Coop des Indés", member, other_member)
    mine = S.subscribe(plan=monthly, member=member, payer_organisation=coop, actor=member)
    theirs = S.subscribe(plan=monthly, member=other_member, payer_organisation=coop, actor=member)
    for subscription, person in ((mine, member), (theirs, other_member)):
        invoice = period_invoice(subscription, d("2027-01-15"))
        assert invoice.buyer_organisation == coop and invoice.buyer_user is None
        assert invoice.buyer["kind"] == "business" and invoice.buyer["name"] == "Coop des Indés"
        assert person.get_full_name() in invoice.lines.get().description  # the accountant sees for whom
    assert_gapless(venue)


def test_an_organisation_pays_only_for_its_members_and_only_at_its_members_request(
    clock, venue, member, other_member, monthly
):
    coop = organisation("Coop", other_member)
    with pytest.raises(ValidationError) as refused:
        S.subscribe(plan=monthly, member=member, payer_organisation=coop, actor=member)
    assert refused.value.code == "not_in_organisation"
    other = organisation("Autre", member)  # the member belongs to it; the actor does not
    with pytest.raises(Forbidden):
        S.subscribe(plan=monthly, member=member, payer_organisation=other, actor=other_member)
    assert not Subscription.objects.exists()


def test_subscribing_is_refused_cleanly(clock, venue, member, other_member, manager, monthly):
    with pytest.raises(Forbidden):
        S.subscribe(plan=monthly, member=other_member, actor=member)
    with pytest.raises(ValidationError) as past:
        S.subscribe(plan=monthly, member=member, starts_on=d("2027-01-01"), actor=member)
    assert past.value.code == "start_in_past"
    S.subscribe(plan=monthly, member=member, actor=member)
    with pytest.raises(Conflict) as twice:
        S.subscribe(plan=monthly, member=member, actor=member)
    assert twice.value.code == "already_subscribed"
    update_plan(plan=monthly, actor=manager, is_active=False)
    monthly.refresh_from_db()
    with pytest.raises(Conflict) as closed:
        S.subscribe(plan=monthly, member=other_member, actor=other_member)
    assert closed.value.code == "plan_not_on_sale"
    members_plan = make_plan(venue, slug="adherents", members_only=True)
    with pytest.raises(Conflict) as not_member:
        S.subscribe(plan=members_plan, member=UserFactory(email="x@example.org"), actor=manager)
    assert not_member.value.code == "members_only"
    assert Subscription.objects.count() == 1 and Invoice.objects.count() == 1


def test_staff_may_backdate_a_subscription(clock, venue, member, manager, monthly):
    subscription = S.subscribe(plan=monthly, member=member, starts_on=d("2026-12-01"), actor=manager)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        d("2026-12-01"),
        d("2026-12-31"),
    )
    assert period_invoice(subscription, d("2026-12-01")).is_issued


def test_a_failing_hook_rolls_the_whole_subscription_back(clock, venue, member, monthly, monkeypatch):
    def refuse(subscription):
        assert transaction.get_connection().in_atomic_block  # inside the subscription's transaction
        raise Conflict("no", code="hook_refused")

    monkeypatch.setattr(hooks, "on_subscription_started", [refuse])
    with pytest.raises(Conflict):
        S.subscribe(plan=monthly, member=member, actor=member)
    assert not Subscription.objects.exists() and not Invoice.objects.exists()
    assert not InvoiceSeries.objects.filter(last_number__gt=0).exists()  # no number burnt


def test_a_fixed_desk_is_booked_and_cannot_be_given_twice(clock, venue, member, other_member):
    """Through the hook the booking app registers (memberships does not import booking)."""
    booking_model = apps.get_model("booking", "Booking")
    desk = ResourceFactory(venue=venue, slug="poste-1", name="Poste 1", kind=ResourceKind.DESK, capacity=1)
    plan = make_plan(
        venue, slug="fixe", name="Poste fixe", desk_mode="fixed", prices=(("2020-01-01", "250"),)
    )
    with pytest.raises(ValidationError) as no_desk:
        S.subscribe(plan=plan, member=member, actor=member)
    assert no_desk.value.code == "desk_required"
    subscription = S.subscribe(plan=plan, member=member, desk=desk, actor=member)
    assert booking_model.objects.filter(subscription=subscription, resource=desk).exists()
    with pytest.raises(Conflict) as taken:
        S.subscribe(plan=plan, member=other_member, desk=desk, actor=other_member)
    assert taken.value.code == "booking_overlap"
    assert Subscription.objects.count() == 1 and Invoice.objects.count() == 1


def test_the_first_period_grants_the_plans_credits(clock, venue, member):
    hours = CreditType.objects.create(venue=venue, code="heures-salle", name="Heures de salle")
    plan = make_plan(venue, credit_grants=[CreditGrantInput(hours, D("10"))])
    subscription = S.subscribe(plan=plan, member=member, actor=member)
    lot = CreditLot.objects.get(person=member)
    assert lot.source_key.startswith(f"subscription:{subscription.pk}:2027-01-15:")
    assert (lot.granted, lot.granted_on, lot.expires_on) == (D("10.00"), d("2027-01-15"), d("2027-02-14"))


def test_a_pack_is_invoiced_once_with_its_validity(clock, venue, member):
    pack = make_plan(
        venue, slug="carnet", name="Carnet de 10 journées", kind="pack", interval="once", pack_days=10,
        validity_days=183, prices=(("2020-01-01", "100"),),
    )  # fmt: skip
    first = S.subscribe(plan=pack, member=member, actor=member)
    second = S.subscribe(plan=pack, member=member, actor=member)  # two carnets: fine
    assert (first.current_period_end, first.ends_on) == (d("2027-07-16"), d("2027-07-16"))
    assert Invoice.objects.filter(kind="invoice").count() == 2
    assert period_invoice(second, d("2027-01-15")).net_amount == D("100.00")


# Quotes and plan changes


def test_the_quote_shows_trial_price_steps_vat_and_commitment(clock, venue, member):
    plan = make_plan(
        venue,
        prices=(("2026-01-01", "120", "tarif de lancement"), ("2027-06-01", "150")),
        trial_days=7,
        commitment_months=3,
        notice_days=30,
    )
    quote = S.quote_subscription(plan, member=member)
    assert quote.trial_ends_on == d("2027-01-21")
    assert quote.first_period == S.periods.Period(d("2027-01-22"), d("2027-02-21"))
    assert (quote.first_invoice.net_amount, quote.first_invoice.gross_amount) == (D("120.00"), D("144.00"))
    assert quote.price_label == "tarif de lancement"
    assert quote.commitment_ends_on == d("2027-04-21")
    assert [(s.starts_on, s.net_amount) for s in quote.upcoming_prices] == [(d("2027-06-01"), D("150"))]


def test_changing_plan_now_credits_the_unused_days_and_invoices_the_rest(clock, venue, member, monthly):
    bigger = make_plan(
        venue, slug="fixe", name="Poste fixe", proration="by_day", prices=(("2020-01-01", "310"),)
    )
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    original = period_invoice(subscription, d("2027-01-01"))
    clock.set("2027-01-10")
    quote = S.quote_plan_change(subscription, bigger)
    # 22 of January's 31 days are left: 150 × 22/31 credited, 310 × 22/31 charged.
    assert quote.days_remaining == 22 and quote.period.days == 31
    assert quote.credit.net_amount == D("106.45") and quote.charge.net_amount == D("220.00")
    assert quote.balance == D("264.00") - D("127.74")
    change = S.change_plan(subscription=subscription, new_plan=bigger, actor=member, expected=quote)
    assert change.credit_note.kind == "credit_note" and change.credit_note.corrects == original
    assert change.credit_note.net_amount == quote.credit.net_amount
    assert change.credit_note.gross_amount == quote.credit.gross_amount
    assert change.invoice.net_amount == quote.charge.net_amount
    line = change.invoice.lines.get()
    assert (line.service_from, line.service_to) == (d("2027-01-10"), d("2027-01-31"))
    original.refresh_from_db()
    assert original.net_amount == D("150.00")  # never edited
    subscription.refresh_from_db()
    assert subscription.plan == bigger
    assert [e.data.get("document") for e in events(subscription, "invoice")] == [
        "invoice",
        "credit_note",
        "invoice",
    ]
    assert events(subscription, "plan_changed")[0].data["credit_net"] == "106.45"
    # A second change in the same period credits what the first change invoiced.
    clock.set("2027-01-20")
    second = S.quote_plan_change(subscription, monthly)
    assert second.credited_invoice_id == change.invoice.pk
    assert second.credit.net_amount == D("120.00")  # 220 × 12/22


def test_without_proration_nothing_is_credited_and_the_period_is_due_in_full(clock, venue, member):
    flat = make_plan(venue, slug="nomade", name="Nomade", prices=(("2020-01-01", "90"),))
    other = make_plan(venue, slug="resident", name="Résident", prices=(("2020-01-01", "200"),))
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=flat, member=member, actor=member)
    clock.set("2027-01-10")
    quote = S.quote_plan_change(subscription, other)
    assert (quote.credit.net_amount, quote.charge.net_amount) == (D("0.00"), D("200.00"))
    change = S.change_plan(subscription=subscription, new_plan=other, actor=member)
    assert change.credit_note is None and change.invoice.net_amount == D("200.00")


def test_a_quote_that_changed_is_not_applied(clock, venue, member, monthly, manager):
    bigger = make_plan(
        venue, slug="fixe", name="Poste fixe", proration="by_day", prices=(("2020-01-01", "310"),)
    )
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    clock.set("2027-01-10")
    quote = S.quote_plan_change(subscription, bigger)
    clock.set("2027-01-11")  # one day later, the amounts differ
    with pytest.raises(Conflict) as changed:
        S.change_plan(subscription=subscription, new_plan=bigger, actor=member, expected=quote)
    assert changed.value.code == "quote_changed"
    assert Invoice.objects.count() == 1


def test_a_change_at_period_end_waits_for_the_next_period(clock, venue, member, monthly):
    yearly = make_plan(
        venue, slug="annuel", name="Coworking à l'année", interval="year", prices=(("2020-01-01", "1500"),)
    )
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    with pytest.raises(ValidationError) as now:
        S.change_plan(subscription=subscription, new_plan=yearly, actor=member)
    assert now.value.code == "interval_change_at_period_end"
    quote = S.quote_plan_change(subscription, yearly, S.PERIOD_END)
    assert quote.effective_on == d("2027-02-01") and quote.balance == 0
    assert quote.next_period == S.periods.Period(d("2027-02-01"), d("2028-01-31"))
    assert quote.next_period_amounts.gross_amount == D("1800.00")
    S.change_plan(subscription=subscription, new_plan=yearly, when=S.PERIOD_END, actor=member)
    subscription.refresh_from_db()
    assert subscription.plan == monthly and subscription.next_plan == yearly
    assert Invoice.objects.count() == 1
    S.cancel_plan_change(subscription=subscription, actor=member)
    subscription.refresh_from_db()
    assert subscription.next_plan is None


# Pause, cancel, end


def test_pause_and_resume_within_and_after_the_paid_period(clock, venue, member, monthly):
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    clock.set("2027-01-10")
    S.pause(subscription=subscription, actor=member)
    clock.set("2027-01-20")
    resumed = S.resume(subscription=subscription, actor=member)
    assert resumed.current_period_start == d("2027-01-01") and Invoice.objects.count() == 1
    S.pause(subscription=subscription, actor=member)
    clock.set("2027-03-12")
    resumed = S.resume(subscription=subscription, actor=member)
    assert (resumed.current_period_start, resumed.current_period_end) == (d("2027-03-12"), d("2027-04-11"))
    assert resumed.billing_anchor_on == d("2027-03-12")
    assert period_invoice(resumed, d("2027-03-12")).net_amount == D("150.00")
    assert [(e.from_status, e.to_status) for e in events(resumed, "transition")] == [
        ("", "active"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "paused"),
        ("paused", "active"),
    ]


def test_cancelling_respects_the_commitment_unless_a_manager_forces_it(clock, venue, member, manager):
    plan = make_plan(venue, commitment_months=3, notice_days=0)
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=plan, member=member, actor=member)
    assert subscription.commitment_ends_on == d("2027-03-31")
    clock.set("2027-01-20")
    with pytest.raises(Conflict) as committed:
        S.cancel(subscription=subscription, actor=member)
    assert committed.value.code == "commitment_not_over"
    assert committed.value.extra["earliest_end"] == "2027-03-31"
    with pytest.raises(Forbidden):
        S.cancel(subscription=subscription, actor=member, force=True)
    # The member can give notice now for the end of the commitment.
    cancelled = S.cancel(subscription=subscription, actor=member, ends_on=d("2027-03-31"))
    assert (cancelled.status, cancelled.ends_on) == ("cancelling", d("2027-03-31"))
    S.undo_cancel(subscription=subscription, actor=member)
    forced = S.cancel(subscription=subscription, actor=manager, force=True)
    assert (forced.status, forced.ends_on) == ("cancelling", d("2027-01-31"))
    event = events(forced, "transition")[-1]
    assert (event.from_status, event.to_status, event.data["forced"]) == ("active", "cancelling", True)


def test_the_notice_moves_the_end_to_a_later_period_end(clock, venue, member):
    plan = make_plan(venue, notice_days=30)
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=plan, member=member, actor=member)
    clock.set("2027-01-20")
    cancelled = S.cancel(subscription=subscription, actor=member)
    assert cancelled.ends_on == d("2027-02-28")  # 20 Jan + 30 days = 19 Feb: the February period's end
    S.undo_cancel(subscription=subscription, actor=member)
    with pytest.raises(Conflict) as short:
        S.cancel(subscription=subscription, actor=member, ends_on=d("2027-01-31"))
    assert (short.value.code, short.value.extra["earliest_end"]) == ("notice_too_short", "2027-02-28")
    with pytest.raises(ValidationError) as odd:
        S.cancel(subscription=subscription, actor=member, ends_on=d("2027-02-15"))
    assert odd.value.code == "not_a_period_end"


def test_a_manager_ends_a_subscription_at_once_with_a_credit_for_the_unused_days(
    clock, venue, member, manager, monthly
):
    ended = []
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    with pytest.raises(Forbidden):
        S.cancel(subscription=subscription, actor=member, at_period_end=False)
    clock.set("2027-01-21")
    hooks.on_subscription_ended.append(ended.append)
    try:
        S.cancel(subscription=subscription, actor=manager, at_period_end=False, reason="Déménagement")
    finally:
        hooks.on_subscription_ended.remove(ended.append)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.ends_on) == ("ended", d("2027-01-21"))
    note = Invoice.objects.get(kind="credit_note")
    assert note.net_amount == D("48.39")  # 150 × 10/31
    assert [s.pk for s in ended] == [subscription.pk]


def test_a_cancelled_trial_ends_with_the_trial(clock, venue, member):
    plan = make_plan(venue, trial_days=10)
    subscription = S.subscribe(plan=plan, member=member, actor=member)
    cancelled = S.cancel(subscription=subscription, actor=member)
    assert (cancelled.status, cancelled.ends_on) == ("trial", d("2027-01-24"))
    assert events(cancelled)[-1].kind == "cancel_scheduled"


def test_past_due_and_back(clock, venue, member, manager, monthly):
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    invoice = period_invoice(subscription, d("2027-01-15"))
    with pytest.raises(Forbidden):
        S.mark_past_due(subscription=subscription, actor=member)
    S.mark_past_due(subscription=subscription, actor=manager, invoice=invoice)
    with pytest.raises(IllegalTransition) as illegal:
        S.pause(subscription=subscription, actor=member)
    assert illegal.value.code == "illegal_transition"
    S.mark_paid(subscription=subscription, actor=None, invoice=invoice)
    subscription.refresh_from_db()
    assert subscription.status == "active"
    S.log_payment(subscription=subscription, invoice=invoice, amount=D("180"), method="transfer")
    # A member who gave notice and then fell behind goes back to "cancelling" once paid.
    S.cancel(subscription=subscription, actor=member)
    S.mark_past_due(subscription=subscription, actor=None)
    back = S.mark_paid(subscription=subscription, actor=None)
    assert back.status == "cancelling"
    log = [(e.kind, e.from_status, e.to_status) for e in events(subscription)]
    assert log[2:] == [
        ("transition", "active", "past_due"),
        ("transition", "past_due", "active"),
        ("payment", "", ""),
        ("transition", "active", "cancelling"),
        ("transition", "cancelling", "past_due"),
        ("transition", "past_due", "cancelling"),
    ]
    actions = AuditEvent.objects.filter(
        object_id=str(subscription.pk), action__startswith="memberships.subscription."
    )
    assert actions.count() == 1 + 5  # started + each transition


def test_who_may_act_on_a_subscription(clock, venue, member, other_member, manager, other_manager, monthly):
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    for stranger in (other_member, other_manager):
        with pytest.raises(NotFound):
            S.pause(subscription=subscription, actor=stranger)
    with pytest.raises(Forbidden):
        S.end(subscription=subscription, actor=member)
    S.end(subscription=subscription, actor=manager, reason="Fin")
    subscription.refresh_from_db()
    assert subscription.status == "ended" and subscription.ends_on == d("2027-01-15")
    with pytest.raises(IllegalTransition):
        S.resume(subscription=subscription, actor=manager)


# Plans


def test_plans_are_validated(venue, other_venue, manager, member):
    hours = CreditType.objects.create(venue=other_venue, code="h", name="Heures")
    base = {
        "venue": venue,
        "actor": manager,
        "slug": "p",
        "name": "P",
        "kind": "subscription",
        "interval": "month",
    }
    prices = [PriceStepInput(date(2026, 1, 1), D("10"))]
    cases = [
        ({"vat_rate": D("7.5")}, "invalid_vat_rate"),
        ({"kind": "pack", "interval": "once", "validity_days": 30}, "pack_days_required"),
        ({"interval": "once"}, "invalid_interval"),
        ({"kind": "day_pass", "interval": "once", "trial_days": 3}, "not_recurring"),
        ({"kind": "membership_fee", "interval": "year", "desk_mode": "fixed"}, "desk_needs_subscription"),
        ({"slug": "pas un slug"}, "invalid_slug"),
        ({"credit_grants": [CreditGrantInput(hours, D("2"))]}, "credit_type_venue"),
        ({"prices": []}, "price_required"),
        ({"prices": [PriceStepInput(date(2026, 1, 1), D("10.005"))]}, "invalid_amount"),
    ]
    for changes, code in cases:
        with pytest.raises(ValidationError) as refused:
            create_plan(**{**base, "prices": prices, **changes})
        assert refused.value.code == code, changes
    with pytest.raises(Forbidden):
        create_plan(**{**base, "actor": member}, prices=prices)
    create_plan(**base, prices=prices)
    with pytest.raises(ValidationError) as taken:
        create_plan(**base, prices=prices)
    assert taken.value.code == "slug_taken"
    assert create_plan(**{**base, "venue": other_venue, "actor": None}, prices=prices).slug == "p"


def test_prices_in_force_are_history(clock, venue, manager, member, monthly):
    with pytest.raises(ValidationError) as rewritten:
        update_plan(plan=monthly, actor=manager, prices=[PriceStepInput(date(2020, 1, 1), D("99"))])
    assert rewritten.value.code == "price_step_in_force"
    plan = update_plan(
        plan=monthly,
        actor=manager,
        prices=[PriceStepInput(date(2020, 1, 1), D("150")), PriceStepInput(date(2027, 6, 1), D("180"))],
    )
    assert [p.net_amount for p in plan.prices.order_by("starts_on")] == [D("150.00"), D("180.00")]
    S.subscribe(plan=plan, member=member, actor=member)
    with pytest.raises(Conflict) as in_use:
        update_plan(plan=plan, actor=manager, interval="year")
    assert in_use.value.code == "plan_in_use"
    with pytest.raises(NotFound):
        update_plan(plan=plan, actor=UserFactory(email="personne@example.org"), name="X")


# Selectors


def test_selectors(clock, venue, other_venue, member, other_member, monthly):
    coop = organisation("Coop", member, other_member)
    own = S.subscribe(plan=monthly, member=member, actor=member)
    paid = S.subscribe(plan=monthly, member=other_member, payer_organisation=coop, actor=other_member)
    make_plan(venue, slug="archive", name="Ancienne offre", is_active=False)
    assert list(selectors.subscriptions_for(member)) == [own]
    assert set(selectors.subscriptions_for(member, include_organisations=True)) == {own, paid}
    assert set(selectors.venue_subscriptions(venue, status="active")) == {own, paid}
    assert not selectors.venue_subscriptions(other_venue).exists()
    assert [p.slug for p in selectors.plans_on_sale(venue)] == ["coworking"]
    detail = selectors.subscription_detail(paid.pk, member=member)
    assert [e.kind for e in detail.events] == ["transition", "invoice"]
    assert [i.invoice.buyer_organisation for i in detail.period_invoices] == [coop]
    assert len(detail.documents) == 1 and detail.current_price.net_amount == D("150")
    with pytest.raises(NotFound):
        selectors.subscription_detail(own.pk, venue=other_venue)
    with pytest.raises(NotFound):
        selectors.subscription_detail(own.pk, member=UserFactory(email="autre@example.org"))


def test_a_plan_change_never_credits_more_than_is_left_on_the_invoice(clock, venue, member, manager, monthly):
    bigger = make_plan(
        venue, slug="fixe", name="Poste fixe", proration="by_day", prices=(("2020-01-01", "310"),)
    )
    clock.set("2027-01-01")
    subscription = S.subscribe(plan=monthly, member=member, actor=member)
    original = period_invoice(subscription, d("2027-01-01"))
    issue_credit_note(original, reason="Geste commercial", lines=[DraftLine("Geste", D(1), D("100"))])
    clock.set("2027-01-10")
    quote = S.quote_plan_change(subscription, bigger)
    assert quote.credit.net_amount == D("50.00")  # 106.45 by the days, but only 50 is left uncredited
    change = S.change_plan(subscription=subscription, new_plan=bigger, actor=member)
    assert change.credit_note.net_amount == D("50.00")
