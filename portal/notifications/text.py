"""Notice wording helpers: sentences that end properly and never run into each other."""

from __future__ import annotations

# A part that already ends a sentence (possibly inside closing quotes or brackets) gets no extra 。.
_TERMINAL = "。！？!?"
_CLOSERS = "”’」）)"
# A trailing clause mark is replaced: "……；" followed by another sentence would read as a run-on.
_CLAUSE = "，,；;：:、"


def sentence(text: str) -> str:
    """`text` stripped and ending with a full stop (。) unless it already ends a sentence; "" stays ""."""
    text = (text or "").strip()
    if not text:
        return ""
    core = text.rstrip(_CLOSERS)
    if core and core[-1] in _TERMINAL:
        return text
    if text[-1] in _CLAUSE:
        text = text[:-1].rstrip()
    return text + "。"


def sentences(*parts: str) -> str:
    """Join parts into one paragraph, each a proper sentence; empty parts are left out."""
    return "".join(s for s in (sentence(p) for p in parts) if s)
