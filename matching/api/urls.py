from django.urls import path

from .views import EnterpriseMatchesView

urlpatterns = [
    path("enterprises/<str:credit_code>/matches/", EnterpriseMatchesView.as_view(), name="enterprise-matches"),
]
