from django.urls import path

from . import views

urlpatterns = [
    path(
        "enterprises/<str:credit_code>/corrections/",
        views.EnterpriseCorrectionList.as_view(),
        name="enterprise-corrections",
    ),
    path(
        "enterprises/<str:credit_code>/corrections/<int:pk>/",
        views.EnterpriseCorrectionDetail.as_view(),
        name="enterprise-correction",
    ),
    path(
        "enterprises/<str:credit_code>/corrections/<int:pk>/evidence/<int:evidence_id>/",
        views.EnterpriseCorrectionEvidence.as_view(),
        name="enterprise-correction-evidence",
    ),
    path("corrections/", views.StaffCorrectionList.as_view(), name="staff-corrections"),
    path("corrections/<int:pk>/", views.StaffCorrectionDetail.as_view(), name="staff-correction"),
    path(
        "corrections/<int:pk>/evidence/<int:evidence_id>/",
        views.StaffCorrectionEvidence.as_view(),
        name="staff-correction-evidence",
    ),
    path("corrections/<int:pk>/accept/", views.StaffCorrectionAccept.as_view(), name="staff-correction-accept"),
    path("corrections/<int:pk>/reject/", views.StaffCorrectionReject.as_view(), name="staff-correction-reject"),
    path("corrections/<int:pk>/assign/", views.StaffCorrectionAssign.as_view(), name="staff-correction-assign"),
]
