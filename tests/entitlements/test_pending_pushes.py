"""The needs_info push says what it waits for: facts to supply (to the profile page) and, apart,
commitments and judgements no data decides (to the policy page), never asking to 补充 those."""

from __future__ import annotations

from types import SimpleNamespace

from portal.entitlements.services import _needs_info_spec, _unknown_conditions

RULE = {
    "all": [
        {"fact": "employees", "op": "gte", "value": 10},
        {"attest": "近三年无重大安全生产事故"},
        {"judge": "属于行业领先企业", "department": "区工业和信息化局"},
    ]
}
VERSION = SimpleNamespace(pk=7, policy_id=3, title="示例政策（示例）")


def test_the_letters_pick_the_conditions() -> None:
    assert _unknown_conditions(RULE, "UAJ") == ["从业人员不少于10人"]
    assert _unknown_conditions(RULE, "MAJ", letters="AJ") == [
        "企业承诺：近三年无重大安全生产事故",
        "经区工业和信息化局认定：属于行业领先企业",
    ]


def test_only_commitments_left_sends_to_the_policy_page() -> None:
    spec = _needs_info_spec(VERSION, 1, "k", [], _unknown_conditions(RULE, "MAJ", letters="AJ"))
    assert spec.title == "需承诺或认定：示例政策（示例）"
    assert "近三年无重大安全生产事故" in spec.body and "补充" not in spec.body
    assert spec.link == "/policies/3/"


def test_missing_facts_and_commitments_say_both_apart() -> None:
    spec = _needs_info_spec(
        VERSION, 1, "k", _unknown_conditions(RULE, "UAJ"), _unknown_conditions(RULE, "UAJ", letters="AJ")
    )
    assert spec.title == "补充信息即可判断：示例政策（示例）"
    assert spec.body.startswith("还需要以下信息才能判断贵企业是否符合“示例政策（示例）”：从业人员不少于10人。")
    assert "另有以下条件没有部门数据可以核验" in spec.body and "属于行业领先企业" in spec.body
    assert spec.link == "/workspace/profile/"
