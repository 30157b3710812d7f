"""Back-office views of contributions, read-mostly: every change of a project, a request, a budget or the
ledger goes through a service that checks its rules and writes its audit row (the API, the web pages and
`lieux` commands call them), so the admin reads and searches but does not add, edit or delete."""

from django.contrib import admin

from lieux.contributions.models import (
    Activity,
    Allocation,
    AllocationRound,
    Budget,
    Contribution,
    ContributorProfile,
    CreditConversion,
    CreditSettlement,
    FundingReceipt,
    FundingSource,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    Project,
    Review,
    RoundParticipant,
    RoundProject,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["title", "slug", "network", "venue", "status", "is_public", "created_at"]
    list_filter = ["network", "venue", "status", "is_public"]
    search_fields = ["title", "slug", "description"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["name", "network", "budget"]
    list_filter = ["network", "budget"]
    search_fields = ["name"]


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = readonly_fields = ("created_at", "reviewer", "verdict", "message")


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    list_display = [
        "performed_on",
        "contributor",
        "project",
        "budget",
        "hours",
        "amount_asked",
        "amount_granted",
        "status",
    ]
    list_filter = ["status", "kind", "project", "budget"]
    search_fields = ["description", "contributor__email", "contributor__last_name", "source_key"]
    date_hierarchy = "performed_on"
    raw_id_fields = ["contributor", "declared_by", "payout"]
    inlines = [ReviewInline]


@admin.register(ContributorProfile)
class ContributorProfileAdmin(ReadOnlyAdmin):
    list_display = ["person", "visibility", "pseudonym", "structure_name", "updated_at"]
    list_filter = ["visibility"]
    search_fields = ["person__email", "pseudonym"]


class FundingSourceInline(ReadOnlyInline):
    model = FundingSource
    fields = readonly_fields = ("name", "kind", "funder", "amount", "committed_on")


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ["name", "network", "venue", "project", "starts_on", "ends_on", "status", "overrun"]
    list_filter = ["network", "venue", "status", "validators", "overrun"]
    search_fields = ["name", "slug"]
    inlines = [FundingSourceInline]


@admin.register(FundingReceipt)
class FundingReceiptAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "source", "amount", "reference"]
    search_fields = ["reference", "source__name"]


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = readonly_fields = ("account", "amount", "person", "venue")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["at", "budget", "kind", "key", "memo", "actor"]
    list_filter = ["budget", "kind"]
    search_fields = ["key", "memo"]
    inlines = [LedgerEntryInline]


@admin.register(CreditConversion)
class CreditConversionAdmin(ReadOnlyAdmin):
    list_display = ["network", "credit_type", "euros_per_credit", "validity_months"]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["budget", "person", "method", "amount", "created_at"]
    list_filter = ["budget", "method"]
    search_fields = ["person__email", "invoice_reference", "key"]


@admin.register(CreditSettlement)
class CreditSettlementAdmin(ReadOnlyAdmin):
    list_display = ["settled_on", "budget", "venue", "amount", "reference", "created_by"]
    list_filter = ["budget", "venue"]
    search_fields = ["reference", "key"]


@admin.register(AllocationRound)
class AllocationRoundAdmin(ReadOnlyAdmin):
    list_display = ["name", "network", "pot", "rule", "opens_at", "closes_at", "status"]
    list_filter = ["network", "status", "rule"]


@admin.register(RoundProject)
class RoundProjectAdmin(ReadOnlyAdmin):
    list_display = ["round", "project", "minimum", "maximum", "funded_amount"]


@admin.register(RoundParticipant)
class RoundParticipantAdmin(ReadOnlyAdmin):
    list_display = ["round", "person", "share"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["participant", "round_project", "amount"]
