"""Back-office views of the Pass Interlieux. Network settings of plans are edited here; badges, door
devices and keys are created through their services (web pages and `lieux interlieux`), which show a
device's token once and keep private keys encrypted, so the admin only reads them."""

from django.contrib import admin

from lieux.interlieux.models import AccessAudit, Badge, DoorDevice, NetworkAccess, NetworkKey


@admin.register(NetworkAccess)
class NetworkAccessAdmin(admin.ModelAdmin):
    list_display = ["plan", "weekdays", "starts_at", "ends_at", "days_per_month", "booking_discount_percent"]
    filter_horizontal = ["host_venues"]
    raw_id_fields = ["plan"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Badge)
class BadgeAdmin(ReadOnlyAdmin):
    list_display = ["uid", "person", "issued_by", "issued_at", "revoked_at"]
    search_fields = ["uid"]
    list_filter = ["issued_by"]


@admin.register(DoorDevice)
class DoorDeviceAdmin(ReadOnlyAdmin):
    list_display = ["name", "venue", "token_hint", "last_seen_at", "revoked_at"]
    exclude = ["token_digest"]


@admin.register(NetworkKey)
class NetworkKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "network", "created_at", "retired_at", "valid_until"]
    exclude = ["encrypted_private_key"]


@admin.register(AccessAudit)
class AccessAuditAdmin(ReadOnlyAdmin):
    list_display = ["at", "venue", "device", "credential_kind", "allowed", "reason", "anomaly"]
    list_filter = ["venue", "allowed", "reason", "anomaly"]
