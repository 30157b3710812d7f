from django.urls import path

from lieux.web import feeds, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("lieux/<slug:venue_slug>/", views.venue_detail, name="venue"),
    path("lieux/<slug:venue_slug>/abonnement/", views.subscribe, name="venue_subscribe"),
    path("lieux/<slug:venue_slug>/<slug:resource_slug>/", views.resource_detail, name="resource"),
    path(
        "lieux/<slug:venue_slug>/<slug:resource_slug>/abonnement/",
        views.subscribe,
        name="resource_subscribe",
    ),
    path("reservations/", views.my_bookings, name="my_bookings"),
    path("reservations/<int:pk>/", views.booking_detail, name="booking"),
    path("reservations/<int:pk>/deplacer/", views.booking_move, name="booking_move"),
    path("reservations/<int:pk>/annuler/", views.booking_cancel, name="booking_cancel"),
    path("gestion/", views.manage_index, name="manage"),
    path("gestion/<slug:venue_slug>/", views.manage_venue, name="manage_venue"),
    path("gestion/<slug:venue_slug>/demandes/<int:pk>/", views.manage_review, name="manage_review"),
    path(
        "gestion/<slug:venue_slug>/ressources/<slug:resource_slug>/",
        views.manage_resource,
        name="manage_resource",
    ),
    # Secret-token iCalendar feeds (RFC 5545); see lieux/web/feeds.py.
    path("calendrier/<str:token>.ics", feeds.calendar_feed, name="calendar_feed"),
]
