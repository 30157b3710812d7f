from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class ContributionKind(models.TextChoices):
    TIME = "time", _("Time given")
    SKILL = "skill", _("Skill")
    KNOWLEDGE = "knowledge", _("Knowledge shared")
    LENDING = "lending", _("Tool or material lent")
    MUTUAL_AID = "mutual_aid", _("Mutual aid")


class ContributionStatus(models.TextChoices):
    # Declared by a steward for someone else: counts for nothing until that person confirms it.
    AWAITING_CONFIRMATION = "awaiting", _("Awaiting the contributor's confirmation")
    SUBMITTED = "submitted", _("Submitted for review")
    VALIDATED = "validated", _("Validated")
    REFUSED = "refused", _("Refused")
    PAID = "paid", _("Paid")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Contribution(models.Model):
    """Something a person did for a project, declared after the fact, with what they ask in return.

    `amount_asked` is the contributor's own valuation; `amount_granted` is what the collective validated
    (equal to it, or reduced when a budget in deficit is closed pro rata)."""

    project = models.ForeignKey(
        "contributions.Project", on_delete=models.PROTECT, related_name="contributions"
    )
    budget = models.ForeignKey(
        "contributions.Budget",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contributions",
        help_text=_("Where a payout is asked; empty for a contribution that asks nothing"),
    )
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions"
    )
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_on = models.DateField(_("done on"))
    hours = models.DecimalField(
        _("hours"), max_digits=6, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ContributionKind.choices, default=ContributionKind.TIME
    )
    activities = models.ManyToManyField("contributions.Activity", related_name="contributions")
    description = models.TextField(_("description"))
    evidence_url = models.URLField(_("link"), blank=True)
    evidence_file = models.FileField(_("file"), upload_to="contributions/%Y/", blank=True)
    amount_asked = models.DecimalField(
        _("amount asked (€)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    amount_granted = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=ContributionStatus.choices)
    validated_at = models.DateTimeField(null=True, blank=True)
    payout = models.ForeignKey(
        "contributions.Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="contributions"
    )
    # The bulk import (or API call) that created it: replaying the same import creates nothing twice.
    source_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-performed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__isnull=True) | models.Q(hours__gt=0),
                name="contribution_hours_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_asked__isnull=True) | models.Q(amount_asked__gte=0),
                name="contribution_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_granted__isnull=True) | models.Q(amount_granted__gte=0),
                name="contribution_granted_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["budget", "status"], name="contribution_budget_status"),
            models.Index(fields=["project", "performed_on"], name="contribution_project_day"),
            models.Index(fields=["contributor", "performed_on"], name="contribution_person_day"),
        ]

    def __str__(self) -> str:
        return f"{self.contributor_id} {self.performed_on}: {self.description[:40]}"


class Verdict(models.TextChoices):
    COMMENT = "comment", _("Comment")
    QUESTION = "question", _("Question")
    VALIDATE = "validate", _("Validate")
    REFUSE = "refuse", _("Refuse")


class Review(models.Model):
    """One peer's word on a contribution. Validations count once per reviewer (a unique constraint)."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "reviewer"],
                condition=models.Q(verdict="validate"),
                name="one_validation_per_reviewer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.verdict} {self.reviewer_id} on {self.contribution_id}"


class Visibility(models.TextChoices):
    HIDDEN = "hidden", _("Not shown on public pages")
    PSEUDONYM = "pseudonym", _("Shown under a pseudonym")
    NAME = "name", _("Shown with my name")


class ContributorProfile(models.Model):
    """How a person agrees to appear on the public transparency pages. No row: not shown."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contributor_profile"
    )
    visibility = models.CharField(
        _("on public pages"), max_length=10, choices=Visibility.choices, default=Visibility.HIDDEN
    )
    pseudonym = models.CharField(_("pseudonym"), max_length=60, blank=True)
    # Where euros are paid when the person bills through a structure (their CAE, association, company).
    structure_name = models.CharField(_("paid through the structure"), max_length=160, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("contributor profile")
        verbose_name_plural = _("contributor profiles")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(visibility="pseudonym") | ~models.Q(pseudonym=""), name="pseudonym_given"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.visibility}"
