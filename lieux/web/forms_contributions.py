"""Forms of the contributions pages: projects, declarations (one, for someone, in bulk), peer review,
budgets' funding, payouts and closing, allocation rounds and a contributor's consent. They turn what a
person typed into a service's arguments and put a refused call back on the form, next to the field it
names; the rules themselves stay in the services."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import FileExtensionValidator
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from lieux.accounts.models import User
from lieux.contributions.models import (
    Activity,
    Budget,
    Closing,
    ContributionKind,
    CreditConversion,
    FundingSource,
    ProjectStatus,
    RoundProject,
    SourceKind,
    Verdict,
    Visibility,
)
from lieux.contributions.rules import imports as parser
from lieux.contributions.rules.declarations import MAX_DESCRIPTION
from lieux.venues.models import Venue
from lieux.web.forms import DATE_WIDGET, WebForm

MONEY = {"max_digits": 12, "decimal_places": 2}
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
EVIDENCE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "webp", "txt", "odt", "ods", "docx", "xlsx", "csv"]
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
TEXTAREA = {"rows": 4}


def money_field(label, *, required: bool = True, minimum: Decimal | None = Decimal(0), **kwargs):
    return forms.DecimalField(label=label, required=required, min_value=minimum, **{**MONEY, **kwargs})


# --- Projects -----------------------------------------------------------------------------------------


class ProjectForm(WebForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=50,
        help_text=_("Letters, digits and hyphens, unique in the network, e.g. jardin-partage."),
    )
    venue = forms.ModelChoiceField(
        label=_("Venue"),
        queryset=Venue.objects.none(),
        required=False,
        empty_label=_("The whole network"),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=10_000, widget=forms.Textarea(attrs=TEXTAREA)
    )
    status = forms.ChoiceField(label=_("Status"), choices=ProjectStatus.choices, initial=ProjectStatus.ACTIVE)
    stewards = forms.CharField(
        label=_("Stewards"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Their e-mail addresses, separated by commas or new lines."),
    )
    is_public = forms.BooleanField(
        label=_("Public transparency page"),
        required=False,
        initial=True,
        help_text=_("Who contributed what, for those who agreed, and the hours by activity."),
    )

    def __init__(self, *args, venues: QuerySet[Venue] | None = None, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The slug names the project in links, the venue says who runs it: neither moves afterwards.
            del self.fields["slug"]
            del self.fields["venue"]
        else:
            self.fields["venue"].queryset = venues if venues is not None else Venue.objects.none()  # type: ignore[attr-defined]

    def clean_stewards(self) -> list[User]:
        text = self.cleaned_data.get("stewards", "")
        emails = [part.strip().lower() for part in text.replace(";", ",").replace("\n", ",").split(",")]
        emails = list(dict.fromkeys(e for e in emails if e))
        # Compared without case: the addresses of the accounts are stored as people typed them.
        people = User.objects.annotate(folded=Lower("email")).filter(folded__in=emails, is_active=True)
        found = {u.email.lower(): u for u in people}
        missing = [e for e in emails if e not in found]
        if missing:
            raise forms.ValidationError(
                _("No account has the e-mail address %(emails)s.") % {"emails": ", ".join(missing)}
            )
        return [found[e] for e in emails]

    @staticmethod
    def initial_for(project) -> dict[str, Any]:
        return {
            "title": project.title,
            "description": project.description,
            "status": project.status,
            "is_public": project.is_public,
            "stewards": "\n".join(project.stewards.order_by("email").values_list("email", flat=True)),
        }


# --- Declaring ----------------------------------------------------------------------------------------


class ActivityChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Activity) -> str:  # type: ignore[override]
        if obj.budget is not None:
            return f"{obj.name} ({obj.budget.name})"
        return obj.name


class DeclareForm(WebForm):
    contributor = forms.EmailField(
        label=_("Who contributed"),
        help_text=_("Their e-mail address. They confirm the contribution before it goes to review."),
    )
    performed_on = forms.DateField(label=_("Done on"), widget=DATE_WIDGET)
    hours = forms.DecimalField(
        label=_("Hours"),
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("Optional: 1.5 for an hour and a half."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ContributionKind.choices, initial=ContributionKind.TIME)
    activities = ActivityChoices(
        label=_("Activities"),
        queryset=Activity.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=_("What was done"), max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs=TEXTAREA)
    )
    evidence_url = forms.URLField(label=_("Link"), required=False, max_length=200, assume_scheme="https")
    evidence_file = forms.FileField(
        label=_("File"),
        required=False,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
        help_text=_("Optional: a photo, a document (PDF, image, text or office file, at most 5 MB)."),
    )
    budget = forms.ModelChoiceField(
        label=_("Budget"),
        queryset=Budget.objects.none(),
        required=False,
        empty_label=_("None: I ask nothing"),
    )
    amount_asked = money_field(
        _("Amount asked (€)"),
        required=False,
        help_text=_("What you ask in return, from the budget chosen above. Empty or 0: nothing."),
    )

    def __init__(
        self,
        *args,
        activities: QuerySet[Activity],
        budgets: QuerySet[Budget],
        for_someone: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activities"].queryset = activities.select_related("budget")  # type: ignore[attr-defined]
        self.fields["budget"].queryset = budgets  # type: ignore[attr-defined]
        if not for_someone:
            del self.fields["contributor"]

    def clean_evidence_file(self):
        upload = self.cleaned_data.get("evidence_file")
        if upload and upload.size > MAX_EVIDENCE_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload

    def clean_contributor(self) -> User:
        email = self.cleaned_data["contributor"].strip()
        person = User.objects.filter(email__iexact=email, is_active=True).first()
        if person is None:
            raise forms.ValidationError(_("No account has this e-mail address."))
        return person


class BulkForm(WebForm):
    """Pasted lines or a CSV file. The file's text lands in `content` on the preview, so that the person can
    correct a line where they see it and preview again."""

    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("lines", _("One contribution per line")), ("csv", _("CSV with a header row"))],
        initial="lines",
        widget=forms.RadioSelect,
    )
    content = forms.CharField(
        label=_("Lines"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
        help_text=_("e.g. 01/02/2026 2h 60€ Communication, Animation : newsletter de février"),
    )
    csv_file = forms.FileField(
        label=_("Or a CSV file"),
        required=False,
        validators=[FileExtensionValidator(["csv", "txt"])],
        help_text=_(
            "Columns: date, description, and optionally heures, montant, activités, e-mail, type, lien."
        ),
    )
    budget = forms.ModelChoiceField(
        label=_("Budget"),
        queryset=Budget.objects.none(),
        required=False,
        empty_label=_("None: they ask nothing"),
    )
    kind = forms.ChoiceField(
        label=_("Kind of the lines that do not say"),
        choices=ContributionKind.choices,
        initial=ContributionKind.TIME,
    )
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, budgets: QuerySet[Budget], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["budget"].queryset = budgets  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean()
        upload = data.get("csv_file")
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error("csv_file", _("The file is larger than 2 MB: split it."))
                return data
            data["content"] = parser.decode_upload(upload.read())
            data["format"] = "csv"
        if not (data.get("content") or "").strip() and "content" not in self.errors:
            self.add_error("content", _("Paste some lines or choose a file."))
        return data


# --- Review -------------------------------------------------------------------------------------------


class ReviewForm(WebForm):
    """The buttons of the review thread post `verdict`; the message goes with every one of them."""

    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Needed for a comment, a question or a refusal; optional with a validation."),
    )


class ReasonForm(WebForm):
    reason = forms.CharField(
        label=_("Why (optional)"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- Budgets ------------------------------------------------------------------------------------------


class FundingSourceForm(WebForm):
    name = forms.CharField(
        label=_("Name"), max_length=160, help_text=_("e.g. ANCT Fabrique de Territoire 2026")
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[c for c in SourceKind.choices if c[0] != SourceKind.CARRIED_OVER]
    )
    funder = forms.CharField(label=_("Funder"), max_length=160, required=False)
    amount = money_field(_("Amount committed (€)"), minimum=Decimal("0.01"))
    committed_on = forms.DateField(label=_("Committed on"), widget=DATE_WIDGET)


class ReceiptForm(WebForm):
    source = forms.ModelChoiceField(label=_("Funding source"), queryset=FundingSource.objects.none())
    amount = money_field(_("Amount received (€)"), minimum=Decimal("0.01"))
    received_on = forms.DateField(label=_("Received on"), widget=DATE_WIDGET)
    reference = forms.CharField(
        label=_("Bank reference"),
        max_length=120,
        required=False,
        help_text=_("With it, a receipt entered twice counts once."),
    )

    def __init__(self, *args, sources: QuerySet[FundingSource], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources  # type: ignore[attr-defined]


class EurosPayoutForm(WebForm):
    """A payment in euros of everything owed to one person, chosen on their row of the owed list: they come
    as a hidden field, checked against `people` (selectors.web.payees: those the budget owes something),
    one person at a time, without listing anyone."""

    person = forms.ModelChoiceField(
        label=_("Paid to"),
        queryset=User.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose the person to pay in the list of people owed."),
            "invalid_choice": _("This budget owes nothing to this person."),
        },
    )
    invoice_reference = forms.CharField(
        label=_("Their invoice number"),
        max_length=60,
        help_text=_("The invoice of the person, or of the structure they bill through."),
    )
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET)
    to_structure = forms.BooleanField(label=_("Paid to the structure named in their profile"), required=False)

    def __init__(self, *args, people: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        # A hidden field's error would be seen nowhere: it is said above the form.
        if "person" in self.errors:
            self.add_error(None, self.errors.pop("person").as_data())
        return super().clean()


class SettleCreditForm(WebForm):
    """The budget paying one venue for the network credit it honours: one form per venue on the budget's
    page, told apart by their prefix."""

    amount = money_field(_("Amount paid (€)"), minimum=Decimal("0.01"))
    reference = forms.CharField(label=_("The venue's invoice number"), max_length=60)
    settled_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET)

    def __init__(self, *args, venue_id: int, **kwargs) -> None:
        kwargs["prefix"] = f"settle-{venue_id}"
        super().__init__(*args, **kwargs)
        self.venue_id = venue_id


class ConversionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: CreditConversion) -> str:  # type: ignore[override]
        return f"{obj.credit_type.name} — {obj.credit_type.venue.name}"


class CreditPayoutForm(WebForm):
    conversion = ConversionChoice(
        label=_("Credit"),
        queryset=CreditConversion.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )

    def __init__(self, *args, conversions: QuerySet[CreditConversion], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["conversion"].queryset = conversions  # type: ignore[attr-defined]


class CloseForm(WebForm):
    method = forms.ChoiceField(
        label=_("How to settle the deficit"),
        choices=Closing.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    next_budget = forms.ModelChoiceField(
        label=_("Budget that takes the deficit over"), queryset=Budget.objects.none(), required=False
    )
    top_up_name = forms.CharField(label=_("Name of the top-up source"), max_length=160, required=False)
    top_up_amount = money_field(_("Top-up amount (€)"), required=False, minimum=Decimal("0.01"))
    top_up_kind = forms.ChoiceField(
        label=_("Kind of the top-up source"),
        choices=[c for c in SourceKind.choices if c[0] != SourceKind.CARRIED_OVER],
        initial=SourceKind.OTHER,
        required=False,
    )
    top_up_funder = forms.CharField(label=_("Funder of the top-up"), max_length=160, required=False)
    top_up_committed_on = forms.DateField(label=_("Top-up committed on"), required=False, widget=DATE_WIDGET)
    confirm = forms.BooleanField(
        label=_("I understand that a closed budget takes no more declarations, validations or funding."),
    )

    def __init__(self, *args, next_budgets: QuerySet[Budget], in_deficit: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_budget"].queryset = next_budgets  # type: ignore[attr-defined]
        self.in_deficit = in_deficit
        if not in_deficit:
            for name in list(self.fields):
                if name != "confirm":
                    del self.fields[name]

    def clean(self):
        data = super().clean()
        if not self.in_deficit:
            return data
        method = data.get("method")
        if not method:
            self.add_error("method", _("Choose how to settle the deficit."))
        elif method == Closing.CARRY_OVER and not data.get("next_budget"):
            self.add_error("next_budget", _("Say which budget takes the deficit over."))
        elif method == Closing.TOP_UP:
            for name in ("top_up_name", "top_up_amount", "top_up_committed_on"):
                if not data.get(name):
                    self.add_error(name, _("This field is required to top the envelope up."))
        return data


# --- Rounds ---------------------------------------------------------------------------------------------


class AllocationForm(WebForm):
    """One amount per project of the round, between 0 and the participant's share; the service checks that
    they add up to the share at most."""

    def __init__(self, *args, proposals: list[RoundProject], share: Decimal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.proposals = proposals
        for proposal in proposals:
            self.fields[self.field_name(proposal)] = forms.DecimalField(
                label=proposal.project.title,
                required=False,
                min_value=Decimal(0),
                max_value=share,
                widget=forms.NumberInput(
                    attrs={"step": "0.01", "data-allocation": "1", "inputmode": "decimal"}
                ),
                max_digits=12,
                decimal_places=2,
            )

    @staticmethod
    def field_name(proposal: RoundProject) -> str:
        return f"project_{proposal.pk}"

    def amounts(self) -> dict[int, Decimal | str]:
        return {p.pk: self.cleaned_data.get(self.field_name(p)) or Decimal(0) for p in self.proposals}


# --- A contributor's consent ----------------------------------------------------------------------------


class ConsentForm(WebForm):
    visibility = forms.ChoiceField(
        label=_("On the public transparency pages"), choices=Visibility.choices, widget=forms.RadioSelect
    )
    pseudonym = forms.CharField(
        label=_("Pseudonym"),
        max_length=60,
        required=False,
        help_text=_("Shown instead of your name if you choose so."),
    )
    structure_name = forms.CharField(
        label=_("Structure you bill through"),
        max_length=160,
        required=False,
        help_text=_(
            "Your cooperative, association or company, when euros are paid to it rather than to you."
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("visibility") == Visibility.PSEUDONYM and not (data.get("pseudonym") or "").strip():
            self.add_error("pseudonym", _("Choose the pseudonym to be shown under."))
        return data
