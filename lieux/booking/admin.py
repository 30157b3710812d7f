from django.contrib import admin

from lieux.booking.models import Booking, BookingSeries, CalendarFeed


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-mostly: bookings change through the booking screens so that the no-overlap guard, the rules
    and the audit trail always apply."""

    list_display = ["title", "resource", "venue", "starts_at", "ends_at", "status", "booked_by"]
    list_filter = ["venue", "status"]
    search_fields = ["title", "booked_by__email", "resource__name"]
    date_hierarchy = "starts_at"
    readonly_fields = [f.name for f in Booking._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BookingSeries)
class BookingSeriesAdmin(admin.ModelAdmin):
    list_display = ["resource", "frequency", "interval", "count", "until_on", "policy", "booked_by"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["owner", "scope", "venue", "resource", "created_at"]
