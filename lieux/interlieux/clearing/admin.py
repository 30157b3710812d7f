"""Keys and statements in the admin: read-only once used or closed (the services and the database refuse
changes anyway); statements are computed by `lieux clearing run`, never typed in."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement, SettlementLine, Transfer


@admin.register(ClearingKey)
class ClearingKeyAdmin(admin.ModelAdmin):
    list_display = ["network", "version", "method", "unit_price", "free_allowance", "cap_per_pair"]
    list_filter = ["network", "method"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or not obj.is_used

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or not obj.is_used


class LineInline(admin.TabularInline):
    model = SettlementLine
    extra = 0
    can_delete = False
    readonly_fields = ["venue", "visits_out", "visits_in", "gross_owed", "gross_due", "net"]


class TransferInline(admin.TabularInline):
    model = Transfer
    extra = 0
    can_delete = False
    readonly_fields = ["debtor", "creditor", "amount", "invoice"]


@admin.register(ClearingStatement)
class ClearingStatementAdmin(admin.ModelAdmin):
    list_display = ["network", "month", "status", "visits", "cleared_amount", "computed_at", "closed_at"]
    list_filter = ["network", "status"]
    inlines = [LineInline, TransferInline]
    readonly_fields = [f.name for f in ClearingStatement._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
