"""An index for a budget's latest payouts, which its page lists: the list no longer sorts every payout."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0002_budget_ledger_days"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="payout",
            index=models.Index(fields=["budget", "-paid_on", "-id"], name="payout_budget_latest"),
        ),
    ]
