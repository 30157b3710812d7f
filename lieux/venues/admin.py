from django.contrib import admin

from lieux.venues.models import Closure, Network, OpeningHours, Resource, ResourcePrice, Venue, VenueRole


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


class VenueRoleInline(admin.TabularInline):
    model = VenueRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    filter_horizontal = ["admins"]


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "legal_form", "siret", "vat_status"]
    search_fields = ["name", "city", "siret"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, ClosureInline, VenueRoleInline]


class ResourcePriceInline(admin.TabularInline):
    model = ResourcePrice
    extra = 0


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "venue", "kind", "capacity", "parent", "approval_required", "is_active"]
    list_filter = ["venue", "kind", "is_active"]
    search_fields = ["name", "venue__name"]
    inlines = [ResourcePriceInline]
