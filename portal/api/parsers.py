"""Request body parsing with limits checked before any work is done.

A few kilobytes of `[[[[…]]]]` make Python's json module recurse until RecursionError (a 500), and a
35-byte number such as `1e1000000` costs seconds of CPU once something converts it to Decimal or
int. Both are refused here, before `json.loads`, with the API's JSON error format: the scan is one
pass over the bytes, so a refusal costs microseconds per kilobyte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON number literal longer than this is refused: no fact or amount the portal stores needs
# more than 40 characters (the registry's bounds apply afterwards, field by field).
MAX_NUMBER_LITERAL = 40
_NUMBER = re.compile(rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


class JSONLimitError(ValueError):
    """The document breaks a structural limit; `code` is the stable code for the API."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def check_json_limits(data: bytes | str, *, max_depth: int | None = None) -> None:
    """Refuse documents nested deeper than `max_depth` or with an over-long number literal.

    Walks the text once, skipping string contents, so it is safe on any input, valid JSON or not.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    limit = max_depth if max_depth is not None else settings.API_JSON_MAX_DEPTH
    depth = 0
    i, n = 0, len(raw)
    in_string = False
    while i < n:
        c = raw[i]
        if in_string:
            if c == 0x5C:  # backslash: skip the escaped character
                i += 2
                continue
            if c == 0x22:
                in_string = False
            i += 1
            continue
        if c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                raise JSONLimitError(f"JSON 嵌套层数超过 {limit} 层", "json_too_deep")
        elif c in (0x5D, 0x7D):
            depth -= 1
        elif c == 0x2D or 0x30 <= c <= 0x39:  # - or a digit: a number literal
            match = _NUMBER.match(raw, i)
            end = match.end() if match else i + 1
            if end - i > MAX_NUMBER_LITERAL:
                raise JSONLimitError(f"数字过长（超过 {MAX_NUMBER_LITERAL} 个字符）", "number_too_long")
            i = end
            continue
        i += 1


def loads_bounded(text: str | bytes, *, max_depth: int | None = None) -> Any:
    """`json.loads` after `check_json_limits`; raises JSONLimitError or json.JSONDecodeError."""
    check_json_limits(text, max_depth=max_depth)
    return json.loads(text)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the depth and number-length limits applied first."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            check_json_limits(raw)
        except JSONLimitError as exc:
            raise ParseError(detail=str(exc), code=exc.code) from exc
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(detail="请求体不是有效的 JSON", code="parse_error") from exc


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them by default.
    raise ValueError(f"{name} is not allowed")
