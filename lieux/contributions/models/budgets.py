from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lieux.core.time import now


class Validators(models.TextChoices):
    STEWARDS = "stewards", _("The project's stewards")
    MEMBERS = "members", _("Any member of the network")
    MANAGERS = "managers", _("The venue's managers")


class Overrun(models.TextChoices):
    """What a validation that would pass the envelope does."""

    REFUSE = "refuse", _("Refuse it: the envelope is a hard limit")
    DEFICIT = "deficit", _("Accept it and put the budget in deficit until the collective closes it")


class BudgetStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DEFICIT = "deficit", _("In deficit")
    CLOSED = "closed", pgettext_lazy("accounting period", "Closed")


class Closing(models.TextChoices):
    """How the collective settles a period whose validated requests exceed the envelope."""

    PRO_RATA = "pro_rata", _("Reduce every unpaid request in proportion")
    CARRY_OVER = "carry_over", _("Carry the excess over to the next budget")
    TOP_UP = "top_up", _("Top the envelope up with a new funding source")


class Budget(models.Model):
    """A contributive budget: an envelope funded by named sources over a period, from which contributors
    are paid, after the fact, for what the collective validated. Network-wide when `venue` is empty."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="budgets")
    venue = models.ForeignKey(
        "venues.Venue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="budgets",
        verbose_name=_("venue"),
    )
    project = models.ForeignKey(
        "contributions.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="budgets",
        verbose_name=_("project"),
        help_text=_("Empty: a budget open to every project"),
    )
    slug = models.SlugField()
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=8, choices=BudgetStatus.choices, default=BudgetStatus.OPEN
    )
    # Review rules: who may validate, and how many distinct validations a request needs.
    validators = models.CharField(
        _("who validates"), max_length=10, choices=Validators.choices, default=Validators.STEWARDS
    )
    validations_required = models.PositiveSmallIntegerField(
        _("validations required"), default=1, validators=[MinValueValidator(1)]
    )
    overrun = models.CharField(
        _("when validated requests would pass the envelope"),
        max_length=8,
        choices=Overrun.choices,
        default=Overrun.DEFICIT,
    )
    # What a contribution's hours are worth in reports for funders (valorisation), not what is paid.
    hourly_value = models.DecimalField(
        _("hourly value for reports (€)"), max_digits=8, decimal_places=2, default=Decimal("20.00")
    )
    closed_with = models.CharField(max_length=10, choices=Closing.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    carried_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried_from"
    )
    is_public = models.BooleanField(_("public transparency page"), default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("contributive budget")
        verbose_name_plural = _("contributive budgets")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "slug"], name="budget_slug_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="budget_period_in_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    GRANT = "grant", _("Grant")
    MEMBERSHIP_INCOME = "membership_income", _("Membership income")
    VENUE_SHARE = "venue_share", _("A venue's share")
    CARRIED_OVER = "carried_over", _("Carried over from another budget")
    OTHER = "other", _("Other")


class FundingSource(models.Model):
    """Money promised to a budget by someone named: a grant such as the ANCT « Fabrique de Territoire », a
    share of membership income, a venue's contribution. `amount` is what is committed; the cash that has
    actually arrived is in its receipts."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="sources")
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    funder = models.CharField(_("funder"), max_length=160, blank=True)
    # Negative for a carried-over deficit: the next budget starts by paying the previous one's excess.
    amount = models.DecimalField(_("amount committed (€)"), max_digits=12, decimal_places=2)
    committed_on = models.DateField(_("committed on"))
    venue = models.ForeignKey(
        "venues.Venue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")
        ordering = ["committed_on", "pk"]

    def __str__(self) -> str:
        return self.name


class FundingReceipt(models.Model):
    """Cash from a source that reached the budget's bank account."""

    source = models.ForeignKey(FundingSource, on_delete=models.PROTECT, related_name="receipts")
    amount = models.DecimalField(
        _("amount received (€)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("bank reference"), max_length=120, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("funding receipt")
        verbose_name_plural = _("funding receipts")
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receipt_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount} € {self.received_on}"
