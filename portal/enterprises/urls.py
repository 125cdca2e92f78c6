"""API routes of the enterprise registry, included under /api/v1/."""

from __future__ import annotations

from django.urls import path

from .api import (
    EnterpriseDetailApi,
    EnterpriseHistoryApi,
    EnterpriseListApi,
    FeedRecordsView,
    QualificationDetailApi,
    QualificationListApi,
    SiteDetailApi,
    SiteListApi,
)

_ENTERPRISE = "enterprises/<str:credit_code>"

urlpatterns = [
    path("enterprises/", EnterpriseListApi.as_view(), name="enterprise-list"),
    path(f"{_ENTERPRISE}/", EnterpriseDetailApi.as_view(), name="enterprise-detail"),
    path(f"{_ENTERPRISE}/history/", EnterpriseHistoryApi.as_view(), name="enterprise-history"),
    path(f"{_ENTERPRISE}/sites/", SiteListApi.as_view(), name="enterprise-sites"),
    path(f"{_ENTERPRISE}/sites/<str:pk>/", SiteDetailApi.as_view(), name="enterprise-site-detail"),
    path(f"{_ENTERPRISE}/qualifications/", QualificationListApi.as_view(), name="enterprise-qualifications"),
    path(
        f"{_ENTERPRISE}/qualifications/<str:pk>/",
        QualificationDetailApi.as_view(),
        name="enterprise-qualification-detail",
    ),
    path("feeds/<str:source>/records/", FeedRecordsView.as_view(), name="feed-records"),
]
