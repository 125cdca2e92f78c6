"""统一社会信用代码 (GB 32100-2015) with its embedded 组织机构代码 (GB 11714): normalise, check, build (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters; I, O, Z, S, V never occur
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_ALLOWED = frozenset(ALPHABET)
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714 body: 0–9, A=10 … Z=35
_ORG_VALUE = {ch: i for i, ch in enumerate(ORG_ALPHABET)}
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

HUQIU_REGION = "320505"  # 苏州市虎丘区（苏州高新区）
_SPACES = re.compile(r"[\s\u3000-]+")

# Stable error codes → message for people.
MESSAGES: dict[str, str] = {
    "required": "请填写统一社会信用代码",
    "invalid_length": "统一社会信用代码应为18位",
    "invalid_character": "统一社会信用代码含有不允许的字符（不使用I、O、Z、S、V）",
    "invalid_region": "统一社会信用代码第3–8位应为6位数字的行政区划码",
    "invalid_org_check_character": "统一社会信用代码中的组织机构代码（第9–17位）校验码错误",
    "invalid_check_character": "统一社会信用代码校验码（第18位）错误",
}


class CreditCodeError(ValueError):
    """A code that is not a valid 统一社会信用代码; `code` is a stable identifier from MESSAGES."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code
        self.message = MESSAGES[code]


@dataclass(frozen=True, slots=True)
class CreditCode:
    value: str

    @property
    def department(self) -> str:  # 登记管理部门码
        return self.value[0]

    @property
    def category(self) -> str:  # 机构类别码
        return self.value[1]

    @property
    def region(self) -> str:  # 登记管理机关行政区划码
        return self.value[2:8]

    @property
    def organization_code(self) -> str:  # 主体标识码（组织机构代码）
        return self.value[8:17]


def normalise(raw: str | None) -> str:
    """Strip spaces (including full-width ones and hyphens people type) and upper-case."""
    if raw and raw.isascii() and raw.isalnum():
        return raw.upper()  # the usual case, without the regex
    return _SPACES.sub("", raw or "").upper()


def org_check_character(body: str) -> str:
    """GB 11714 check character for the first 8 characters of an organisation code."""
    total = sum(map(mul, map(_ORG_VALUE.__getitem__, body), ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def check_character(first17: str) -> str:
    """GB 32100 check character (position 18) for the first 17 characters."""
    total = sum(map(mul, map(_VALUE.__getitem__, first17), WEIGHTS))
    c = 31 - total % 31
    return ALPHABET[0 if c == 31 else c]


def check(raw: str | None) -> tuple[str, str | None]:
    """(normalised code, error code or None)."""
    code = normalise(raw)
    if not code:
        return code, "required"
    if len(code) != 18:
        return code, "invalid_length"
    if not _ALLOWED.issuperset(code):
        return code, "invalid_character"
    if not code[2:8].isdigit():
        return code, "invalid_region"
    # The organisation code may end in X (GB 11714) while X is also in the GB 32100 alphabet.
    if code[16] != org_check_character(code[8:16]):
        return code, "invalid_org_check_character"
    if code[17] != check_character(code[:17]):
        return code, "invalid_check_character"
    return code, None


def error_for(raw: str | None) -> str | None:
    """The error code for `raw` (after normalising), or None when it is a valid code."""
    return check(raw)[1]


def parse(raw: str | None) -> CreditCode:
    """Normalise and validate; raise CreditCodeError with a stable code otherwise."""
    error = error_for(raw)
    if error:
        raise CreditCodeError(error)
    return CreditCode(normalise(raw))


def is_valid(raw: str | None) -> bool:
    return error_for(raw) is None


def build(*, org_body: str, region: str = HUQIU_REGION, prefix: str = "91") -> str:
    """A valid code from an 8-character organisation-code body (demo data and test factories)."""
    org = org_body + org_check_character(org_body)
    first17 = prefix + region + org
    return first17 + check_character(first17)
