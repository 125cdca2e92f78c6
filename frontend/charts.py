"""One small server-side bar chart: horizontal bars as inline SVG, always with a data table beside it.

No chart library and no script: the geometry is computed here and drawn by
templates/frontend/partials/bar_chart.html, which also renders the same figures as a table (the
accessible alternative, and what tests read). Horizontal bars leave room for long Chinese labels.
The labels and values are HTML text beside each bar (an SVG of its own), so they keep their real
size on a phone instead of shrinking with a scaled drawing; `Bar.percent` is the bar's length.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 70
BAR_HEIGHT = 18
BAR_GAP = 3  # between the bars of one category
GROUP_GAP = 12  # between categories
TOP = 8
LABEL_CHARS = 12  # longer labels are shortened in the drawing (never in the table)
# Calm, high-contrast colours from the stylesheet's palette; the highlight is the alert red.
COLOURS = {
    "brand": "#1f5fa8",
    "light": "#5f8cc4",  # 3.4:1 on white (graphics need 3:1)
    "ok": "#2f7d4a",
    "warn": "#b7791f",
    "bad": "#a4262c",
    "muted": "#8795a3",
}
PALETTE = ("brand", "light", "ok", "warn", "muted")
HIGHLIGHT = COLOURS["bad"]

_ids = itertools.count(1)


@dataclass
class Bar:
    series: int
    value: float
    x: float
    y: float
    width: float
    colour: str
    text_x: float
    text_y: float
    percent: float = 0  # width in % of the row (the longest bar 85%), for the HTML layout


@dataclass
class Row:
    label: str
    short: str
    values: list[float]
    highlight: bool
    label_y: float
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Chart:
    id: str
    caption: str
    series: list[str]
    rows: list[Row]
    width: int
    height: int
    label_width: int
    unit: str
    colours: list[str]
    table_caption: str

    @property
    def multi(self) -> bool:
        return len(self.series) > 1

    @property
    def legend(self) -> list[tuple[str, str]]:
        return list(zip(self.series, self.colours, strict=True))

    @property
    def empty(self) -> bool:
        return not self.rows


def _number(value: Any) -> float:
    return float(value or 0)


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(
    rows: Sequence[tuple[str, Any] | tuple[str, Sequence[Any]]],
    *,
    caption: str,
    series: Sequence[str] = ("数量",),
    unit: str = "",
    highlight: str | None = None,
    colours: Sequence[str] = (),
) -> Chart:
    """Geometry of a horizontal bar chart of `rows` [(label, value) or (label, [value per series])].

    `highlight` names the label drawn in the alert colour (e.g. the condition that excludes most).
    `colours` names a colour of COLOURS per series (default: the palette in order).
    """
    series = list(series)
    names = [colours[i] if i < len(colours) else PALETTE[i % len(PALETTE)] for i in range(len(series))]
    fills = [COLOURS.get(name, COLOURS["brand"]) for name in names]
    parsed: list[tuple[str, list[float]]] = []
    for label, values in rows:
        numbers = [_number(v) for v in values] if isinstance(values, list | tuple) else [_number(values)]
        parsed.append((str(label), numbers))
    peak = max((v for _, values in parsed for v in values), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    group = len(series) * BAR_HEIGHT + (len(series) - 1) * BAR_GAP
    chart_rows: list[Row] = []
    y = TOP
    for label, values in parsed:
        lit = highlight is not None and label == highlight
        row = Row(label, _shorten(label), values, lit, label_y=y + group / 2 + 5)
        for index, value in enumerate(values):
            top = y + index * (BAR_HEIGHT + BAR_GAP)
            width = max(value / peak * span, 1.5 if value else 0)
            colour = HIGHLIGHT if lit else fills[index % len(fills)]
            bar = Bar(index, value, LABEL_WIDTH, top, round(width, 1), colour, LABEL_WIDTH + width + 6, top + 14)
            bar.percent = round(width / span * 85, 1)  # the longest bar leaves room for its value
            row.bars.append(bar)
        chart_rows.append(row)
        y += group + GROUP_GAP
    return Chart(
        id=f"chart-{next(_ids)}",
        caption=caption,
        series=series,
        rows=chart_rows,
        width=WIDTH,
        height=max(int(y - GROUP_GAP + TOP), 40),
        label_width=LABEL_WIDTH,
        unit=unit,
        colours=fills,
        table_caption=caption,
    )


def value_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
