"""Rows for the reports' tests, written directly: the reports only read, so their tests start from
contributions and payouts in known states without going through the declaration or payout use cases."""

from datetime import date
from decimal import Decimal
from itertools import count

from lieux.accounts.models import User
from lieux.contributions.models import (
    Activity,
    Budget,
    Contribution,
    ContributionKind,
    ContributionStatus,
    CreditConversion,
    Payout,
    PayoutMethod,
    Project,
)
from lieux.memberships.models import CreditType
from lieux.venues.models import Network, Venue

_keys = count(1)


def contribution(
    project: Project,
    person: User,
    *,
    on: date,
    hours: str | None,
    status: str = ContributionStatus.VALIDATED,
    budget: Budget | None = None,
    activities: tuple[Activity, ...] | list[Activity] = (),
    kind: str = ContributionKind.TIME,
    asked: str | None = None,
    granted: str | None = None,
    description: str = "Coup de main",
    payout: Payout | None = None,
) -> Contribution:
    made = Contribution.objects.create(
        project=project,
        budget=budget,
        contributor=person,
        declared_by=person,
        performed_on=on,
        hours=Decimal(hours) if hours is not None else None,
        kind=kind,
        description=description,
        amount_asked=Decimal(asked) if asked is not None else None,
        amount_granted=Decimal(granted) if granted is not None else None,
        status=status,
        payout=payout,
    )
    made.activities.set(list(activities))
    return made


def credit_conversion(network: Network, venue: Venue, name: str = "Journée de coworking") -> CreditConversion:
    credit_type = CreditType.objects.create(venue=venue, code=f"credit-{next(_keys)}", name=name)
    return CreditConversion.objects.create(
        network=network, credit_type=credit_type, euros_per_credit=Decimal("15.00")
    )


def payout(
    budget: Budget,
    person: User,
    amount: str,
    *,
    on: date,
    conversion: CreditConversion | None = None,
    quantity: str | None = None,
) -> Payout:
    return Payout.objects.create(
        budget=budget,
        person=person,
        method=PayoutMethod.CREDIT if conversion else PayoutMethod.EUROS,
        amount=Decimal(amount),
        paid_on=on,
        conversion=conversion,
        credit_quantity=Decimal(quantity) if quantity else None,
        key=f"test-payout-{next(_keys)}",
    )
