from __future__ import annotations

from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Management commands for development and benchmarks; no models."""

    name = "devtools"
    verbose_name = "开发与基准测试工具"
