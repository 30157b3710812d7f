from django.urls import path

from lieux.web import feeds, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    # Secret-token iCalendar feeds (RFC 5545); see lieux/web/feeds.py.
    path("calendrier/<str:token>.ics", feeds.calendar_feed, name="calendar_feed"),
]
