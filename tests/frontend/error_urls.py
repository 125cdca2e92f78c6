"""The portal's URLs plus one view that fails, to see the 500 page (tests only)."""

from django.urls import path

from portal.urls import handler403, handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns


def boom(request):
    raise RuntimeError("boom (test)")


urlpatterns = [path("test-boom/", boom), *portal_urlpatterns]
