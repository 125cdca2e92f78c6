from django.urls import path

from . import api

urlpatterns = [
    path("enterprises/<str:credit_code>/receipts/", api.EnterpriseReceiptList.as_view(), name="enterprise-receipts"),
    path("receipts/<int:pk>/", api.ReceiptDetail.as_view(), name="receipt-detail"),
]
