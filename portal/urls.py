"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.ops.views import healthz

api_v1 = [
    # Each app appends its routers here (portal/enterprises, policies, matching, notifications).
    path("", include("matching.api.urls")),
    path("", include("portal.entitlements.api.urls")),
    path("", include("portal.applications.api.urls")),
    path("", include("portal.enterprises.urls")),
    path("", include("policies.api.urls")),
    path("", include("portal.notifications.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("frontend.urls")),
]

# /api/ callers get the JSON error format even from errors no API view handled.
handler400 = "portal.api.errors.bad_request"
handler403 = "portal.api.errors.permission_denied"
handler404 = "portal.api.errors.page_not_found"
handler500 = "portal.api.errors.server_error"
