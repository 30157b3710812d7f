"""Extension points for the apps above memberships (booking, interlieux), which memberships may not import.

They register in their AppConfig.ready(); memberships calls them inside its own transactions, so a hook
that fails (a fixed desk already taken) rolls the whole change back.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lieux.memberships.models import Subscription

SubscriptionHook = Callable[["Subscription"], None]

# Called after a subscription starts (or changes plan now), and after it ends.
on_subscription_started: list[SubscriptionHook] = []
on_subscription_ended: list[SubscriptionHook] = []


@dataclass(frozen=True)
class BillingSource:
    """Something the billing run invoices besides subscriptions, e.g. billable bookings.

    `pending` lists the keys still to invoice for a period; `bill` invoices one key and must be idempotent
    (a draft keyed by a source_key), because a killed run is simply run again."""

    name: str
    pending: Callable[[date, date, Iterable[int] | None], Iterable[Any]]
    bill: Callable[[Any, date, date], Any]


billing_sources: list[BillingSource] = []
