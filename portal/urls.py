"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.ops.views import healthz

api_v1 = [
    # Each app appends its routers here (portal/enterprises, policies, matching, notifications).
    # The two most read APIs first (the public policy list, an enterprise's matches): Django tries the
    # includes in order, and each one passed over costs every request a little. No two includes share
    # a path, so the order decides nothing else.
    path("", include("policies.api.urls")),
    path("", include("matching.api.urls")),
    path("", include("portal.entitlements.api.urls")),
    path("", include("portal.applications.api.urls")),
    path("", include("portal.corrections.api.urls")),
    path("", include("portal.enterprises.urls")),
    path("", include("portal.notifications.api.urls")),
    path("", include("portal.receipts.urls")),
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

# Chinese error pages (frontend/templates/4xx.html, 500.html); /api/ callers get the API's JSON error
# format instead (portal/api/errors.py). Under DEBUG, frontend.errors.ChineseErrorPagesMiddleware serves
# the same pages in place of Django's technical ones.
handler400 = "frontend.errors.bad_request"
handler403 = "frontend.errors.permission_denied"
handler404 = "frontend.errors.page_not_found"
handler500 = "frontend.errors.server_error"
