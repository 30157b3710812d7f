from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lieux.core.time import now


class AllocationRule(models.TextChoices):
    # Cobudget's way: every participant spreads an equal share of the pot over the proposed projects.
    PARTICIPATORY = "participatory", _("Members share the pot out between projects")
    PRO_RATA_HOURS = "pro_rata_hours", _("In proportion to the hours validated on each project")


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("In preparation")
    OPEN = "open", _("Open")
    CLOSED = "closed", pgettext_lazy("allocation round", "Closed")


class AllocationRound(models.Model):
    """A « Budget collectif » round: a pot shared between proposed projects, either by the members
    (each receives an equal share to distribute) or pro rata to validated hours. Closing it gives each
    funded project its envelope: a contributive budget funded by the round."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="allocation_rounds")
    venue = models.ForeignKey(
        "venues.Venue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slug = models.SlugField()
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    pot = models.DecimalField(
        _("pot (€)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    funder = models.CharField(_("where the pot comes from"), max_length=160)
    rule = models.CharField(
        _("rule"), max_length=14, choices=AllocationRule.choices, default=AllocationRule.PARTICIPATORY
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    # For the pro-rata rule: the hours validated in this window count.
    hours_from = models.DateField(null=True, blank=True)
    hours_until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("allocation round")
        verbose_name_plural = _("allocation rounds")
        ordering = ["-opens_at"]
        constraints = [
            models.UniqueConstraint(fields=["network", "slug"], name="round_slug_unique"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="round_dates_in_order"
            ),
            models.CheckConstraint(condition=models.Q(pot__gte=0), name="round_pot_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class RoundProject(models.Model):
    """A project proposed in a round, with the least it needs to go ahead and the most it can use."""

    round = models.ForeignKey(AllocationRound, on_delete=models.CASCADE, related_name="projects")
    project = models.ForeignKey("contributions.Project", on_delete=models.PROTECT, related_name="+")
    minimum = models.DecimalField(
        _("minimum (€)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    maximum = models.DecimalField(
        _("maximum (€)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    funded_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    budget = models.ForeignKey(
        "contributions.Budget", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "project"], name="project_once_per_round"),
            models.CheckConstraint(
                condition=models.Q(maximum__gte=models.F("minimum")), name="round_project_min_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}: {self.project_id}"


class RoundParticipant(models.Model):
    """A member taking part, with the share of the pot they distribute (equal shares, fixed at opening)."""

    round = models.ForeignKey(AllocationRound, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    share = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "person"], name="participant_once_per_round")]

    def __str__(self) -> str:
        return f"{self.round_id}: {self.person_id}"


class Allocation(models.Model):
    """How much of their share a participant puts on a project; they may change it until the round
    closes."""

    participant = models.ForeignKey(RoundParticipant, on_delete=models.CASCADE, related_name="allocations")
    round_project = models.ForeignKey(RoundProject, on_delete=models.CASCADE, related_name="allocations")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "round_project"], name="one_allocation_per_project"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="allocation_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} → {self.round_project_id}: {self.amount}"
