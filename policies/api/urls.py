"""Routes of the policy API (included in portal/urls.py under /api/v1/)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("policies/", views.PolicyListApi.as_view(), name="policy-list"),
    path("policies/export.xlsx", views.PolicyExportXlsxApi.as_view(), name="policy-export-xlsx"),
    path("policies/export.csv", views.PolicyExportCsvApi.as_view(), name="policy-export-csv"),
    path("policies/<int:policy_id>/", views.PolicyDetailApi.as_view(), name="policy-detail"),
    path("policies/<int:policy_id>/versions/", views.PolicyVersionsApi.as_view(), name="policy-versions"),
    path(
        "policies/<int:policy_id>/versions/<int:number>/",
        views.PolicyVersionDetailApi.as_view(),
        name="policy-version-detail",
    ),
    path("policies/<int:policy_id>/rule/", views.PolicyRuleInForceApi.as_view(), name="policy-rule-in-force"),
    path(
        "policies/<int:policy_id>/versions/<int:number>/rule/",
        views.PolicyVersionRuleApi.as_view(),
        name="policy-version-rule",
    ),
    path("facts/", views.FactRegistryApi.as_view(), name="fact-registry"),
    path("eligibility/check", views.EligibilityCheckApi.as_view(), name="eligibility-check"),
    path("staff/policies/", views.StaffPolicyListApi.as_view(), name="staff-policy-list"),
    path("staff/policies/<int:policy_id>/", views.StaffPolicyDetailApi.as_view(), name="staff-policy-detail"),
    path(
        "staff/policies/<int:policy_id>/new-version/",
        views.StaffPolicyNewVersionApi.as_view(),
        name="staff-policy-new-version",
    ),
    path("staff/policy-versions/<int:version_id>/", views.StaffVersionDetailApi.as_view(), name="staff-version-detail"),
    path(
        "staff/policy-versions/<int:version_id>/submit/",
        views.StaffVersionSubmitApi.as_view(),
        name="staff-version-submit",
    ),
    path(
        "staff/policy-versions/<int:version_id>/approve/",
        views.StaffVersionApproveApi.as_view(),
        name="staff-version-approve",
    ),
    path(
        "staff/policy-versions/<int:version_id>/reject/",
        views.StaffVersionRejectApi.as_view(),
        name="staff-version-reject",
    ),
    path(
        "staff/policy-versions/<int:version_id>/publish/",
        views.StaffVersionPublishApi.as_view(),
        name="staff-version-publish",
    ),
    path(
        "staff/policy-versions/<int:version_id>/retire/",
        views.StaffVersionRetireApi.as_view(),
        name="staff-version-retire",
    ),
    path(
        "staff/policy-versions/<int:version_id>/preview/",
        views.StaffVersionPreviewApi.as_view(),
        name="staff-version-preview",
    ),
    path(
        "staff/policy-versions/<int:version_id>/golden-cases/",
        views.StaffGoldenCaseListApi.as_view(),
        name="staff-golden-case-list",
    ),
    path(
        "staff/policy-versions/<int:version_id>/golden-cases/<int:case_id>/",
        views.StaffGoldenCaseDetailApi.as_view(),
        name="staff-golden-case-detail",
    ),
]
