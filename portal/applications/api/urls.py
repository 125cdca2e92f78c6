from django.urls import path

from . import views

urlpatterns = [
    path(
        "enterprises/<str:credit_code>/applications/",
        views.EnterpriseApplicationList.as_view(),
        name="enterprise-applications",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:pk>/",
        views.EnterpriseApplicationDetail.as_view(),
        name="enterprise-application",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:pk>/withdraw/",
        views.EnterpriseApplicationWithdraw.as_view(),
        name="enterprise-application-withdraw",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:pk>/resubmit/",
        views.EnterpriseApplicationResubmit.as_view(),
        name="enterprise-application-resubmit",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:pk>/attachments/<int:attachment_id>/",
        views.EnterpriseAttachmentDownload.as_view(),
        name="enterprise-application-attachment",
    ),
    path("applications/", views.StaffApplicationList.as_view(), name="staff-applications"),
    path("applications/<int:pk>/", views.StaffApplicationDetail.as_view(), name="staff-application"),
    path(
        "applications/<int:pk>/attachments/<int:attachment_id>/",
        views.StaffAttachmentDownload.as_view(),
        name="staff-application-attachment",
    ),
    *[
        path(
            f"applications/<int:pk>/{action}/",
            views.StaffApplicationAction.as_view(action=action),
            name=f"staff-application-{action}",
        )
        for action in ("accept", "approve", "reject", "return")
    ],
]
