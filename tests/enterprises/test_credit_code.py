"""统一社会信用代码 (GB 32100-2015) and its embedded 组织机构代码 (GB 11714), checked against the standard.

The reference arithmetic below is written from the text of the standard (reference facts §2), not
copied from the module under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.enterprises import credit_code as cc

# From the standard.
ALPHABET_31 = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS_17 = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS_8 = [3, 7, 9, 10, 5, 8, 4, 2]
PUBLIC_CODES = ["914403001922038216", "9144030071526726XG", "91110108551385082Q"]


def org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10  # A=10 … Z=35


def reference_org_check(body8: str) -> str:
    c = 11 - sum(org_value(ch) * w for ch, w in zip(body8, ORG_WEIGHTS_8, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def reference_check(first17: str) -> str:
    c = 31 - sum(ALPHABET_31.index(ch) * w for ch, w in zip(first17, WEIGHTS_17, strict=True)) % 31
    return ALPHABET_31[0 if c == 31 else c]


def test_weights_are_powers_of_three_mod_31() -> None:
    assert [pow(3, i, 31) for i in range(17)] == WEIGHTS_17
    assert list(cc.WEIGHTS) == WEIGHTS_17


@pytest.mark.parametrize("code", PUBLIC_CODES)
def test_public_codes_pass_both_checks(code: str) -> None:
    assert cc.error_for(code) is None
    assert reference_org_check(code[8:16]) == code[16]
    assert reference_check(code[:17]) == code[17]


@pytest.mark.parametrize("code", PUBLIC_CODES)
def test_every_single_character_change_is_caught(code: str) -> None:
    for position in range(18):
        for replacement in ALPHABET_31:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            assert cc.error_for(changed) is not None, changed


def test_org_check_of_ten_is_x() -> None:
    # 9144030071526726XG: the embedded organisation code 71526726X ends in X (c = 10).
    assert reference_org_check("71526726") == "X"
    assert cc.org_check_character("71526726") == "X"


def test_org_check_of_eleven_is_zero() -> None:
    # Σ = 0 → c = 11 − 0 = 11 → "0".
    assert cc.org_check_character("00000000") == "0"


def test_check_of_thirty_one_is_zero() -> None:
    # Σ ≡ 0 (mod 31) → c = 31 → "0".
    assert cc.check_character("0" * 17) == "0"
    assert cc.error_for("0" * 18) is None


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        (" 9111 0108 5513 8508 2q ", "91110108551385082Q"),
        ("9144030071526726xg", "9144030071526726XG"),
        ("914403\u3000001922038216", "914403001922038216"),  # a full-width space
        ("9144-0300-1922-0382-16", "914403001922038216"),
    ],
)
def test_typed_codes_are_normalised_then_checked(typed: str, normalised: str) -> None:
    assert cc.normalise(typed) == normalised
    assert cc.parse(typed).value == normalised


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "required"),
        (None, "required"),
        ("91110108551385082", "invalid_length"),
        ("91110108551385082QQ", "invalid_length"),
        ("91110108551385O82Q", "invalid_character"),  # O never occurs
        ("9111010855138508IQ", "invalid_character"),  # nor I
        ("91110108551385082S", "invalid_character"),  # nor S
        ("91A10108551385082Q", "invalid_region"),
        ("91110108551385083Q", "invalid_org_check_character"),
        ("91110108551385082R", "invalid_check_character"),
    ],
)
def test_errors_have_stable_codes(raw: str | None, error: str) -> None:
    assert cc.error_for(raw) == error
    with pytest.raises(cc.CreditCodeError) as info:
        cc.parse(raw)
    assert info.value.code == error
    assert info.value.message == cc.MESSAGES[error]


def test_parts_of_a_code() -> None:
    code = cc.parse("9144030071526726XG")
    assert (code.department, code.category, code.region, code.organization_code) == ("9", "1", "440300", "71526726X")


@given(
    prefix=st.sampled_from(["91", "92", "93"]),
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
    body=st.text(alphabet=ALPHABET_31, min_size=8, max_size=8),
)
def test_built_codes_match_the_reference_arithmetic(prefix: str, region: str, body: str) -> None:
    code = cc.build(org_body=body, region=region, prefix=prefix)
    first17 = prefix + region + body + reference_org_check(body)
    assert code == first17 + reference_check(first17)
    assert cc.error_for(code) is None
