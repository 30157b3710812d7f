"""Credit settlements: the budget paying a venue for the network credit it honours, recorded and posted
under a new kind of ledger transaction."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import lieux.core.time


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0005_person_owed"),
        ("venues", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerday",
            name="kind",
            field=models.CharField(
                choices=[
                    ("funding", "Funding committed"),
                    ("receipt", "Cash received"),
                    ("validation", "Request validated"),
                    ("payout_euros", "Paid in euros"),
                    ("payout_credit", "Paid in network credit"),
                    ("reduction", "Reduced at closing"),
                    ("credit_settled", "Credit settled to the venue that honours it"),
                ],
                max_length=14,
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("funding", "Funding committed"),
                    ("receipt", "Cash received"),
                    ("validation", "Request validated"),
                    ("payout_euros", "Paid in euros"),
                    ("payout_credit", "Paid in network credit"),
                    ("reduction", "Reduced at closing"),
                    ("credit_settled", "Credit settled to the venue that honours it"),
                ],
                max_length=14,
            ),
        ),
        migrations.CreateModel(
            name="CreditSettlement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=12, verbose_name="amount (€)")),
                ("reference", models.CharField(max_length=60, verbose_name="the venue's invoice number")),
                ("settled_on", models.DateField(verbose_name="paid on")),
                ("key", models.CharField(max_length=120, unique=True)),
                ("created_at", models.DateTimeField(default=lieux.core.time.now)),
                (
                    "budget",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="credit_settlements",
                        to="contributions.budget",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "venue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="venues.venue"
                    ),
                ),
            ],
            options={
                "verbose_name": "credit settlement",
                "verbose_name_plural": "credit settlements",
                "ordering": ["-settled_on", "-pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="credit_settlement_positive"
                    )
                ],
            },
        ),
    ]
