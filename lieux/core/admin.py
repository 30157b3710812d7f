from django.contrib import admin

from lieux.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail is evidence: it can be searched, never edited."""

    list_display = ["at", "action", "actor", "venue_id", "object_type", "object_id"]
    list_filter = ["action", "venue_id"]
    search_fields = ["action", "object_id", "actor__email"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
