"""Colour contrast of the stylesheet's palette (WCAG 2.1): text >= 4.5:1 on the background it is drawn on.

Read from frontend/static/frontend/site.css itself: every rule that sets both a text colour and a background,
every palette colour used for text on the page or on a card, and the focus ring (3:1, a graphic).
"""

from __future__ import annotations

import re

from django.conf import settings

CSS = (settings.BASE_DIR / "frontend" / "static" / "frontend" / "site.css").read_text(encoding="utf-8")


def palette(css: str) -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", css, re.S)
    assert root, "site.css has no :root palette"
    return dict(re.findall(r"--([\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\b", root.group(1)))


def hex_colour(value: str, colours: dict[str, str]) -> str | None:
    """#abc, #aabbcc or var(--name) from the palette; None for anything else (inherit, transparent, none)."""
    value = value.strip()
    if m := re.fullmatch(r"var\(--([\w-]+)\)", value):
        return colours[m.group(1)]
    return value if re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value) else None


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, {property: value}) of each flat rule; @media blocks are flattened, comments dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@media[^{]*\{", "", css)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {name.strip(): value.strip() for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)}
        found.append((selector.strip(), declarations))
    return found


COLOURS = palette(CSS)
RULES = rules(CSS)


def test_the_contrast_formula() -> None:
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the usual just-passing grey
    assert contrast("#777777", "#ffffff") < 4.5


def test_the_parser_reads_the_palette_and_the_rules() -> None:
    assert {"ink", "muted", "bg", "card", "brand", "brand-dark", "ok", "warn", "bad", "focus"} <= COLOURS.keys()
    pairs = [(sel, d) for sel, d in RULES if "color" in d and "background" in d]
    assert any(sel == ".badge-self" for sel, _ in pairs)
    assert len(pairs) >= 10


def test_text_on_its_own_background_in_every_rule() -> None:
    """Badges, alerts, buttons, the header, highlighted navigation: each rule's colour on its background."""
    failing = []
    checked = 0
    for selector, declarations in RULES:
        background = declarations.get("background") or declarations.get("background-color")
        fg = hex_colour(declarations.get("color", ""), COLOURS)
        bg = hex_colour(background or "", COLOURS)
        if fg and bg:
            checked += 1
            if contrast(fg, bg) < 4.5:
                failing.append(f"{selector}: {fg} on {bg} = {contrast(fg, bg):.2f}")
    assert checked >= 10
    assert failing == []


def test_every_text_colour_on_the_page_and_card_backgrounds() -> None:
    """Any palette colour used as `color:` (muted notes, status words, links) on the page and on a card,
    and on the table header; white text (the header, buttons) on every brand or alert fill."""
    used = (re.fullmatch(r"var\(--([\w-]+)\)", d.get("color", "")) for _, d in RULES)
    text_colours = {m.group(1) for m in used if m}
    assert {"ink", "muted", "brand-dark", "ok", "warn", "bad"} <= text_colours
    failing = [
        f"--{name} on --{background}: {contrast(COLOURS[name], COLOURS[background]):.2f}"
        for name in sorted(text_colours - {"on-brand"})
        for background in ("bg", "card", "th")
        if contrast(COLOURS[name], COLOURS[background]) < 4.5
    ]
    failing += [
        f"--on-brand on --{fill}: {contrast(COLOURS['on-brand'], COLOURS[fill]):.2f}"
        for fill in ("brand", "brand-dark", "bad")
        if contrast(COLOURS["on-brand"], COLOURS[fill]) < 4.5
    ]
    assert failing == []


def test_the_focus_ring_stands_out() -> None:
    """A focus ring is a graphic: 3:1 against the page, a card and (the amber one) the blue header."""
    for background in ("bg", "card"):
        assert contrast(COLOURS["focus"], COLOURS[background]) >= 3
    for background in ("brand", "brand-dark"):
        assert contrast(COLOURS["focus-on-brand"], COLOURS[background]) >= 3
    assert ":focus-visible { outline: 3px solid var(--focus)" in CSS
    assert ".site-header :focus-visible { outline-color: var(--focus-on-brand); }" in CSS
