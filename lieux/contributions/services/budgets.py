"""Creating a contributive budget and changing its rules; the checks other use cases share.

`ensure_budget_open(budget)` is the one check every writer calls: a closed budget takes no declaration,
validation, funding or rule change (payouts of what it owes, and receipts of what was promised, go on).
`lock_budget` takes the budget's row lock: payouts, funding and closing hold it while they read the ledger
and write to it, so two of them never decide on the same balance (SQLite's IMMEDIATE transactions already
serialise writers).
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_slug
from django.utils.translation import gettext as _

from lieux.contributions.errors_budgets import BudgetClosed, NotTreasurer
from lieux.contributions.models import (
    Account,
    Budget,
    BudgetStatus,
    Overrun,
    Project,
    Validators,
)
from lieux.contributions.rules import ledger as ledger_rules
from lieux.contributions.selectors.budgets import account_balance, may_manage_budget
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, ValidationError
from lieux.core.money import CENT
from lieux.venues.models import Network, Venue

# Rules and descriptive fields a manager may change while the budget is open.
EDITABLE = (
    "name",
    "description",
    "starts_on",
    "ends_on",
    "validators",
    "validations_required",
    "overrun",
    "hourly_value",
    "is_public",
)
MAX_VALIDATIONS = 20


def ensure_budget_open(budget: Budget) -> None:
    """Refuse (409 `budget_closed`) any declaration, validation, funding or rule change on a closed
    budget. Call it on the locked row when the decision must hold until commit."""
    if budget.status == BudgetStatus.CLOSED:
        raise BudgetClosed()


def ensure_treasurer(actor: Any, budget: Budget) -> None:
    if not may_manage_budget(actor, budget):
        raise NotTreasurer()


def lock_budget(budget: Budget | int) -> Budget:
    """The budget's row, locked until the end of the transaction (the caller holds one)."""
    pk = budget if isinstance(budget, int) else budget.pk
    return Budget.objects.select_for_update(of=("self",)).select_related("network", "venue").get(pk=pk)


def parse_amount(
    value: Any, field: str, *, allow_negative: bool = False, allow_zero: bool = False
) -> Decimal:
    """A euro amount in cents from user input, or a ValidationError naming the field."""
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Not an amount."), code="invalid_amount", field=field) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) >= Decimal("1e10"):
        raise ValidationError(_("Give an amount in euros and cents."), code="invalid_amount", field=field)
    if (amount < 0 and not allow_negative) or (amount == 0 and not allow_zero):
        raise ValidationError(_("The amount must be positive."), code="invalid_amount", field=field)
    return amount.quantize(CENT)


def envelope_balance(budget: Budget) -> Decimal:
    return account_balance(budget, Account.ENVELOPE)


def refresh_budget_status(budget: Budget, *, actor: Any = None) -> Budget:
    """Put an open budget in deficit when what was validated passes what was committed, and back to open
    once the envelope is whole again. The caller holds the budget's lock; a closed budget stays closed."""
    if budget.status == BudgetStatus.CLOSED:
        return budget
    remaining = -envelope_balance(budget)
    wanted = ledger_rules.state(closed=False, remaining=remaining)
    if wanted != budget.status:
        before = budget.status
        budget.status = wanted
        budget.save(update_fields=["status"])
        audit.record(
            "contributions.budget.status_changed",
            budget,
            actor=actor,
            venue_id=budget.venue_id,
            before=before,
            after=wanted,
            remaining=str(remaining),
        )
    return budget


def _check(budget: Budget) -> None:
    """The budget's own fields make sense together; raises ValidationError naming the field at fault."""
    if not budget.name.strip():
        raise ValidationError(_("A budget needs a name."), code="name_required", field="name")
    try:
        validate_slug(budget.slug)
    except DjangoValidationError:
        raise ValidationError(
            _("Use letters, digits, hyphens and underscores."), code="invalid_slug", field="slug"
        ) from None
    if not isinstance(budget.starts_on, date) or not isinstance(budget.ends_on, date):
        raise ValidationError(_("A budget needs a period."), code="period_required", field="starts_on")
    if budget.ends_on < budget.starts_on:
        raise ValidationError(
            _("The budget must end after it starts."), code="period_out_of_order", field="ends_on"
        )
    if budget.validators not in Validators.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_validators", field="validators")
    if budget.overrun not in Overrun.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_overrun", field="overrun")
    required = budget.validations_required
    if not isinstance(required, int) or isinstance(required, bool) or not 1 <= required <= MAX_VALIDATIONS:
        raise ValidationError(
            _("Between 1 and %(n)s validations.") % {"n": MAX_VALIDATIONS},
            code="invalid_validations_required",
            field="validations_required",
        )
    budget.hourly_value = parse_amount(budget.hourly_value, "hourly_value", allow_zero=True)


def create_budget(
    *,
    network: Network,
    slug: str,
    name: str,
    starts_on: date,
    ends_on: date,
    venue: Venue | None = None,
    project: Project | None = None,
    validators: str = Validators.STEWARDS,
    validations_required: int = 1,
    overrun: str = Overrun.DEFICIT,
    hourly_value: Decimal | str = Decimal("20.00"),
    description: str = "",
    is_public: bool = True,
    actor: Any = None,
) -> Budget:
    """A new open budget, empty until funding sources are added. A budget without a venue belongs to the
    whole network; one for a project takes only that project's requests."""
    if venue is not None and venue.network_id != network.pk:
        raise ValidationError(
            _("This venue belongs to another network."), code="venue_elsewhere", field="venue"
        )
    if project is not None:
        if project.network_id != network.pk:
            raise ValidationError(
                _("This project belongs to another network."), code="project_elsewhere", field="project"
            )
        if project.venue_id is not None and venue is not None and project.venue_id != venue.pk:
            raise ValidationError(
                _("This project belongs to another venue."), code="project_elsewhere", field="project"
            )
    budget = Budget(
        network=network,
        venue=venue,
        project=project,
        slug=slug.strip(),
        name=name.strip(),
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        validators=validators,
        validations_required=validations_required,
        overrun=overrun,
        hourly_value=hourly_value,  # type: ignore[misc]
        is_public=is_public,
    )
    _check(budget)
    ensure_treasurer(actor, budget)

    def write() -> Budget:
        if Budget.objects.filter(network=network, slug=budget.slug).exists():
            raise Conflict(
                _("The network already has a budget named %(slug)s.") % {"slug": budget.slug},
                code="budget_slug_taken",
                field="slug",
            )
        budget.save()
        audit.record(
            "contributions.budget.created",
            budget,
            actor=actor,
            venue_id=budget.venue_id,
            slug=budget.slug,
            project=budget.project_id,
            period=[budget.starts_on.isoformat(), budget.ends_on.isoformat()],
            validators=budget.validators,
            validations_required=budget.validations_required,
            overrun=budget.overrun,
        )
        return budget

    return atomic_with_retry(write)


def update_budget(budget: Budget, *, actor: Any = None, **changes: Any) -> Budget:
    """Change the rules or the description of an open budget. New rules apply to the reviews that follow;
    what was validated stays validated."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="not_editable",
        )
    ensure_treasurer(actor, budget)

    def write() -> Budget:
        locked = lock_budget(budget)
        ensure_budget_open(locked)
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value.strip() if field == "name" and isinstance(value, str) else value)
        _check(locked)
        changed = [f for f in changes if getattr(locked, f) != before[f]]
        if not changed:
            return locked
        locked.save(update_fields=changed)
        audit.record(
            "contributions.budget.updated",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            changes={f: [str(before[f]), str(getattr(locked, f))] for f in changed},
        )
        return locked

    return atomic_with_retry(write)
