"""API routes of the enterprise registry, included under /api/v1/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import EnterpriseViewSet, FeedRecordsView, QualificationViewSet, SiteViewSet

router = SimpleRouter()
router.register("enterprises", EnterpriseViewSet, basename="enterprise")

_ENTERPRISE = "enterprises/<str:credit_code>"

urlpatterns = [
    *router.urls,
    path(f"{_ENTERPRISE}/sites/", SiteViewSet.as_view({"get": "list", "post": "create"}), name="enterprise-sites"),
    path(
        f"{_ENTERPRISE}/sites/<str:pk>/",
        SiteViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="enterprise-site-detail",
    ),
    path(
        f"{_ENTERPRISE}/qualifications/",
        QualificationViewSet.as_view({"get": "list", "post": "create"}),
        name="enterprise-qualifications",
    ),
    path(
        f"{_ENTERPRISE}/qualifications/<str:pk>/",
        QualificationViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="enterprise-qualification-detail",
    ),
    path("feeds/<str:source>/records/", FeedRecordsView.as_view(), name="feed-records"),
]
