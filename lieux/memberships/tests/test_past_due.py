from datetime import timedelta
from decimal import Decimal

import pytest

from lieux.billing.services.payments import record_payment
from lieux.core.schedule import JOBS
from lieux.memberships.models import Subscription, SubscriptionInvoice
from lieux.memberships.rules import states
from lieux.memberships.services import subscriptions as S
from lieux.memberships.services.past_due import sync_past_due
from lieux.memberships.tests.subscription_data import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(venue, member):
    plan = make_plan(venue, prices=(("2020-01-01", "100"),))
    subscription = S.subscribe(plan=plan, member=member, actor=member)
    invoice = SubscriptionInvoice.objects.get(subscription=subscription).invoice
    return subscription, invoice


def status(subscription) -> str:
    return Subscription.objects.get(pk=subscription.pk).status


def test_a_subscription_is_past_due_while_its_invoice_is_overdue_then_active_again(subscribed, venue):
    subscription, invoice = subscribed
    assert JOBS["memberships.sync_past_due"].every_seconds == 24 * 3600
    in_grace = invoice.due_on + timedelta(days=5)
    assert sync_past_due(in_grace) == (0, 0)
    later = invoice.due_on + timedelta(days=40)
    assert sync_past_due(later) == (1, 0)
    assert status(subscription) == states.PAST_DUE
    assert sync_past_due(later) == (0, 0)  # idempotent
    record_payment(invoice, amount=invoice.gross_amount, method="transfer", received_on=later)
    assert sync_past_due(later) == (0, 1)
    assert status(subscription) == states.ACTIVE


def test_a_subscription_the_staff_put_past_due_stays_so(subscribed, manager):
    subscription, invoice = subscribed
    S.mark_past_due(subscription=subscription, actor=manager, invoice=invoice)
    record_payment(invoice, amount=Decimal(invoice.gross_amount), method="cash", received_on=invoice.due_on)
    assert sync_past_due(invoice.due_on + timedelta(days=60)) == (0, 0)
    assert status(subscription) == states.PAST_DUE
