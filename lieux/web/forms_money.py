"""Forms of the payment, export and SEPA screens: a payment recorded by hand and its reversal, the list
of payments filtered, the accounting exports' periods, and a member's SEPA mandate. They check what was
typed; the rules stay in the billing services."""

import calendar
import re
from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from lieux.billing.models import PaymentMethod
from lieux.billing.services.fec import ENCODINGS
from lieux.billing.services.mandates import checked_iban
from lieux.core.errors import DomainError
from lieux.web.forms import DATE_WIDGET, WebForm
from lieux.web.forms_billing import MONTH, money_field

# What a team records at the desk or reads on a bank statement; the other methods come from providers.
MANUAL_METHODS = (
    PaymentMethod.TRANSFER,
    PaymentMethod.CHEQUE,
    PaymentMethod.CASH,
    PaymentMethod.CARD_TERMINAL,
)
MONTH_WIDGET = forms.TextInput(attrs={"type": "month", "placeholder": "2026-12", "pattern": r"\d{4}-\d{2}"})
FIRST_YEAR, LAST_YEAR = 2000, 2999


def parse_month(text: str) -> date | None:
    """ "2026-12" → 1 December 2026; None for anything else."""
    match = MONTH.match(text.strip())
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


class MonthField(forms.CharField):
    """A month typed YYYY-MM (what <input type=month> sends), cleaned to its first day."""

    widget = MONTH_WIDGET

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=7, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        month = parse_month(text)
        if month is None:
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-12."))
        return month


# --- Payments --------------------------------------------------------------------------------------------


class PaymentFilterForm(WebForm):
    month = MonthField(label=_("Month"), required=False)
    method = forms.ChoiceField(
        label=_("Method"), required=False, choices=[("", _("Every method")), *PaymentMethod.choices]
    )


class PaymentForm(WebForm):
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[(m.value, m.label) for m in MANUAL_METHODS],
        initial=PaymentMethod.TRANSFER,
    )
    amount = money_field(
        _("Amount received (€)"),
        max_digits=12,
        min_value=Decimal("0.01"),
        help_text=_("Less than the amount due is a partial payment; the rest stays due."),
    )
    received_on = forms.DateField(label=_("Received on"), widget=DATE_WIDGET)
    reference = forms.CharField(
        label=_("Reference (optional)"),
        required=False,
        max_length=140,
        help_text=_("Cheque number, bank statement line, receipt number…"),
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_received_on(self) -> date:
        received_on = self.cleaned_data["received_on"]
        if received_on > self.today:
            raise forms.ValidationError(_("A payment cannot be received after today."))
        if received_on.year < FIRST_YEAR:
            raise forms.ValidationError(_("Give a date from 2000 on."))
        return received_on


class ReversalForm(WebForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("A bounced cheque, a transfer sent back, a refund…"),
    )
    amount = money_field(
        _("Amount to reverse (€)"),
        required=False,
        max_digits=12,
        min_value=Decimal("0.01"),
        help_text=_("Empty: all that is left of the payment."),
    )
    on = forms.DateField(label=_("Date"), widget=DATE_WIDGET)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the payment is reversed."))
        return reason


# --- Accounting exports ----------------------------------------------------------------------------------


class FecForm(WebForm):
    year = forms.IntegerField(
        label=_("Fiscal year"),
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        help_text=_("A calendar fiscal year, 1 January to 31 December."),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        choices=[(e, e.upper()) for e in ENCODINGS],
        initial=ENCODINGS[0],
        required=False,
    )

    def clean_encoding(self) -> str:
        return self.cleaned_data.get("encoding") or ENCODINGS[0]


class PeriodForm(WebForm):
    start = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    end = forms.DateField(label=_("Until"), widget=DATE_WIDGET)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end is before the start."))
        return data


class JournalForm(PeriodForm):
    SEMICOLON, COMMA, TAB = "semicolon", "comma", "tab"
    DELIMITERS = {SEMICOLON: ";", COMMA: ",", TAB: "\t"}

    delimiter = forms.ChoiceField(
        label=_("Field separator"),
        choices=[(SEMICOLON, _("Semicolon (French spreadsheets)")), (COMMA, _("Comma")), (TAB, _("Tab"))],
        initial=SEMICOLON,
        required=False,
    )

    def clean_delimiter(self) -> str:
        return self.DELIMITERS[self.cleaned_data.get("delimiter") or self.SEMICOLON]


QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
YEAR = re.compile(r"^(\d{4})$")


class VatForm(WebForm):
    SHOW, DOWNLOAD = "show", "download"

    period = forms.CharField(
        label=_("Period"),
        max_length=7,
        help_text=_("A month (2026-12), a quarter (2026-Q4) or a year (2026)."),
    )

    def clean_period(self) -> tuple[date, date]:
        text = self.cleaned_data["period"].strip()
        error = forms.ValidationError(
            _("Give a month (2026-12), a quarter (2026-Q4) or a year (2026)."), code="invalid_period"
        )
        if match := QUARTER.match(text):
            year, last_month = int(match.group(1)), int(match.group(2)) * 3
            start = date(year, last_month - 2, 1)
            end = date(year, last_month, calendar.monthrange(year, last_month)[1])
        elif match := YEAR.match(text):
            start, end = date(int(match.group(1)), 1, 1), date(int(match.group(1)), 12, 31)
        elif (month := parse_month(text)) is not None:
            start, end = month, month.replace(day=calendar.monthrange(month.year, month.month)[1])
        else:
            raise error
        if not FIRST_YEAR <= start.year <= LAST_YEAR:
            raise error
        return start, end


# --- SEPA mandate ----------------------------------------------------------------------------------------


class MandateForm(WebForm):
    debtor_name = forms.CharField(
        label=_("Account holder"), max_length=70, help_text=_("As the bank knows the account.")
    )
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=42,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
        help_text=_("e.g. FR76 3000 6000 0112 3456 7890 189"),
    )
    bic = forms.CharField(
        label=_("BIC (optional)"),
        max_length=11,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Found from the IBAN when left empty."),
    )
    authorise = forms.BooleanField(
        label=_("I authorise the direct debits described in the mandate above."),
        error_messages={"required": _("Tick the box to sign the mandate.")},
    )

    def clean_iban(self) -> str:
        # Checked here too, so that a wrong IBAN shows along with the form's other errors.
        iban = self.cleaned_data["iban"]
        try:
            checked_iban(iban)
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None
        return iban
