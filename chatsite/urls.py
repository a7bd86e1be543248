from django.contrib import admin
from django.urls import include, path

from chatsite.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("rooms.urls")),
]
