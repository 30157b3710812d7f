"""Domain errors of budgets, funding, payouts, credit settlements, closing and allocation rounds. The API
maps them to 4xx JSON through lieux.core.errors; the CLI prints their message."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from lieux.core.errors import Conflict, Forbidden, NotFound, ValidationError


class BudgetNotFound(NotFound):
    code = "unknown_budget"

    def __init__(self) -> None:
        super().__init__(_("No such budget."))


class BudgetClosed(Conflict):
    """A closed budget takes no declaration, validation, funding or rule change."""

    code = "budget_closed"

    def __init__(self) -> None:
        super().__init__(_("This budget is closed."))


class NotTreasurer(Forbidden):
    code = "not_treasurer"

    def __init__(self) -> None:
        super().__init__(_("Only the budget's managers may do this."))


class ReceiptExceedsCommitment(ValidationError):
    code = "receipt_exceeds_commitment"

    def __init__(self, left: Decimal) -> None:
        super().__init__(
            _("This source has %(left)s € left to receive: record the surplus as a new funding source.")
            % {"left": left},
            left=str(left),
        )


class NotEnoughCash(Conflict):
    """Nobody is paid before the money is there."""

    code = "cash_not_received"

    def __init__(self, needed: Decimal, available: Decimal) -> None:
        super().__init__(
            _("%(needed)s € to pay but only %(available)s € received and not yet paid out.")
            % {"needed": needed, "available": available},
            needed=str(needed),
            available=str(available),
        )


class NothingToPay(ValidationError):
    code = "nothing_to_pay"

    def __init__(self) -> None:
        super().__init__(_("Nothing is owed to this person on this budget."))


class AmountBelowOneCredit(ValidationError):
    code = "amount_below_one_credit"

    def __init__(self, minimum: Decimal) -> None:
        super().__init__(
            _("At least %(minimum)s € must be owed to convert it into this credit.") % {"minimum": minimum},
            minimum=str(minimum),
        )


class BeyondCreditToSettle(ValidationError):
    """A venue is paid for the credit issued there, never more."""

    code = "beyond_credit_to_settle"

    def __init__(self, to_settle: Decimal) -> None:
        super().__init__(
            _("Only %(to_settle)s € of credit issued at this venue is still to settle.")
            % {"to_settle": to_settle},
            to_settle=str(to_settle),
            field="amount",
        )


class RoundNotOpen(Conflict):
    code = "round_not_open"

    def __init__(self) -> None:
        super().__init__(_("This round is not open for allocations."))


class ShareExceeded(ValidationError):
    code = "share_exceeded"

    def __init__(self, share: Decimal) -> None:
        super().__init__(
            _("Your allocations may not add up to more than your share of %(share)s €.") % {"share": share},
            share=str(share),
        )
