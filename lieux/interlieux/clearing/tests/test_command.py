"""`lieux clearing`: arguments checked before anything is written, progress printed, clear errors."""

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lieux.billing.models import Invoice
from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement, StatementStatus
from lieux.interlieux.clearing.tests.data import PARIS, credit_booking, visits

pytestmark = pytest.mark.django_db


def clearing(*args: str) -> str:
    out = StringIO()
    call_command("clearing", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def january(network, venue, other_venue):
    visits(home=venue, host=other_venue, count=12)
    clearing(
        "key", "--method", "per_visit", "--price", "4,50", "--allowance", "2", "--voted-on", "2025-12-01"
    )
    return network


def test_key_run_explain_and_close(january, venue, other_venue):
    assert ClearingKey.objects.get().unit_price == 45 / 10
    preview = clearing("run", "--month", "2026-01", "--dry-run")
    assert "12 cross-venue visits counted in 1 pairs" in preview and "45.00 €" in preview
    assert not ClearingStatement.objects.exists()

    computed = clearing("run", "--month", "2026-01")
    assert "not invoiced yet" in computed and "45.00 € to transfer" in computed
    explained = clearing("explain", "--month", "2026-01")
    assert "2 free, 10 paid = 45.00" in explained and "the same figures" in explained

    closed = clearing("close", "--month", "2026-01")
    invoice = Invoice.objects.get()
    assert invoice.number in closed and ClearingStatement.objects.get().status == StatementStatus.CLOSED
    with pytest.raises(CommandError, match="closed"):
        clearing("run", "--month", "2026-01")


def test_explain_shows_the_credits_used_at_a_partner_per_pair(january, venue, other_venue):
    for day in (5, 6):
        credit_booking(home=venue, host=other_venue, starts_at=datetime(2026, 1, day, 10, tzinfo=PARIS))
    assert "2 bookings paid with another venue's credits: 48.00 € owed in full" in clearing(
        "run", "--month", "2026-01"
    )
    explained = clearing("explain", "--month", "2026-01")
    assert "La Coroutine → Baraka: 12 visits against 0, 2 free, 10 paid = 45.00" in explained
    assert "La Coroutine → Baraka: credits used at a partner, 2 bookings = 48.00" in explained
    assert "La Coroutine pays Baraka 93.00" in explained and "the same figures" in explained


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--month", "2026-01", "--key", "7"], "no key v7"),
        (["run", "--month", "2026-01", "--close", "--dry-run"], "exclude each other"),
        (["run", "--month", "2026-01", "--revenue", "nowhere=10"], "No venue 'nowhere'"),
        (["close", "--month", "2026-01"], "No statement for 2026-01"),
        (["--network", "other", "run", "--month", "2026-01"], "No network"),
        (["run", "--month", "2026-13"], "not a month"),
    ],
)
def test_wrong_arguments_stop_with_a_message_and_write_nothing(january, args, message):
    with pytest.raises(CommandError, match=message):
        clearing(*args)
    assert not ClearingStatement.objects.exists()


def test_without_a_key_the_run_says_so(network, venue):
    with pytest.raises(CommandError, match="no clearing key"):
        clearing("run", "--month", "2026-01")
