"""One fact, one definition: every place derived from the registry knows every fact.

Walks matching.core.registry.FACTS and checks each derived place (the projection and its model, the
SQL column map, the enterprise register's columns, feed parsers, department ownership and column
aliases, the API input, the workspace profile form, the calculator and its form, golden cases and
their form, demo and benchmark data, the property tests' strategies). A fact added to the registry
with a place left behind fails here, naming the fact and the place.

Then the three counts added as one definition each (社保缴纳人数, 有效发明专利数, 研发人员数) are
used end to end: a department file, the register, the projection, both matching paths, the
calculator and a golden case.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.db import models

from devtools.bench import district as benchdata
from devtools.demo import enterprises as demo
from frontend.fact_inputs import CALCULATOR, GOLDEN, fact_inputs
from frontend.forms import FACT_FORM_FIELDS, GoldenCaseForm
from matching.core.calculator import FIELDS, profile_from_declared
from matching.core.evaluator import compile_rule
from matching.core.projection import PROJECTION_COLUMNS, SCALAR_COLUMNS
from matching.core.reading import FILE_NUMBER, TYPED_NUMBER, Channel, Widget
from matching.core.registry import FACTS, FactSpec, ValueType, scalar_facts, stored_facts
from matching.core.sql import Tables, compile_rule_sql
from matching.core.vocabulary import DEPARTMENT_SOURCES
from matching.models import MatchProfile
from policies.golden import DEPARTMENT_OF_FACT, EXAMPLE_PROFILE, golden_profile
from portal.enterprises.api import EnterpriseDetailOutput, FactsInput
from portal.enterprises.facts import DEPARTMENT_FACTS, PARSERS, FieldError
from portal.enterprises.feed_files import column_key, field_label
from portal.enterprises.models import FACT_FIELDS, Enterprise
from tests.matching.strategies import FACT_CONDITIONS, SCALAR_VALUES

NEW_COUNTS = ("social_insurance_staff", "invention_patents", "rd_staff")
ON = date(2026, 6, 30)
TABLES = Tables(profile="mp", qualification="q", site="s", township="t", zone="z", site_parks="sp", park="k")
# A value a rule may hold, per operator (lists per value type below).
RULE_VALUES: dict[str, Any] = {"gte": 3, "gt": 3, "lte": 3, "lt": 3, "between": [1, 3], "eq": True}
LIST_VALUES: dict[ValueType, Any] = {
    ValueType.INDUSTRY: ["65"],
    ValueType.CHOICE: None,  # the first of the fact's choices
    ValueType.PLACE: ["tech_ecology"],
    ValueType.COUNTRY: ["JP"],
    ValueType.QUALIFICATION: "high_tech",
}


def rule_value(spec: FactSpec, op: str) -> Any:
    if spec.type is ValueType.CHOICE:
        return [next(iter(spec.choices))]
    if spec.type in LIST_VALUES:
        return LIST_VALUES[spec.type]
    return RULE_VALUES[op]


def every_fact() -> list[str]:
    return list(FACTS)


def every_stored() -> list[str]:
    return [spec.name for spec in stored_facts()]


def every_scalar() -> list[str]:
    return [spec.name for spec in scalar_facts()]


# --- the definition itself --------------------------------------------------------------------------


@pytest.mark.parametrize("name", every_stored())
def test_a_stored_fact_names_the_departments_that_share_it(name: str) -> None:
    spec = FACTS[name]
    assert spec.shared_by, name
    assert set(spec.shared_by) <= DEPARTMENT_SOURCES, name
    assert spec.golden_department in DEPARTMENT_SOURCES, name
    assert spec.example is not None, name


def test_each_channel_reads_numbers_its_own_way() -> None:
    # A spreadsheet writes big figures with an exponent; a person typing is asked for plain digits.
    assert FILE_NUMBER.text("1.23E+5") == "1.23E+5"
    assert TYPED_NUMBER.text("1.23E+5") is None
    assert FILE_NUMBER.text("1,234") == "1234"
    assert TYPED_NUMBER.text("1，234") == "1234"
    for syntax in (FILE_NUMBER, TYPED_NUMBER):
        assert syntax.text("1e1000000") is None
        assert syntax.text("9" * 41) is None
        assert syntax.text("12万") is None
    for spec in FACTS.values():
        if spec.type in (ValueType.INTEGER, ValueType.NUMBER):
            assert spec.syntax(Channel.TYPED) is TYPED_NUMBER and spec.syntax(Channel.FILE) is FILE_NUMBER


# --- the pure core's derived places -----------------------------------------------------------------


@pytest.mark.parametrize("name", every_scalar())
def test_the_projection_and_its_model_have_a_column_and_flag_for_every_scalar_fact(name: str) -> None:
    spec = FACTS[name]
    column, (key, fact_name, _kinds, flag) = spec.profile_key, SCALAR_COLUMNS[spec.profile_key]
    assert (key, fact_name, flag) == (spec.profile_key, name, spec.flag_column)
    assert {column, flag} <= set(PROJECTION_COLUMNS)
    field = MatchProfile._meta.get_field(column)
    assert field.null, name  # NULL is unknown
    expected: type[models.Field] = {
        ValueType.INTEGER: models.DecimalField,
        ValueType.NUMBER: models.DecimalField,
        ValueType.BOOLEAN: models.BooleanField,
    }.get(spec.type, models.CharField)
    if spec.profile_key == "established_on":
        expected = models.DateField
    assert isinstance(field, expected), (name, field)
    assert isinstance(MatchProfile._meta.get_field(flag), models.BooleanField)


@pytest.mark.parametrize(("name", "op"), [(spec.name, op) for spec in FACTS.values() for op in spec.operators])
def test_the_sql_compiler_knows_every_fact_and_operator(name: str, op: str) -> None:
    spec = FACTS[name]
    compiled = compile_rule_sql({"fact": name, "op": op, "value": rule_value(spec, op)}, tables=TABLES, on=ON)
    assert compiled.condition_count == 1
    if spec.profile_key:  # a scalar fact reads its projection column and flag
        assert f"p.{spec.profile_key}" in compiled.truth
        assert f"p.{spec.flag_column}" in compiled.verified_true


@pytest.mark.parametrize("name", every_scalar())
def test_the_calculator_accepts_every_scalar_fact(name: str) -> None:
    spec = FACTS[name]
    assert spec.profile_key in FIELDS
    profile = profile_from_declared({spec.profile_key: spec.example}, on=ON)
    assert spec.read(profile, ON) is not None, name


@pytest.mark.parametrize("purpose", [CALCULATOR, GOLDEN])
def test_the_calculator_and_golden_case_forms_have_an_input_for_every_fact(purpose: str) -> None:
    inputs = fact_inputs(purpose=purpose, zones=[("tech_ecology", "科技生态功能区")], parks=[])  # type: ignore[arg-type]
    assert sorted(i.fact for i in inputs) == sorted(FACTS)
    for item in inputs:  # each input is the widget the fact's definition asks for
        spec = FACTS[item.fact]
        if spec.input_widget is Widget.NUMBER:
            expected = "numeric" if spec.type is ValueType.INTEGER else "decimal"
            assert item.field.widget.attrs["inputmode"] == expected, item.fact
        if spec.input_widget is Widget.DATE:
            assert isinstance(item.field, forms.DateField), item.fact


@pytest.mark.parametrize("name", every_scalar())
def test_golden_cases_know_every_scalar_fact(name: str) -> None:
    spec = FACTS[name]
    assert spec.profile_key in EXAMPLE_PROFILE and spec.profile_key in DEPARTMENT_OF_FACT
    profile = golden_profile(EXAMPLE_PROFILE)
    fact = profile.facts[spec.profile_key]
    # "sources": "department" credits a department that the registry counts as verifying the fact.
    assert spec.is_verified(fact), name


def test_the_golden_case_form_reads_and_writes_the_new_counts() -> None:
    data = {"name": "案例", "expected": "eligible", **dict.fromkeys(NEW_COUNTS, "12")}
    form = GoldenCaseForm(data)
    assert form.is_valid(), form.errors
    profile = form.profile()
    assert {key: profile[key] for key in NEW_COUNTS} == dict.fromkeys(NEW_COUNTS, 12)
    case = type("Case", (), {"name": "案例", "expected": "eligible", "on": None, "profile": profile})()
    initial = GoldenCaseForm.initial_from(case)
    assert "profile_json" not in initial
    assert {key: initial[key] for key in NEW_COUNTS} == dict.fromkeys(NEW_COUNTS, "12")


# --- the register, feeds, the API and the workspace -------------------------------------------------


@pytest.mark.parametrize("name", every_stored())
def test_the_enterprise_register_has_a_column_for_every_stored_fact(name: str) -> None:
    spec = FACTS[name]
    assert spec.profile_key in FACT_FIELDS
    field = Enterprise._meta.get_field(spec.profile_key)
    assert field.null or field.has_default(), name
    stored = spec.stored
    assert stored is not None
    if spec.profile_key == "established_on":
        assert isinstance(field, models.DateField)
    elif spec.type is ValueType.INTEGER:
        assert isinstance(field, models.PositiveIntegerField)
        assert field.verbose_name == spec.title
    elif spec.type is ValueType.NUMBER:
        assert isinstance(field, models.DecimalField)
        assert (field.max_digits, field.decimal_places) == (stored.digits, stored.places)
        assert field.verbose_name == spec.title
    elif spec.type is ValueType.BOOLEAN:
        assert isinstance(field, models.BooleanField)
    else:
        assert isinstance(field, models.CharField)
    assert set(FACT_FIELDS) == {s.profile_key for s in stored_facts()}


@pytest.mark.parametrize("name", every_stored())
def test_feeds_parse_own_and_name_every_stored_fact(name: str) -> None:
    spec = FACTS[name]
    key = spec.profile_key
    assert key in PARSERS
    if spec.example != "":  # a blank cell is "not given" in a feed
        assert PARSERS[key](spec.example) is not None
    owners = {department for department, keys in DEPARTMENT_FACTS.items() if key in keys}
    assert owners == set(spec.shared_by), name
    # A spreadsheet column is found by the fact's code, its column title and each of its aliases.
    for title in (key, str(Enterprise._meta.get_field(key).verbose_name), *spec.aliases):
        assert column_key(title) == key, (name, title)
    assert field_label(key)


@pytest.mark.parametrize("name", every_stored())
def test_the_api_takes_and_shows_every_stored_fact(name: str) -> None:
    key = FACTS[name].profile_key
    assert key in FactsInput().fields
    assert key in EnterpriseDetailOutput.Meta.fields


@pytest.mark.parametrize("name", every_stored())
def test_the_profile_form_offers_every_stored_fact_an_enterprise_may_declare(name: str) -> None:
    spec = FACTS[name]
    assert (spec.profile_key in FACT_FORM_FIELDS) is spec.profile_form
    # Left out on purpose: findings only a department makes.
    assert spec.profile_form or name in ("dishonest", "foreign_investor_country")


def test_counts_are_read_by_the_file_syntax_and_bounded_by_the_column() -> None:
    for name in NEW_COUNTS:
        assert PARSERS[name]("1.2E+2") == 120
        assert PARSERS[name]("1,200") == 1200
        with pytest.raises(FieldError) as refused:
            PARSERS[name]("-1")
        assert refused.value.code == "min_value"
        with pytest.raises(FieldError):
            PARSERS[name]("1e1000000")


# --- demo and benchmark data, property-test strategies ---------------------------------------------


def test_demo_data_gives_every_stored_fact_values() -> None:
    items = demo.demo_enterprises()
    for spec in stored_facts():
        key = spec.profile_key

        def value(item: demo.DemoEnterprise, key: str = key) -> Any:
            return item.generated[key] if key in item.generated else getattr(item, key)

        assert any(value(item) not in (None, "") for item in items), spec.name
    # Generated facts are sample values only: the draws never disturb the hand-tuned demo figures.
    assert demo.demo_enterprises()[5].generated == items[5].generated


def test_benchmark_data_gives_every_stored_fact_a_department() -> None:
    assert set(benchdata.FACT_DEPARTMENT) == set(FACT_FIELDS)
    assert set(benchdata.GENERATED_COLUMNS) <= set(FACT_FIELDS)


def test_the_property_tests_draw_every_fact() -> None:
    # The strategies that hold the evaluator, the SQL path and the incremental path equal.
    assert set(FACT_CONDITIONS) == set(FACTS)
    assert set(SCALAR_VALUES) == {spec.profile_key for spec in scalar_facts()}


# --- the three new counts, end to end ---------------------------------------------------------------


def test_the_new_counts_are_worded_and_evaluated() -> None:
    rule = {
        "all": [
            {"fact": "social_insurance_staff", "op": "gte", "value": 10},
            {"fact": "invention_patents", "op": "gte", "value": 1},
            {"fact": "rd_staff", "op": "between", "value": [3, 100]},
        ]
    }
    compiled = compile_rule(rule)
    profile = profile_from_declared({"social_insurance_staff": "12", "invention_patents": 2, "rd_staff": "3"}, on=ON)
    outcome = compiled.evaluate(profile, on=ON)
    assert outcome.status == "eligible" and not outcome.verified
    assert FACTS["invention_patents"].wording("gte", 1) == "有效发明专利数不少于1件"
    assert FACTS["rd_staff"].display(3, ON) == "3人"
    short = profile_from_declared({"social_insurance_staff": "9"}, on=ON)
    assert compiled.evaluate(short, on=ON).status == "ineligible"


def test_golden_cases_check_rules_on_the_new_counts() -> None:
    from policies.golden import GoldenInput, golden_check_cases

    rule = {
        "any": [
            {"fact": "invention_patents", "op": "gte", "value": 1},
            {"fact": "rd_staff", "op": "gte", "value": 10},
        ]
    }
    cases = [
        GoldenInput("专利", {"invention_patents": 2, "sources": "department"}, "eligible"),
        GoldenInput("无专利、研发人员少", {"invention_patents": 0, "rd_staff": 3}, "ineligible"),
        GoldenInput("未知", {"social_insurance_staff": 50}, "needs_info"),
        GoldenInput("负数", {"rd_staff": -1}, "ineligible"),
    ]
    results = golden_check_cases(rule=rule, effective_from=date(2026, 1, 1), effective_to=None, cases=cases, today=ON)
    assert [r.passed for r in results] == [True, True, True, False]
    assert results[3].actual == "invalid_profile"


@pytest.mark.django_db
def test_a_department_file_with_the_new_counts_reaches_both_matching_paths(tmp_path) -> None:
    from django.core.management import call_command

    from matching.models import MatchRecord
    from matching.services import enterprise_match, match_profiles_refresh, policy_version_match
    from tests.enterprises.factories import EnterpriseFactory
    from tests.matching.db_support import publish_version

    enterprise = EnterpriseFactory()
    rows = [
        ["统一社会信用代码", "数据日期", "参保人数", "研发人员"],
        [enterprise.credit_code, "2026-01-31", "1.2E+2", "30"],
    ]
    path = tmp_path / "税务.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8-sig")
    out = io.StringIO()
    # 研发人员 is science and technology's: the tax bureau's file may not set it.
    call_command("import_feed", "--source", "tax", str(path), stdout=out)
    assert "1 rejected" in out.getvalue() and "not_owned" in out.getvalue()
    path.write_text("\n".join(",".join(r[:3]) for r in rows), encoding="utf-8-sig")
    call_command("import_feed", "--source", "tax", str(path), stdout=io.StringIO())
    enterprise.refresh_from_db()
    assert enterprise.social_insurance_staff == 120
    assert enterprise.fact_source("social_insurance_staff") == "tax"

    rule = {"fact": "social_insurance_staff", "op": "gte", "value": 100}
    version = publish_version(rule)
    match_profiles_refresh()
    assert MatchProfile.objects.get(enterprise=enterprise).social_insurance_staff == Decimal(120)
    policy_version_match(version_id=version.pk, on=ON)  # the SQL path
    record = MatchRecord.objects.get(enterprise=enterprise, policy_version=version)
    assert (record.outcome, record.verified) == ("eligible", True)

    enterprise.social_insurance_staff = 99
    enterprise.save(update_fields=["social_insurance_staff"])
    enterprise_match(enterprise_id=enterprise.pk, on=ON)  # the incremental (pure evaluator) path
    record.refresh_from_db()
    assert record.outcome == "ineligible"
