from django.urls import path

from . import views

urlpatterns = [
    path(
        "enterprises/<str:credit_code>/entitlements/",
        views.EnterpriseEntitlementList.as_view(),
        name="enterprise-entitlements",
    ),
    path(
        "enterprises/<str:credit_code>/entitlements/<int:pk>/confirm/",
        views.EntitlementConfirm.as_view(),
        name="entitlement-confirm",
    ),
    path(
        "enterprises/<str:credit_code>/entitlements/<int:pk>/object/",
        views.EntitlementObject.as_view(),
        name="entitlement-object",
    ),
    path("staff/entitlements/", views.StaffEntitlementList.as_view(), name="staff-entitlements"),
    path("staff/entitlements/<int:pk>/disburse/", views.StaffDisburse.as_view(), name="staff-entitlement-disburse"),
    path("staff/entitlements/<int:pk>/revoke/", views.StaffRevoke.as_view(), name="staff-entitlement-revoke"),
    path("staff/entitlements/<int:pk>/resolve/", views.StaffResolve.as_view(), name="staff-entitlement-resolve"),
    path("staff/entitlements/<int:pk>/review/", views.StaffReview.as_view(), name="staff-entitlement-review"),
    path(
        "staff/entitlements/<int:pk>/recovery-note/",
        views.StaffRecoveryNote.as_view(),
        name="staff-entitlement-recovery-note",
    ),
]
