"""Forms of the money screens: plans and their price steps, subscriptions, the billing run, invoices, credit
notes and payments. They turn what a person typed into a service's arguments and put a refused call back
on the form; the rules themselves stay in the services."""

import re
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from lieux.accounts.models import Organisation
from lieux.billing.models import DocumentKind, InvoiceStatus
from lieux.core.errors import DomainError
from lieux.memberships.models import (
    CreditType,
    DeskMode,
    Interval,
    Plan,
    PlanKind,
    Proration,
    Rollover,
    SubscriptionStatus,
)
from lieux.web.forms import DATE_WIDGET, WebForm

# The VAT rates a venue's plans use in practice; the services accept every French rate.
VAT_CHOICES = [
    ("20", _("20 % (standard rate)")),
    ("10", _("10 %")),
    ("5.5", _("5.5 %")),
    ("2.1", _("2.1 %")),
    ("0", _("0 % (no VAT: franchise, exempt or not liable)")),
]
MONEY = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal(0)}


def add_service_error(form: forms.Form, error: DomainError) -> None:
    """A refused service call on the form: next to the field it names when the form has that field,
    above the form otherwise."""
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, str(error.message))


def money_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(label=label, **{**MONEY, **kwargs})


# --- Plans -----------------------------------------------------------------------------------------------


class PlanForm(WebForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=50,
        help_text=_("Letters, digits and hyphens, unique at the venue, e.g. coworking-mois."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    interval = forms.ChoiceField(
        label=_("Billing interval"),
        choices=Interval.choices,
        help_text=_("Memberships and subscriptions renew monthly or yearly; passes and packs are sold once."),
    )
    vat_rate = forms.TypedChoiceField(label=_("VAT rate"), choices=VAT_CHOICES, coerce=Decimal)
    proration = forms.ChoiceField(
        label=_("Proration"),
        choices=Proration.choices,
        help_text=_(
            "What a period started or left in its middle costs; shown to members before they confirm."
        ),
    )
    trial_days = forms.IntegerField(label=_("Trial (days)"), min_value=0, max_value=366, initial=0)
    commitment_months = forms.IntegerField(
        label=_("Commitment (months)"), min_value=0, max_value=120, initial=0
    )
    notice_days = forms.IntegerField(label=_("Notice period (days)"), min_value=0, max_value=366, initial=0)
    desk_mode = forms.ChoiceField(label=_("Desk"), choices=DeskMode.choices)
    pack_days = forms.IntegerField(
        label=_("Days in the pack"), min_value=1, max_value=3660, required=False, help_text=_("Packs only.")
    )
    validity_days = forms.IntegerField(
        label=_("Validity (days)"),
        min_value=1,
        max_value=3660,
        required=False,
        help_text=_("Day passes and packs only."),
    )
    members_only = forms.BooleanField(
        label=_("For members of the venue only"),
        required=False,
        help_text=_("A non-profit venue exempt for its members invoices these without VAT."),
    )
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    FIELDS = (
        "name",
        "description",
        "kind",
        "interval",
        "vat_rate",
        "trial_days",
        "commitment_months",
        "notice_days",
        "proration",
        "desk_mode",
        "pack_days",
        "validity_days",
        "members_only",
        "is_active",
    )

    @classmethod
    def initial_for(cls, plan) -> dict[str, Any]:
        initial = {name: getattr(plan, name) for name in cls.FIELDS}
        initial["slug"] = plan.slug
        initial["vat_rate"] = format(plan.vat_rate.normalize(), "f")
        return initial

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class PriceStepForm(WebForm):
    starts_on = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    net_amount = money_field(_("Price excl. VAT (€)"))
    label = forms.CharField(label=_("Label"), max_length=80, required=False)


class CreditGrantForm(WebForm):
    credit_type: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Credits"), queryset=CreditType.objects.none()
    )
    quantity = forms.DecimalField(
        label=_("Per period"), max_digits=8, decimal_places=2, min_value=Decimal("0.01")
    )
    # Initial values equal to what a blank row posts, so that an untouched extra row counts as empty.
    rollover = forms.ChoiceField(label=_("Unused credits"), choices=Rollover.choices, initial=Rollover.RESET)
    carry_months = forms.IntegerField(
        label=_("Carried credits expire after (months)"),
        min_value=0,
        max_value=120,
        initial=0,
        required=False,
    )

    def __init__(self, *args, credit_types: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["credit_type"]).queryset = credit_types


PriceStepFormSet = forms.formset_factory(PriceStepForm, extra=2, can_delete=True, max_num=50, absolute_max=50)
CreditGrantFormSet = forms.formset_factory(
    CreditGrantForm, extra=1, can_delete=True, max_num=20, absolute_max=20
)


def filled_forms(formset: forms.BaseFormSet) -> list[forms.Form]:
    """The rows that say something and are not marked for deletion (blank extra rows are not steps)."""
    return [
        f
        for f in formset.forms
        if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE", False)
    ]


# --- Subscriptions ---------------------------------------------------------------------------------------


class SubscribeForm(WebForm):
    starts_on = forms.DateField(
        label=_("Start on"), widget=DATE_WIDGET, required=False, help_text=_("Empty: today.")
    )
    payer_organisation: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Paid by"), queryset=Organisation.objects.none(), required=False, empty_label=_("Myself")
    )

    def __init__(self, *args, organisations: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not organisations.exists():
            del self.fields["payer_organisation"]
        else:
            cast(forms.ModelChoiceField, self.fields["payer_organisation"]).queryset = organisations


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class PlanChangeForm(WebForm):
    NOW, PERIOD_END = "now", "period_end"

    plan = PlanChoiceField(
        label=_("New plan"), queryset=Plan.objects.none(), empty_label=None, widget=forms.RadioSelect
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=[(NOW, _("Now")), (PERIOD_END, _("At the end of the current period"))],
        initial=NOW,
        widget=forms.RadioSelect,
    )
    # The amounts the member saw: the change goes through only if they still hold.
    seen_credit = forms.DecimalField(
        required=False, widget=forms.HiddenInput, max_digits=12, decimal_places=2
    )
    seen_charge = forms.DecimalField(
        required=False, widget=forms.HiddenInput, max_digits=12, decimal_places=2
    )

    def __init__(self, *args, plans: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["plan"]).queryset = plans


class ReasonForm(WebForm):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class SubscriptionActionForm(ReasonForm):
    PAUSE, RESUME, CANCEL, UNDO_CANCEL, END_NOW = "pause", "resume", "cancel", "undo_cancel", "end_now"

    action = forms.ChoiceField(
        choices=[
            (PAUSE, _("Pause")),
            (RESUME, _("Resume")),
            (CANCEL, _("End at the end of a period")),
            (UNDO_CANCEL, _("Take the notice back")),
            (END_NOW, _("End today")),
        ],
        widget=forms.HiddenInput,
    )


class SubscriptionFilterForm(WebForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Every status")), *SubscriptionStatus.choices]
    )


# --- Billing run -----------------------------------------------------------------------------------------

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class BillingRunForm(WebForm):
    PREVIEW, RUN = "preview", "run"

    period = forms.CharField(
        label=_("Month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12", "pattern": r"\d{4}-\d{2}"}),
        help_text=_("Invoices the periods that start in this month, up to today."),
    )
    action = forms.ChoiceField(
        choices=[(PREVIEW, _("Preview")), (RUN, _("Issue the invoices"))], initial=PREVIEW, required=False
    )

    def clean_period(self) -> date:
        match = MONTH.match(self.cleaned_data["period"].strip())
        if match is None:
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-12."))
        year = int(match.group(1))
        if not 2000 <= year <= 2999:
            raise forms.ValidationError(_("Give a month between 2000 and 2999."))
        return date(year, int(match.group(2)), 1)

    def clean_action(self) -> str:
        return self.cleaned_data.get("action") or self.PREVIEW


# --- Invoices --------------------------------------------------------------------------------------------


class InvoiceFilterForm(WebForm):
    q = forms.CharField(label=_("Number or buyer"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Drafts and issued")), *InvoiceStatus.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Invoices and credit notes")), *DocumentKind.choices]
    )
    issued_from = forms.DateField(label=_("Issued from"), required=False, widget=DATE_WIDGET)
    issued_to = forms.DateField(label=_("Issued until"), required=False, widget=DATE_WIDGET)

    def clean(self):
        data = super().clean()
        start, end = data.get("issued_from"), data.get("issued_to")
        if start and end and end < start:
            self.add_error("issued_to", _("The end is before the start."))
        return data


class CreditNoteForm(WebForm):
    FULL, PARTIAL = "full", "partial"

    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Printed on the credit note and read by the buyer."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    scope = forms.ChoiceField(
        label=_("Amount"),
        choices=[(FULL, _("The whole invoice")), (PARTIAL, _("Part of it"))],
        initial=FULL,
        widget=forms.RadioSelect,
    )
    net_amount = money_field(
        _("Amount to credit, excl. VAT (€)"),
        required=False,
        max_digits=12,
        min_value=Decimal("0.01"),
        help_text=_("For a partial credit note; VAT is added at the invoice's rate."),
    )

    def __init__(self, *args, partial_allowed: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.partial_allowed = partial_allowed
        if not partial_allowed:
            del self.fields["net_amount"]
            cast(forms.ChoiceField, self.fields["scope"]).choices = [(self.FULL, _("The whole invoice"))]

    def clean(self):
        data = super().clean()
        if not data.get("reason", "").strip():
            self.add_error("reason", _("Say why the invoice is credited."))
        if data.get("scope") == self.PARTIAL and not data.get("net_amount"):
            self.add_error("net_amount", _("Give the amount to credit."))
        return data
