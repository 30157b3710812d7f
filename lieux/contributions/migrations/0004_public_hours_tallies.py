"""ActivityHours and PersonHours: the hours tallies that the public transparency pages read, filled from
the contributions already validated."""

from collections import defaultdict

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from lieux.contributions.rules import hours as rules


def fill(apps, schema_editor):
    Contribution = apps.get_model("contributions", "Contribution")
    ActivityHours = apps.get_model("contributions", "ActivityHours")
    PersonHours = apps.get_model("contributions", "PersonHours")
    counted = Contribution.objects.filter(status__in=["validated", "paid"])
    links = defaultdict(list)
    for contribution_id, activity_id in Contribution.activities.through.objects.filter(
        contribution__in=counted
    ).values_list("contribution_id", "activity_id"):
        links[contribution_id].append(activity_id)
    found = rules.tally(
        rules.Counted(c.project_id, c.budget_id, c.contributor_id, c.performed_on, c.hours, links[c.pk])
        for c in counted
    )
    ActivityHours.objects.bulk_create(
        ActivityHours(scope=scope, scope_id=scope_id, month=month, activity_key=key, hours=hours)
        for (scope, scope_id, month, key), hours in found.activities.items()
    )
    PersonHours.objects.bulk_create(
        PersonHours(scope=scope, scope_id=scope_id, person_id=person_id, hours=hours, contributions=count)
        for (scope, scope_id, person_id), (hours, count) in found.people.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0003_payout_budget_latest"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ActivityHours",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "scope",
                    models.CharField(choices=[("project", "Project"), ("budget", "Budget")], max_length=7),
                ),
                ("scope_id", models.PositiveBigIntegerField()),
                ("month", models.DateField()),
                ("activity_key", models.PositiveBigIntegerField()),
                ("hours", models.DecimalField(decimal_places=2, max_digits=12)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scope", "scope_id", "month", "activity_key"), name="activity_hours_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PersonHours",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "scope",
                    models.CharField(choices=[("project", "Project"), ("budget", "Budget")], max_length=7),
                ),
                ("scope_id", models.PositiveBigIntegerField()),
                ("hours", models.DecimalField(decimal_places=2, max_digits=12)),
                ("contributions", models.PositiveIntegerField()),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scope", "scope_id", "person"), name="person_hours_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
