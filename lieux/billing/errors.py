from django.utils.translation import gettext_lazy as _

from lieux.core.errors import Conflict, ValidationError


class NothingToInvoice(ValidationError):
    code = "nothing_to_invoice"

    def __init__(self) -> None:
        super().__init__(_("There is nothing to invoice: free items are not invoiced."))


class PeriodClosed(Conflict):
    code = "period_closed"


class AlreadyCredited(Conflict):
    code = "already_credited"


class NotIssued(Conflict):
    code = "not_issued"
