"""Every fact a rule can test has an input in the 政策计算器 and the golden-case form, and each input
really declares its fact; limits and bad input are named in Chinese on the field."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.utils import timezone

from frontend.fact_inputs import CALCULATOR, GOLDEN, fact_inputs
from frontend.forms import CalculatorForm, GoldenCaseForm
from matching.core.registry import FACTS, ValueType
from matching.core.rules import rule_facts
from matching.core.vocabulary import PARKS, ZONES
from policies.loader import DEFAULT_FILE

ZONE_CHOICES = list(ZONES.items())
PARK_CHOICES = list(PARKS.items())


def catalogue_facts() -> set[str]:
    import json

    entries = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    used: set[str] = set()
    for entry in entries:
        used |= rule_facts(entry["rule"])
    return used


def sample(field: forms.Field) -> Any:
    """A value a visitor could give the input (the first option, a small number, a past date)."""
    if isinstance(field, forms.BooleanField):
        return "1"
    if isinstance(field, forms.MultipleChoiceField):
        return [field.choices[0][0]]
    if isinstance(field, forms.ChoiceField):
        return next(value for value, _ in field.choices if value)
    if isinstance(field, forms.DateField):
        return "2020-01-01"
    return "12"


def calculator(data: dict[str, Any]) -> CalculatorForm:
    return CalculatorForm({"submitted": "1", **data}, zones=ZONE_CHOICES, parks=PARK_CHOICES)


@pytest.mark.parametrize("purpose", [CALCULATOR, GOLDEN])
def test_every_registry_fact_has_an_input(purpose) -> None:
    inputs = fact_inputs(purpose=purpose, zones=ZONE_CHOICES, parks=PARK_CHOICES)

    assert sorted(i.fact for i in inputs) == sorted(FACTS)
    assert len({i.name for i in inputs}) == len(inputs)


def test_the_live_catalogue_uses_only_facts_that_have_inputs() -> None:
    used = catalogue_facts()

    assert "dishonest" in used  # the fact every policy tests, which had no input before
    names = {i.fact for i in fact_inputs(purpose=CALCULATOR, zones=ZONE_CHOICES, parks=PARK_CHOICES)}
    assert used <= names


@pytest.mark.parametrize("fact", sorted(FACTS))
def test_each_calculator_input_declares_its_fact(fact) -> None:
    """Filling only that input makes the fact known to the evaluator (not just present on the page)."""
    item = next(i for i in fact_inputs(purpose=CALCULATOR, zones=ZONE_CHOICES, parks=PARK_CHOICES) if i.fact == fact)
    value = "6513" if item.name == "industry" else sample(item.field)
    form = calculator({item.name: value, "size": "small"} if fact != "size" else {item.name: value})

    assert form.is_valid(), form.errors
    spec = FACTS[fact]
    read = spec.read(form.profile, timezone.localdate())
    assert read is not None
    if spec.type is ValueType.QUALIFICATION:
        assert read.value == (value[0],)


def test_the_dishonest_statement_is_worded_as_the_visitors_own_and_declares_not_listed() -> None:
    form = calculator({"dishonest": "1"})

    assert form.fields["dishonest"].label == "本企业未被列入失信被执行人等失信名单"
    assert form.is_valid()
    assert form.profile.facts["dishonest"].value is False
    assert form.profile.facts["dishonest"].source == "self_declared"
    unticked = calculator({})
    assert unticked.is_valid() and "dishonest" not in unticked.profile.facts  # unknown, not "listed"


@pytest.mark.django_db
def test_a_favourable_profile_is_eligible_for_several_live_policies(client) -> None:
    from policies.loader import load_catalogue

    load_catalogue(path=DEFAULT_FILE)
    query = {
        "submitted": "1",
        "industry": "3973",
        "established_on": "2018-05-01",
        "employees": "80",
        "revenue": "5000",
        "total_assets": "3000",
        "rd_expense_ratio": "8",
        "tax_credit_rating": "A",
        "above_designated_size": "true",
        "foreign_investor_country": "none",
        "zone": "tech_ecology",
        "qualifications": ["high_tech"],
        "dishonest": "1",
    }

    response = client.get("/calculator/", query)

    groups = response.context["groups"]
    assert len(groups["eligible"]) > 1
    assert not any("失信" in r.outcome.summary for r in groups["needs_info"])
    assert ("企业规模", "小型（按行业和填写的指标划型）") in response.context["declared"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"employees": "-5"}, "employees", "从业人员不能为负数"),
        ({"revenue": "-0.5"}, "revenue", "营业收入不能为负数"),
        ({"employees": "3.5"}, "employees", "从业人员必须是整数"),
        ({"employees": "20000000"}, "employees", "从业人员不能超过10000000人"),
        ({"total_assets": "99999999999"}, "total_assets", "资产总额不能超过10000000000万元"),
        ({"rd_expense_ratio": "150"}, "rd_expense_ratio", "研发费用占营业收入比例不能超过100%"),
        ({"established_on": "1700-01-01"}, "established_on", "成立日期不能早于"),
        ({"established_on": "2019-02-30"}, "established_on", "成立日期必须是有效的日期"),
    ],
)
def test_bad_numbers_and_dates_are_named_on_their_field(data, field, message) -> None:
    form = calculator(data)

    assert not form.is_valid()
    assert form.errors[field][0].startswith(message)
    assert form.profile is None


def test_a_future_establishment_date_is_refused() -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)

    form = calculator({"established_on": tomorrow.isoformat()})

    assert form.errors["established_on"] == [f"成立日期不能晚于今天（{timezone.localdate().isoformat()}）"]


@pytest.mark.parametrize("text", ["1e1000000", "9" * 5000, "1E+999999999", "NaN", "Infinity", "12万"])
def test_a_huge_or_odd_number_string_is_refused_at_once(text) -> None:
    started = time.thread_time()  # This thread's CPU time: a loaded machine delays, it does not compute
    form = calculator({"revenue": text})

    assert not form.is_valid()
    assert time.thread_time() - started < 0.5
    assert form.errors["revenue"][0].startswith("营业收入")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("asdfgh", "所属行业未找到该行业“asdfgh”"),
        ("不存在的行业", "所属行业未找到该行业"),
        ("软件公司", "所属行业“软件公司”不是列表中的行业，请从提示中选择一项，例如："),
        ("65", "所属行业请选择到4位行业小类，例如："),
    ],
)
def test_an_industry_not_picked_says_so_and_offers_matches(typed, message) -> None:
    form = calculator({"industry": typed})

    assert not form.is_valid()
    assert form.errors["industry"][0].startswith(message)
    if "例如" in message:
        assert ("6513", "应用软件开发（6513）") in form.suggestions


def test_thousands_separators_are_accepted() -> None:
    form = calculator({"revenue": "1,200.5", "employees": "1,000"})

    assert form.is_valid(), form.errors
    assert str(form.profile.facts["revenue"].value) == "1200.5"
    assert form.profile.facts["employees"].value == 1000


# --- the golden-case form shares the inputs -----------------------------------------------------


def golden(data: dict[str, Any]) -> GoldenCaseForm:
    return GoldenCaseForm({"name": "案例（示例）", "expected": "eligible", **data})


def test_golden_form_writes_every_fact_into_the_profile() -> None:
    form = golden(
        {
            "industry_code": "6520",
            "employees": "80",
            "revenue": "5000.5",
            "total_assets": "3000",
            "rd_expense_ratio": "8.5",
            "established_on": "2018-05-01",
            "size": "small",
            "tax_credit_rating": "A",
            "above_designated_size": "true",
            "dishonest": "false",
            "foreign_investor_country": "none",
            "zone": ["tech_ecology"],
            "parks": ["kjc_ngit_park"],
            "qualifications": ["high_tech"],
            "social_insurance_staff": "72",
            "invention_patents": "6",
            "rd_staff": "18",
            "verified": "on",
        }
    )

    assert form.is_valid(), form.errors
    profile = form.profile()
    assert profile["dishonest"] is False and profile["above_designated_size"] is True
    assert profile["foreign_investor_country"] == ""
    assert profile["revenue"] == 5000.5 and profile["employees"] == 80
    assert profile["sites"] == [{"zone": "tech_ecology", "parks": ["kjc_ngit_park"]}]
    assert profile["sources"] == "department"

    from policies.golden import golden_profile

    built = golden_profile(profile)  # the service's own reading accepts it
    assert {spec.name for spec in FACTS.values() if spec.read(built, timezone.localdate()) is not None} == set(FACTS)


def test_golden_form_refuses_negative_amounts() -> None:
    form = golden({"revenue": "-1", "total_assets": "-2"})

    assert form.errors["revenue"] == ["营业收入不能为负数"]
    assert form.errors["total_assets"] == ["资产总额不能为负数"]


def test_golden_form_round_trips_a_stored_profile() -> None:
    from policies.golden import EXAMPLE_PROFILE

    stored = {k: v for k, v in EXAMPLE_PROFILE.items() if k not in ("qualifications", "sites")}
    stored["sites"] = [{"zone": "tech_ecology", "parks": ["kjc_ngit_park"]}]

    class Case:
        name, expected, on, profile = "例", "eligible", None, stored

    initial = GoldenCaseForm.initial_from(Case)
    assert "profile_json" not in initial
    form = golden({**initial, "name": "例"})
    assert form.is_valid(), form.errors
    assert form.profile() == stored


def test_the_json_example_shown_as_help_is_a_valid_profile() -> None:
    from policies.golden import EXAMPLE_PROFILE, golden_profile

    profile = golden_profile(EXAMPLE_PROFILE)

    assert profile.facts["dishonest"].value is False
    assert set(EXAMPLE_PROFILE) >= {spec.profile_key for spec in FACTS.values() if spec.profile_key}
    assert '"dishonest": false' in GoldenCaseForm.json_example()


@pytest.mark.parametrize("value", [-1, "-3", "1e1000000", 1e308])
def test_golden_json_refuses_negative_and_absurd_amounts(value) -> None:
    from policies.golden import GoldenProfileError, golden_profile

    with pytest.raises(GoldenProfileError) as error:
        golden_profile({"revenue": value})

    assert error.value.field == "revenue"


# --- 用本企业信息试算 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_enterprise_user_prefills_from_its_own_enterprise_only(client) -> None:
    from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory

    own = EnterpriseFactory(name="自家（示例）", industry_code="3973", employees=150, dishonest=False)
    QualificationFactory(enterprise=own)
    other = EnterpriseFactory(name="别家（示例）", industry_code="6513", employees=9, foreign_investor_country="JP")
    client.force_login(EnterpriseUserFactory(enterprise=own))

    page = client.get("/calculator/")
    assert "用本企业信息试算" in page.content.decode()
    response = client.get("/calculator/", {"mine": "1", "credit_code": other.credit_code, "enterprise": other.pk})

    form = response.context["form"]
    assert not form.is_bound and response.context["groups"] is None  # pre-filled, not yet evaluated
    assert response.context["prefilled_from"] == "自家（示例）"
    assert form.initial["industry"] == "集成电路制造（3973）"
    assert form.initial["employees"] == "150"
    assert form.initial["dishonest"] is True
    assert form.initial["qualifications"] == ["high_tech"]
    assert form.initial["foreign_investor_country"] == "none"
    html = response.content.decode()
    assert "别家（示例）" not in html and 'value="9"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_without_an_own_enterprise_there_is_nothing_to_prefill(client, who, staff_editor) -> None:
    from tests.enterprises.factories import EnterpriseFactory

    EnterpriseFactory(name="某家（示例）")
    if who == "staff":
        client.force_login(staff_editor)

    response = client.get("/calculator/", {"mine": "1"})

    assert response.status_code == 200
    assert response.context["form"].initial == {}
    html = response.content.decode()
    assert "用本企业信息试算" not in html and "某家（示例）" not in html
