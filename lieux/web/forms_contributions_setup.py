"""Forms of the managers' set-up pages of contributions: a contributive budget and its rules, an allocation
round and the projects proposed in it, the credit offered for payouts, and activities. They check what a
form can see on its own (a period in order, the pro-rata rule's hours window) so the person reads the
error next to the field; the services decide the rest."""

from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lieux.contributions.models import (
    AllocationRound,
    AllocationRule,
    Budget,
    CreditConversion,
    Overrun,
    Project,
    RoundProject,
    Validators,
)
from lieux.contributions.rules.declarations import MAX_ACTIVITY
from lieux.contributions.services.budgets import MAX_VALIDATIONS
from lieux.contributions.services.setup import MAX_RATE, MAX_VALIDITY_MONTHS
from lieux.core.time import NonExistentLocalTime, localize
from lieux.memberships.models import CreditType
from lieux.venues.models import Venue
from lieux.web.forms import DATE_WIDGET, WebForm
from lieux.web.forms_contributions import TEXTAREA, money_field

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def _set_choices(form: forms.Form, name: str, queryset: QuerySet | None) -> None:
    """What a choice field offers; nothing when the view gives nothing."""
    field = cast(forms.ModelChoiceField, form.fields[name])
    field.queryset = queryset if queryset is not None else cast(QuerySet, field.queryset).none()


class ProjectChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:  # type: ignore[override]
        where = obj.venue.name if obj.venue is not None else _("whole network")
        return f"{obj.title} ({where})"


# --- Budgets --------------------------------------------------------------------------------------------


class BudgetForm(WebForm):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("e.g. Fabrique de Territoire 2026"))
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=50,
        help_text=_("Letters, digits and hyphens, unique in the network, e.g. fabrique-2026."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=10_000, widget=forms.Textarea(attrs=TEXTAREA)
    )
    venue = forms.ModelChoiceField(
        label=_("Venue"),
        queryset=Venue.objects.none(),
        required=False,
        empty_label=_("The whole network"),
    )
    project = ProjectChoice(
        label=_("Project"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=_("None: open to every project"),
        help_text=_("A budget for one project takes only that project's requests."),
    )
    starts_on = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    ends_on = forms.DateField(label=_("Until"), widget=DATE_WIDGET)
    validators = forms.ChoiceField(
        label=_("Who validates"), choices=Validators.choices, initial=Validators.STEWARDS
    )
    validations_required = forms.IntegerField(
        label=_("Validations required"),
        min_value=1,
        max_value=MAX_VALIDATIONS,
        initial=1,
        help_text=_("How many different people must validate a request."),
    )
    overrun = forms.ChoiceField(
        label=_("When validated requests would pass the envelope"),
        choices=Overrun.choices,
        initial=Overrun.DEFICIT,
        widget=forms.RadioSelect,
    )
    hourly_value = money_field(
        _("Hourly value for reports (€)"),
        initial=Decimal("20.00"),
        max_digits=8,
        help_text=_("What an hour is worth in the reports to funders; it changes no payout."),
    )
    is_public = forms.BooleanField(
        label=_("Public transparency page"),
        required=False,
        initial=True,
        help_text=_("Its figures and burn-down, readable by anyone; contributors named only if they agreed."),
    )

    def __init__(
        self,
        *args,
        venues: QuerySet[Venue] | None = None,
        projects: QuerySet[Project] | None = None,
        editing: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The short name is in links; where the money comes from and which requests it takes do not
            # move once people have asked from it.
            for name in ("slug", "venue", "project"):
                del self.fields[name]
        else:
            _set_choices(self, "venue", venues)
            _set_choices(self, "project", projects)

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The budget must end after it starts."))
        return data

    @staticmethod
    def initial_for(budget: Budget) -> dict[str, Any]:
        return {
            "name": budget.name,
            "description": budget.description,
            "starts_on": budget.starts_on,
            "ends_on": budget.ends_on,
            "validators": budget.validators,
            "validations_required": budget.validations_required,
            "overrun": budget.overrun,
            "hourly_value": budget.hourly_value,
            "is_public": budget.is_public,
        }


# --- Rounds ---------------------------------------------------------------------------------------------


def round_tz(venue: Venue | None) -> ZoneInfo:
    """A round's wall clock: its venue's, or the installation's for a network round."""
    return venue.tz if venue is not None else ZoneInfo(timezone.get_default_timezone_name())


class RoundForm(WebForm):
    """Opening and closing are typed as wall times of the round's venue (or of the installation for a network
    round): `clean` turns them into aware instants in that zone."""

    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("e.g. Budget collectif de printemps"))
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=50,
        help_text=_("Letters, digits and hyphens, unique in the network, e.g. printemps-2026."),
    )
    venue = forms.ModelChoiceField(
        label=_("Venue"),
        queryset=Venue.objects.none(),
        required=False,
        empty_label=_("The whole network"),
        help_text=_("Its people take part; for the whole network, the people of every venue."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=10_000, widget=forms.Textarea(attrs=TEXTAREA)
    )
    pot = money_field(_("Pot (€)"))
    funder = forms.CharField(
        label=_("Where the pot comes from"), max_length=160, help_text=_("e.g. Fondation de France")
    )
    rule = forms.ChoiceField(
        label=_("Rule"),
        choices=AllocationRule.choices,
        initial=AllocationRule.PARTICIPATORY,
        widget=forms.RadioSelect,
    )
    opens_at = forms.DateTimeField(
        label=_("Opens at"), widget=DATETIME_WIDGET, input_formats=[DATETIME_FORMAT]
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"), widget=DATETIME_WIDGET, input_formats=[DATETIME_FORMAT]
    )
    hours_from = forms.DateField(
        label=_("Hours validated from"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Pro-rata rule only: the contributions done in this period count."),
    )
    hours_until = forms.DateField(label=_("Hours validated until"), required=False, widget=DATE_WIDGET)

    def __init__(
        self, *args, venues: QuerySet[Venue] | None = None, round: AllocationRound | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.round = round
        if round is not None:
            # The short name is in links, the venue says whose people take part: neither moves.
            del self.fields["slug"]
            del self.fields["venue"]
        else:
            _set_choices(self, "venue", venues)

    def _tz(self, data: dict[str, Any]) -> ZoneInfo:
        return round_tz(self.round.venue if self.round is not None else data.get("venue"))

    def _instant(self, data: dict[str, Any], field: str, tz: ZoneInfo) -> datetime | None:
        value = data.get(field)
        if value is None:
            return None
        # The field made the wall time aware in the current zone; keep the wall time, read it in the round's.
        wall = timezone.make_naive(value) if timezone.is_aware(value) else value
        try:
            return localize(wall, tz)
        except NonExistentLocalTime:
            self.add_error(field, _("This time does not exist that day: the clocks go forward."))
            return None

    def clean(self):
        data = super().clean()
        tz = self._tz(data)
        opens_at = data["opens_at"] = self._instant(data, "opens_at", tz)
        closes_at = data["closes_at"] = self._instant(data, "closes_at", tz)
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The round must close after it opens."))
        if data.get("rule") == AllocationRule.PRO_RATA_HOURS:
            hours_from, hours_until = data.get("hours_from"), data.get("hours_until")
            for name in ("hours_from", "hours_until"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("The pro-rata rule needs the period whose validated hours count."))
            if hours_from and hours_until and hours_until < hours_from:
                self.add_error("hours_until", _("The period must end after it starts."))
        return data

    @staticmethod
    def initial_for(round_: AllocationRound) -> dict[str, Any]:
        tz = round_tz(round_.venue)
        return {
            "name": round_.name,
            "description": round_.description,
            "pot": round_.pot,
            "funder": round_.funder,
            "rule": round_.rule,
            # Naive wall times of the round's zone: the widget shows them as they are.
            "opens_at": round_.opens_at.astimezone(tz).replace(tzinfo=None),
            "closes_at": round_.closes_at.astimezone(tz).replace(tzinfo=None),
            "hours_from": round_.hours_from,
            "hours_until": round_.hours_until,
        }


class ProposalForm(WebForm):
    project = ProjectChoice(label=_("Project"), queryset=Project.objects.none())
    minimum = money_field(
        _("Minimum (€)"), help_text=_("Under it, the project cannot go ahead: it receives nothing.")
    )
    maximum = money_field(
        _("Maximum (€)"), minimum=Decimal("0.01"), help_text=_("The most the project can use.")
    )

    def __init__(self, *args, projects: QuerySet[Project] | None = None, changing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if changing:
            del self.fields["project"]
        else:
            _set_choices(self, "project", projects)

    def clean(self):
        data = super().clean()
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and high < low:
            self.add_error("maximum", _("The maximum may not be under the minimum."))
        return data

    @staticmethod
    def prefix_for(proposal: RoundProject) -> str:
        return f"p{proposal.pk}"


# --- Credit offered for payouts -------------------------------------------------------------------------


class CreditTypeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: CreditType) -> str:  # type: ignore[override]
        return f"{obj.name} — {obj.venue.name}"


class CreditOfferForm(WebForm):
    credit_type = CreditTypeChoice(label=_("Credit"), queryset=CreditType.objects.none())
    euros_per_credit = forms.DecimalField(
        label=_("Euros per credit"),
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_RATE,
        help_text=_("e.g. 15 for « 1 coworking day = 15 € »."),
    )
    validity_months = forms.IntegerField(
        label=_("Valid for (months)"),
        min_value=1,
        max_value=MAX_VALIDITY_MONTHS,
        initial=12,
        help_text=_("How long the credits granted stay usable."),
    )
    is_active = forms.BooleanField(
        label=_("Offered"),
        required=False,
        help_text=_(
            "Unticked: contributors can no longer choose it; payouts already made keep their credits."
        ),
    )

    def __init__(
        self,
        *args,
        credit_types: QuerySet[CreditType] | None = None,
        conversion: CreditConversion | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if conversion is not None:
            del self.fields["credit_type"]
        else:
            del self.fields["is_active"]
            _set_choices(self, "credit_type", credit_types)

    @staticmethod
    def initial_for(conversion: CreditConversion) -> dict[str, Any]:
        return {
            "euros_per_credit": conversion.euros_per_credit,
            "validity_months": conversion.validity_months,
            "is_active": conversion.is_active,
        }


# --- Activities -----------------------------------------------------------------------------------------


class ActivityForm(WebForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=MAX_ACTIVITY,
        help_text=_("e.g. Communication; no comma, semicolon or vertical bar."),
    )
