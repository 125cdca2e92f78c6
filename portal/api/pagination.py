"""Page-number pagination with a client-chosen page size (capped)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


# For views that paginate by hand (APIView + PagePagination): drf-spectacular only sees the page
# of generic list views, so these declare the same page and query parameters it would.
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="页码（从 1 开始）"),
    OpenApiParameter("page_size", OpenApiTypes.INT, description=f"每页条数（最多 {PagePagination.max_page_size}）"),
]


def paginated(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The page `{count, next, previous, results: [...]}` of `serializer_class`, as a named component."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
