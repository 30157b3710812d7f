"""PersonOwed: what each budget owes each person, that the budget page ranks and pages, filled from the
entries already written."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum


def fill(apps, schema_editor):
    LedgerEntry = apps.get_model("contributions", "LedgerEntry")
    PersonOwed = apps.get_model("contributions", "PersonOwed")
    rows = (
        LedgerEntry.objects.filter(account="owed", person__isnull=False)
        .values_list("budget_id", "person_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    PersonOwed.objects.bulk_create(
        PersonOwed(budget_id=budget_id, person_id=person_id, amount=-total)
        for budget_id, person_id, total in rows
        if total
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0004_public_hours_tallies"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonOwed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "budget",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contributions.budget",
                    ),
                ),
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
                    models.UniqueConstraint(fields=("budget", "person"), name="person_owed_unique")
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
