"""{% bar_chart rows caption="…" %}: the inline-SVG bar chart of frontend/charts.py, with its data table."""

from __future__ import annotations

from typing import Any

from django import template

from frontend.charts import bar_chart as build
from frontend.charts import value_text

register = template.Library()


@register.inclusion_tag("frontend/partials/bar_chart.html")
def bar_chart(
    rows: Any,
    caption: str,
    series: str = "数量",
    unit: str = "",
    highlight: str | None = None,
    open_table: bool = False,
    colours: str = "",
) -> dict[str, Any]:
    """`series` ("|"-separated) names the series when each row carries several values; `colours` likewise
    names a colour per series (frontend.charts.COLOURS)."""
    return {
        "chart": build(
            rows,
            caption=caption,
            series=series.split("|"),
            unit=unit,
            highlight=highlight,
            colours=[c for c in colours.split("|") if c],
        ),
        "open_table": open_table,
    }


@register.filter
def chart_value(value: float) -> str:
    return value_text(value)
