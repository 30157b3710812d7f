"""Forms of the web UI. They turn what a person typed into the arguments of a service, and turn the
service's domain errors back into messages next to the form; the rules themselves live in the services."""

import datetime as dt
from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from lieux.accounts.models import Organisation
from lieux.booking.models import ConflictPolicy, Frequency
from lieux.booking.rules import Recurrence
from lieux.core.errors import DomainError
from lieux.core.time import NonExistentLocalTime, localize
from lieux.venues.models import BookableBy, Resource


class Renderer(DjangoTemplates):
    """Django's renderer, with each field wrapped in a block the stylesheet lays out."""

    field_template_name = "web/includes/field.html"


RENDERER = Renderer()


class WebForm(forms.Form):
    default_renderer = RENDERER
    required_css_class = "required"


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def time_widget(step_minutes: int = 5) -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": step_minutes * 60}, format="%H:%M")


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """A refused service call shown on the form: its message, and for a refused series every occurrence
    that could not be booked."""
    form.add_error(None, str(error.message))
    for refused in error.extra.get("refused", []):
        start = datetime.fromisoformat(refused["start"])
        form.add_error(None, f"{date_format(start, 'l j F Y, H:i')} — {refused['detail']}")


class SlotFields(WebForm):
    """A date and two wall times at a venue, turned into aware instants in the venue's time zone."""

    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    start = forms.TimeField(label=_("Start time"))
    end = forms.TimeField(label=_("End time"))

    def __init__(self, *args, tz: ZoneInfo, step_minutes: int = 30, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.fields["start"].widget = time_widget(step_minutes)
        self.fields["end"].widget = time_widget(step_minutes)

    # `dt.date`: inside this class body, `date` names the form field.
    def _aware(self, field: str, day: dt.date, wall: time) -> datetime | None:
        try:
            return localize(datetime.combine(day, wall), self.tz)
        except NonExistentLocalTime:
            self.add_error(
                field,
                _("%(time)s does not exist on %(day)s: the clocks go forward that night.")
                % {"time": f"{wall:%H:%M}", "day": f"{day:%d/%m/%Y}"},
            )
            return None

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start"), data.get("end")
        if day is None or start is None or end is None:
            return data
        data["starts_at"] = self._aware("start", day, start)
        # A booking that ends at midnight ends on the next day's 00:00.
        end_day = day + timedelta(days=1) if end == time(0) and start != time(0) else day
        data["ends_at"] = self._aware("end", end_day, end)
        return data


class BookingForm(SlotFields):
    title = forms.CharField(label=_("Title"), max_length=200)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    organisation = forms.ModelChoiceField(
        label=_("Paid by"), queryset=Organisation.objects.none(), required=False, empty_label=_("Myself")
    )
    frequency = forms.ChoiceField(
        label=_("Repeat"),
        required=False,
        choices=[("", _("Does not repeat")), *Frequency.choices],
    )
    interval = forms.IntegerField(
        label=_("Every"),
        min_value=1,
        max_value=52,
        required=False,
        initial=1,
        help_text=_("1 = every day, week or month; 2 = every other one…"),
    )
    count = forms.IntegerField(label=_("Number of occurrences"), min_value=1, max_value=366, required=False)
    until = forms.DateField(label=_("Until (inclusive)"), required=False, widget=DATE_WIDGET)
    policy = forms.ChoiceField(
        label=_("If some occurrences are taken"),
        choices=ConflictPolicy.choices,
        initial=ConflictPolicy.SKIP,
        required=False,
    )

    def __init__(self, *args, organisations=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if organisations is None or not organisations.exists():
            del self.fields["organisation"]
        else:
            cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = organisations

    def clean(self):
        data = super().clean()
        frequency = data.get("frequency")
        data["recurrence"] = None
        if frequency:
            if not data.get("count") and not data.get("until"):
                self.add_error("count", _("Give a number of occurrences or an end date."))
            else:
                data["recurrence"] = Recurrence(
                    frequency=frequency,
                    interval=data.get("interval") or 1,
                    count=data.get("count"),
                    until=data.get("until"),
                )
        data["policy"] = data.get("policy") or ConflictPolicy.SKIP
        return data

    @property
    def recurrence_fields(self):
        return [self[name] for name in ("frequency", "interval", "count", "until", "policy")]


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name  # all of one venue: its name would only repeat


class MoveForm(SlotFields):
    resource = ResourceChoiceField(label=_("Resource"), queryset=Resource.objects.none(), empty_label=None)

    def __init__(self, *args, resources, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["resource"])
        field.queryset = resources
        self.order_fields(["resource", "date", "start", "end"])


class CancelForm(WebForm):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(WebForm):
    APPROVE, REFUSE = "approve", "refuse"

    action = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REFUSE, _("Refuse"))])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("action") == self.REFUSE and not data.get("reason", "").strip():
            self.add_error("reason", _("Say why the request is refused: the person will read it."))
        return data


def minutes_field(label, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=60 * 24 * 366, **kwargs)


class ResourceRulesForm(WebForm):
    """The booking rules of a resource, with durations in minutes or hours rather than Django's
    "HH:MM:SS" so a venue's team can fill it in."""

    min_duration = minutes_field(_("Minimum duration (minutes)"))
    max_duration = minutes_field(_("Maximum duration (minutes)"))
    granularity_minutes = forms.IntegerField(
        label=_("Time step (minutes)"),
        min_value=5,
        max_value=24 * 60,
        help_text=_("Bookings start and end on multiples of this step."),
    )
    max_advance_days = forms.IntegerField(label=_("Bookable up to (days ahead)"), min_value=0, max_value=3650)
    cancellation_deadline = forms.IntegerField(
        label=_("Free cancellation until (hours before start)"), min_value=0, max_value=24 * 366
    )
    buffer_before = minutes_field(_("Buffer before (minutes)"), help_text=_("Time to set up the room."))
    buffer_after = minutes_field(_("Buffer after (minutes)"), help_text=_("Time to tidy up or clean."))
    approval_required = forms.BooleanField(label=_("Bookings need approval by the team"), required=False)
    bookable_by = forms.ChoiceField(label=_("Who may book"), choices=BookableBy.choices)
    is_active = forms.BooleanField(label=_("Bookable"), required=False)

    MINUTES = ("min_duration", "max_duration", "buffer_before", "buffer_after")

    @classmethod
    def initial_for(cls, resource) -> dict:
        initial = {
            name: getattr(resource, name)
            for name in (
                "granularity_minutes",
                "max_advance_days",
                "approval_required",
                "bookable_by",
                "is_active",
            )
        }
        for name in cls.MINUTES:
            initial[name] = int(getattr(resource, name).total_seconds() // 60)
        initial["cancellation_deadline"] = int(resource.cancellation_deadline.total_seconds() // 3600)
        return initial

    def changes(self) -> dict:
        """The cleaned values as the resource stores them."""
        data = dict(self.cleaned_data)
        for name in self.MINUTES:
            data[name] = timedelta(minutes=data[name])
        data["cancellation_deadline"] = timedelta(hours=data["cancellation_deadline"])
        return data

    def add_rule_errors(self, error: DomainError) -> None:
        errors = error.extra.get("errors") or {}
        placed = False
        for name, messages in errors.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)
                placed = True
        if not placed:
            self.add_error(None, str(error.message))
