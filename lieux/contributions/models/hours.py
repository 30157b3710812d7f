from django.conf import settings
from django.db import models

from lieux.contributions.rules import hours as rules


class Scope(models.TextChoices):
    """What a public transparency page sums: a project's contributions, or a budget's (across projects)."""

    PROJECT = rules.PROJECT
    BUDGET = rules.BUDGET


class ActivityHours(models.Model):
    """Hours of a project's or a budget's counted contributions (validated, then perhaps paid) per month and
    activity, a contribution naming several activities sharing its hours equally between them.

    services.hours.count_validated adds each contribution in its validation's transaction, so the public
    pages read a few hundred rows instead of every contribution; services.hours.rebuild recomputes them from
    the contributions. The scope and the activity are plain keys rather than foreign keys so that the unique
    key has no NULL (which would never conflict): the project, budget and activity of a counted contribution
    are protected from deletion by the contribution itself."""

    scope = models.CharField(max_length=7, choices=Scope.choices)
    scope_id = models.PositiveBigIntegerField()
    month = models.DateField()  # first day
    activity_key = models.PositiveBigIntegerField()  # Activity.pk, or rules.NO_ACTIVITY
    hours = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "scope_id", "month", "activity_key"], name="activity_hours_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.scope_id} {self.month} {self.activity_key}: {self.hours} h"


class PersonHours(models.Model):
    """Hours and number of a person's counted contributions to a project or a budget, kept like
    ActivityHours; the public pages show them as the person agreed (ContributorProfile), read at display."""

    scope = models.CharField(max_length=7, choices=Scope.choices)
    scope_id = models.PositiveBigIntegerField()
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    hours = models.DecimalField(max_digits=12, decimal_places=2)
    contributions = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "scope_id", "person"], name="person_hours_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.scope_id} {self.person_id}: {self.hours} h"
