"""Plain-Chinese wording of conditions and whole rules, as shown on public policy pages."""

from __future__ import annotations

from typing import Any

import pytest

from matching.core.describe import describe_condition, describe_rule
from matching.core.rules import RuleError
from tests.matching.support import cond


@pytest.mark.parametrize(
    ("condition", "wording", "opposite"),
    [
        (cond("industry", "under", ["6520"]), "行业属于：集成电路设计（6520）", "行业不属于：集成电路设计（6520）"),
        (
            cond("industry", "under", ["C", "652", "39"]),
            "行业属于：制造业（C）、集成电路设计（652）、计算机、通信和其他电子设备制造业（39）",
            "行业不属于：制造业（C）、集成电路设计（652）、计算机、通信和其他电子设备制造业（39）",
        ),
        (cond("size", "in", ["small", "micro"]), "企业规模为：小型、微型", "企业规模不为：小型、微型"),
        (cond("size", "not_in", ["large"]), "企业规模不为：大型", "企业规模为：大型"),
        (cond("employees", "gte", 100), "从业人员不少于100人", "从业人员少于100人"),
        (cond("employees", "gt", 100), "从业人员多于100人", "从业人员不超过100人"),
        (cond("employees", "lte", 100), "从业人员不超过100人", "从业人员多于100人"),
        (cond("employees", "lt", 100), "从业人员少于100人", "从业人员不少于100人"),
        (
            cond("employees", "between", [10, 100]),
            "从业人员在10人至100人之间（含本数）",
            "从业人员少于10人或多于100人",
        ),
        (cond("revenue", "gte", 2000), "营业收入不低于2000万元", "营业收入低于2000万元"),
        (cond("total_assets", "lt", 12000.5), "资产总额低于12000.5万元", "资产总额不低于12000.5万元"),
        (cond("rd_expense_ratio", "gte", 3), "研发费用占营业收入比例不低于3%", "研发费用占营业收入比例低于3%"),
        (cond("age_years", "lt", 3), "成立年限不满3年", "成立年限不少于3年"),
        (cond("age_years", "gt", 1), "成立年限超过1年", "成立年限不超过1年"),
        (cond("qualification", "has", "high_tech"), "持有有效的高新技术企业资质", "未持有有效的高新技术企业资质"),
        (
            cond("qualification", "has", "little_giant"),
            "持有有效的专精特新“小巨人”企业资质",
            "未持有有效的专精特新“小巨人”企业资质",
        ),
        (
            cond("zone", "in", ["business_innovation", "new_zone"]),
            "经营场所位于：商务创新功能区、new_zone",
            "经营场所均不位于：商务创新功能区、new_zone",
        ),
        (
            cond("park", "in", ["medical_device_park"]),
            "经营场所位于：江苏医疗器械科技产业园",
            "经营场所均不位于：江苏医疗器械科技产业园",
        ),
        (cond("tax_credit_rating", "in", ["A", "B"]), "纳税信用等级为：A级、B级", "纳税信用等级不为：A级、B级"),
        (cond("tax_credit_rating", "not_in", ["D"]), "纳税信用等级不为：D级", "纳税信用等级为：D级"),
        (cond("dishonest", "eq", False), "未被列为失信主体", "被列为失信主体"),
        (cond("dishonest", "eq", True), "被列为失信主体", "未被列为失信主体"),
        (cond("above_designated_size", "eq", True), "属于规模以上企业", "不属于规模以上企业"),
        (
            cond("foreign_investor_country", "in", ["JP", "XK"]),
            "外资来源国（地区）为：日本、XK",
            "外资来源国（地区）不为：日本、XK",
        ),
    ],
)
def test_condition_wording(condition: dict[str, Any], wording: str, opposite: str) -> None:
    assert describe_condition(condition) == wording
    assert describe_condition(condition, negated=True) == opposite
    assert describe_rule({"not": condition}) == [opposite]


def test_a_whole_rule_one_line_per_requirement() -> None:
    rule = {
        "all": [
            cond("industry", "under", ["6520", "3973"]),
            {
                "any": [
                    cond("qualification", "has", "high_tech"),
                    {
                        "all": [
                            cond("qualification", "has", "tech_sme"),
                            {"any": [cond("rd_expense_ratio", "gte", 5), cond("employees", "lt", 50)]},
                        ]
                    },
                ]
            },
            {"not": {"any": [cond("dishonest", "eq", True), cond("tax_credit_rating", "in", ["C", "D"])]}},
            {"all": [cond("age_years", "lt", 3)]},
        ]
    }

    assert describe_rule(rule) == [
        "行业属于：集成电路设计（6520）、集成电路制造（3973）",
        "满足以下任一项：①持有有效的高新技术企业资质；"
        "②持有有效的科技型中小企业资质，且（研发费用占营业收入比例不低于5%，或从业人员少于50人）",
        "未被列为失信主体",  # not(any[…]) reads as each opposite, one line each
        "纳税信用等级不为：C级、D级",
        "成立年限不满3年",
    ]


def test_a_top_level_any_and_a_negated_all() -> None:
    assert describe_rule({"any": [cond("zone", "in", ["tech_ecology"]), cond("park", "in", ["hefeng_park"])]}) == [
        "满足以下任一项：①经营场所位于：科技生态功能区；②经营场所位于：和枫科创园"
    ]
    assert describe_rule({"not": {"all": [cond("size", "in", ["large"]), cond("employees", "gte", 1000)]}}) == [
        "满足以下任一项：①企业规模不为：大型；②从业人员少于1000人"
    ]


def test_invalid_input_is_refused() -> None:
    with pytest.raises(RuleError):
        describe_rule({"all": []})
    with pytest.raises(RuleError) as caught:
        describe_condition({"all": [cond("size", "in", ["small"])]})
    assert caught.value.code == "malformed_node"
