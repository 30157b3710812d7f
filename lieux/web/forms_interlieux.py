"""Forms of the Pass Interlieux and of the clearing: the key a network votes, and the network access of a
plan. They check the shape of what was typed and hand it to the same services as the command line; a
refused call comes back next to the field it names."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from lieux.interlieux.clearing.models import ClearingKey, ClearingMethod
from lieux.interlieux.models import NetworkAccess
from lieux.venues.models import Venue
from lieux.web.forms import DATE_WIDGET, WebForm, time_widget

NOT_NEGATIVE = {"min_value": _("This cannot be negative.")}

WEEKDAY_CHOICES = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


class ClearingKeyForm(WebForm):
    method = forms.ChoiceField(
        label=_("Valuation method"), choices=ClearingMethod.choices, widget=forms.RadioSelect
    )
    unit_price = forms.DecimalField(
        label=_("Unit price, excl. VAT (€)"),
        required=False,
        max_digits=10,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages={"min_value": _("A price cannot be negative.")},
        help_text=_("Per visit or per half-day, depending on the method."),
    )
    free_allowance = forms.IntegerField(
        label=_("Free reciprocity allowance"),
        required=False,
        min_value=0,
        max_value=10_000,
        error_messages=NOT_NEGATIVE,
        help_text=_("Visits (or half-days) per pair of venues and month that nobody pays for."),
    )
    cap_per_pair = forms.DecimalField(
        label=_("Cap per pair of venues and month, excl. VAT (€)"),
        required=False,
        max_digits=10,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages=NOT_NEGATIVE,
        help_text=_("Empty: no cap."),
    )
    revenue_share_percent = forms.DecimalField(
        label=_("Share of the pass revenue (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        error_messages=NOT_NEGATIVE,
        help_text=_("For the revenue-share method only."),
    )
    voted_on = forms.DateField(label=_("Voted on"), widget=DATE_WIDGET)
    note = forms.CharField(
        label=_("Decision"),
        required=False,
        max_length=300,
        help_text=_("Where it was decided, e.g. “AG du 15 octobre 2026”."),
    )

    @staticmethod
    def initial_from(key: ClearingKey | None) -> dict[str, Any]:
        """The latest key's values, so a new vote starts from what is in force."""
        if key is None:
            return {"method": ClearingMethod.PER_VISIT, "free_allowance": 0}
        return {
            "method": key.method,
            "unit_price": key.unit_price or None,
            "free_allowance": key.free_allowance,
            "cap_per_pair": key.cap_per_pair,
            "revenue_share_percent": key.revenue_share_percent or None,
        }

    def values(self) -> dict[str, Any]:
        """The arguments of `vote_key`, empty fields made explicit."""
        data = self.cleaned_data
        return {
            "method": data["method"],
            "unit_price": data.get("unit_price") or Decimal(0),
            "free_allowance": data.get("free_allowance") or 0,
            "cap_per_pair": data.get("cap_per_pair"),
            "revenue_share_percent": data.get("revenue_share_percent") or Decimal(0),
            "voted_on": data["voted_on"],
            "note": data.get("note", ""),
        }


class NetworkAccessForm(WebForm):
    host_venues = forms.ModelMultipleChoiceField(
        label=_("Venues where the pass is valid"),
        queryset=Venue.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one venue where the pass is valid.")},
    )
    weekdays = forms.MultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one day of the week.")},
    )
    starts_at = forms.TimeField(label=_("Pass hours start"), required=False, widget=time_widget(15))
    ends_at = forms.TimeField(
        label=_("Pass hours end"),
        required=False,
        widget=time_widget(15),
        help_text=_("Leave both times empty to follow each venue's opening hours."),
    )
    days_per_month = forms.IntegerField(
        label=_("Days per month at each venue"),
        required=False,
        min_value=1,
        max_value=31,
        help_text=_("Empty: unlimited."),
    )
    booking_discount_percent = forms.DecimalField(
        label=_("Booking discount at partner venues (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        initial=Decimal(0),
        error_messages=NOT_NEGATIVE,
    )
    partner_bookings_use_credits = forms.BooleanField(
        label=_("Bookings at partner venues may be paid with the plan's credits"), required=False
    )

    def __init__(self, *args: Any, hosts: QuerySet[Venue], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["host_venues"]).queryset = hosts

    @staticmethod
    def initial_from(access: NetworkAccess | None) -> dict[str, Any]:
        if access is None:
            return {"weekdays": ["0", "1", "2", "3", "4"], "booking_discount_percent": Decimal(0)}
        return {
            "host_venues": list(access.host_venues.values_list("pk", flat=True)),
            "weekdays": sorted(str(day) for day in access.weekday_numbers),
            "starts_at": access.starts_at,
            "ends_at": access.ends_at,
            "days_per_month": access.days_per_month,
            "booking_discount_percent": access.booking_discount_percent,
            "partner_bookings_use_credits": access.partner_bookings_use_credits,
        }

    def values(self) -> dict[str, Any]:
        """The arguments of `set_network_access`."""
        data = self.cleaned_data
        return {
            "host_venues": list(data["host_venues"]),
            "weekdays": data["weekdays"],
            "starts_at": data.get("starts_at"),
            "ends_at": data.get("ends_at"),
            "days_per_month": data.get("days_per_month"),
            "booking_discount_percent": data["booking_discount_percent"],
            "partner_bookings_use_credits": data.get("partner_bookings_use_credits", False),
        }
