"""Base classes shared by the API's serializers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """An input whose unknown keys are an error (`unknown_field`), not silently dropped.

    A misspelt field (`{"rulez": …}`) would otherwise be a request that "succeeds" and changes
    nothing, which the caller cannot tell from success.
    """

    # Keys read by the view itself rather than the serializer (e.g. uploaded files `material_0`).
    extra_key_prefixes: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(
                str(key)
                for key in data
                if key not in self.fields and not str(key).startswith(self.extra_key_prefixes or ("\0",))
            )
            if unknown:
                raise serializers.ValidationError(
                    {key: [serializers.ErrorDetail("不允许的字段", code="unknown_field")] for key in unknown}
                )
        return super().to_internal_value(data)
