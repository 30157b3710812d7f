"""LedgerDay: the per-day sums of each budget's ledger that the budget page reads, filled from the entries
already written."""

from collections import defaultdict
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    Budget = apps.get_model("contributions", "Budget")
    LedgerEntry = apps.get_model("contributions", "LedgerEntry")
    LedgerDay = apps.get_model("contributions", "LedgerDay")
    for budget in Budget.objects.select_related("venue"):
        tz = ZoneInfo(budget.venue.timezone if budget.venue_id else settings.TIME_ZONE)
        sums = defaultdict(int)
        rows = LedgerEntry.objects.filter(budget=budget).values_list(
            "account", "transaction__kind", "transaction__at", "amount"
        )
        for account, kind, at, amount in rows.iterator():
            sums[(account, kind, at.astimezone(tz).date())] += amount
        LedgerDay.objects.bulk_create(
            LedgerDay(budget=budget, account=account, kind=kind, day=day, amount=amount)
            for (account, kind, day), amount in sums.items()
            if amount
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "account",
                    models.CharField(
                        choices=[
                            ("receivable", "Promised by funders, not received yet"),
                            ("envelope", "Envelope left to validate"),
                            ("cash", "Cash in hand"),
                            ("owed", "Owed to contributors"),
                            ("credit_issued", "Network credit issued, owed to the venue that honours it"),
                        ],
                        max_length=14,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("funding", "Funding committed"),
                            ("receipt", "Cash received"),
                            ("validation", "Request validated"),
                            ("payout_euros", "Paid in euros"),
                            ("payout_credit", "Paid in network credit"),
                            ("reduction", "Reduced at closing"),
                        ],
                        max_length=14,
                    ),
                ),
                ("day", models.DateField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "budget",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contributions.budget",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("budget", "account", "kind", "day"), name="ledger_day_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
