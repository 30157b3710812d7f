from django.contrib import admin
from django.urls import include, path

from lieux.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("comptes/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("lieux.web.urls")),
]
