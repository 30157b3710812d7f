from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Done")
    ARCHIVED = "archived", _("Archived")


class Project(models.Model):
    """A chantier: work a venue, or the whole network, takes on together, looked after by its stewards
    (soucieux). Network-wide when `venue` is empty (a cross-venue row, ARCHITECTURE.md §4.7)."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="projects")
    venue = models.ForeignKey(
        "venues.Venue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("venue"),
        help_text=_("Empty: a project of the whole network"),
    )
    slug = models.SlugField()
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    stewards = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="stewarded_projects", blank=True, verbose_name=_("stewards")
    )
    is_public = models.BooleanField(
        _("public transparency page"), default=True, help_text=_("Who contributed what, for those who agreed")
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["network", "slug"], name="project_slug_unique")]

    def __str__(self) -> str:
        return self.title


class Activity(models.Model):
    """What a contribution was about ("Communication", "Animation"…). Shared by every budget of the
    network when `budget` is empty, so the network can add hours up across budgets; otherwise a budget's
    own word, which renaming never changes elsewhere."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="activities")
    budget = models.ForeignKey(
        "contributions.Budget", null=True, blank=True, on_delete=models.CASCADE, related_name="own_activities"
    )
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "name"],
                condition=models.Q(budget__isnull=True),
                name="shared_activity_unique",
            ),
            models.UniqueConstraint(
                fields=["budget", "name"],
                condition=models.Q(budget__isnull=False),
                name="budget_activity_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name
