from django.conf import settings
from django.db import models

from lieux.contributions.models.ledger import Account, TransactionKind


class LedgerDay(models.Model):
    """One day of a budget's ledger, summed per account and kind of movement (the day in the budget's
    time zone). services.ledger.post adds every posting to it in the posting's own transaction, so the
    budget page reads a few hundred rows instead of every entry: balances, committed, received, reduced
    and the burn-down. LedgerEntry stays the record; services.ledger_days.rebuild_ledger_days recomputes
    these rows from it."""

    budget = models.ForeignKey("contributions.Budget", on_delete=models.CASCADE, related_name="+")
    account = models.CharField(max_length=14, choices=Account.choices)
    kind = models.CharField(max_length=14, choices=TransactionKind.choices)
    day = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["budget", "account", "kind", "day"], name="ledger_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.account} {self.kind} {self.amount}"


class PersonOwed(models.Model):
    """What a budget owes one person: their validated requests less reductions, payouts and credit taken.
    Kept like LedgerDay, by every posting to the owed account in the posting's own transaction
    (services.ledger_days.add_posting), so the budget page ranks, pages and checks the people owed by
    reading one row each instead of summing all their legs. LedgerEntry stays the record."""

    budget = models.ForeignKey("contributions.Budget", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2)  # positive: the budget owes them

    class Meta:
        constraints = [models.UniqueConstraint(fields=["budget", "person"], name="person_owed_unique")]

    def __str__(self) -> str:
        return f"{self.budget_id} owes {self.person_id}: {self.amount}"
