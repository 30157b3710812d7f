"""Periodic membership jobs run by `lieux worker`: thin wrappers around services."""

import logging
from zoneinfo import ZoneInfo

from django.conf import settings

from lieux.core.schedule import every
from lieux.core.time import now
from lieux.memberships.services import credits as credit_services
from lieux.memberships.services.billing_run import run_billing
from lieux.memberships.services.past_due import sync_past_due

log = logging.getLogger("lieux.billing_run")


# Booking credits: bookkeeping only, since spending and balances already ignore lots past their expiry and
# the subscription service grants each period's credits as it starts. Both jobs are idempotent.
@every(6 * 3600, "memberships.expire_credits")
def expire_credits() -> int:
    return credit_services.expire_lots()


@every(6 * 3600, "memberships.grant_credits")
def grant_credits() -> int:
    return credit_services.grant_current_periods()


# The billing run, daily: each period is invoiced on the day it starts (or at the next tick after a
# stopped worker, since the run catches up what it missed). Idempotent: a second run the same day issues
# nothing new.
@every(24 * 3600, "memberships.billing_run")
def run_current_month_billing() -> str:
    today = now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    report = run_billing(period=today.replace(day=1), progress=log.info)
    return report.summary()[0]


# Subscriptions follow their payers' overdue invoices (the venue's grace days counted), daily.
@every(24 * 3600, "memberships.sync_past_due")
def sync_past_due_subscriptions() -> tuple[int, int]:
    return sync_past_due()
