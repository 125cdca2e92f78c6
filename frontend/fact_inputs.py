"""Form inputs for the registry's facts, shared by the 政策计算器 and the console's golden-case form.

Every fact in matching.core.registry.FACTS gets one input, chosen by its value type and labelled,
bounded and worded by the registry, so a fact a rule can test can also be typed in. A fact of a
value type this module does not know gets no input, and tests/frontend/test_fact_inputs.py fails:
a new fact cannot go live with no way to declare it.

Inputs parse only; the limits are checked by matching.core.calculator (the same code as the API), so
the page and the API refuse the same things with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django import forms

from matching.core.profile import EnterpriseProfile
from matching.core.reading import Widget
from matching.core.registry import FACTS, FactSpec, ValueType, format_number
from portal.enterprises import industries

Purpose = Literal["calculator", "golden"]
CALCULATOR: Purpose = "calculator"
GOLDEN: Purpose = "golden"


def industry_label(code: str) -> str:
    """An industry code as its name with the code (the code alone when unknown)."""
    name = industries.industry_name(code)
    return f"{name}（{code}）" if name else code


_ORDER = (
    "industry",
    "age_years",
    "employees",
    "revenue",
    "total_assets",
    "rd_expense_ratio",
    "size",
    "tax_credit_rating",
    "above_designated_size",
    "foreign_investor_country",
)
NO_FOREIGN_CAPITAL = "none"  # the country input's option for "无外资" ("" is 不填, i.e. unknown)
_DATE_WIDGET = {"type": "date"}


class StatementCheckbox(forms.CheckboxInput):
    """A checkbox that is ticked or not: "true" / "false" / "on" as the submitted value all mean ticked.

    (Django's CheckboxInput reads a submitted "false" as unticked; this one sends "1".)
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"value": "1", **(attrs or {})})

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        return data.get(name) not in (None, "", "0", "false", "False")


@dataclass(frozen=True, slots=True)
class FactInput:
    """One form input: the registry fact it declares, the form field's name and the field itself."""

    fact: str
    name: str
    field: forms.Field


def _number_field(spec: FactSpec) -> forms.Field:
    integer = spec.type is ValueType.INTEGER
    # The fact's own example (its definition), so a percentage is not explained with 3000.
    example = f"如 {format_number(spec.example)}" if spec.example is not None else "如 120" if integer else "如 3.5"
    # Text, not <input type="number">: a browser empties a number input it cannot parse ("1e1000000",
    # "12万") and the visitor would get a silent nothing; here every typed text reaches the check.
    return forms.CharField(
        label=f"{spec.label}（{spec.unit}）" if spec.unit else spec.label,
        required=False,
        max_length=64,
        help_text=f"填写数字（{example}）",
        error_messages={"max_length": f"{spec.label}填写的内容过长，请填写普通写法的数字（{example}）"},
        widget=forms.TextInput(attrs={"inputmode": "numeric" if integer else "decimal", "autocomplete": "off"}),
    )


def _choice_field(spec: FactSpec, *, purpose: Purpose) -> forms.Field:
    if spec.name == "size" and purpose == CALCULATOR:
        return forms.ChoiceField(
            label=spec.label,
            required=False,
            choices=[("", "按行业和填写的指标自动划型"), *spec.choices.items()],
            help_text="不选时，按行业、从业人员、营业收入、资产总额依《统计上大中小微型企业划分办法（2017）》划型",
        )
    return forms.ChoiceField(label=spec.label, required=False, choices=[("", "不填"), *spec.choices.items()])


def _boolean_field(spec: FactSpec, *, purpose: Purpose) -> forms.Field:
    if purpose == CALCULATOR and spec.statement:
        # Only the visitor can vouch for it here: ticking is their statement; unticked stays unknown.
        return forms.BooleanField(
            label=spec.statement,
            required=False,
            widget=StatementCheckbox(),
            help_text="不勾选时按“未知”处理，相关政策显示为需补充信息",
        )
    return forms.ChoiceField(
        label=spec.ask,
        required=False,
        choices=[("", "不填"), ("false", spec.phrases["false"]), ("true", spec.phrases["true"])],
    )


def _input(
    spec: FactSpec, *, purpose: Purpose, zones: Sequence[tuple[str, str]], parks: Sequence[tuple[str, str]]
) -> FactInput | None:
    widget = spec.input_widget  # from the fact's definition (its value type's usual input unless it says)
    if widget is Widget.INDUSTRY:
        if purpose == CALCULATOR:
            field: forms.Field = forms.CharField(
                label=spec.label,
                required=False,
                max_length=120,
                help_text="输入行业名称或代码（如“应用软件开发”或 6513），从提示中选择",
                error_messages={"max_length": "所属行业填写的内容过长，请输入行业名称中的词或4位行业代码"},
            )
            return FactInput(spec.name, "industry", field)
        field = forms.CharField(
            label="所属行业（4位小类代码）",
            required=False,
            max_length=120,
            help_text="GB/T 4754-2017，如 6513",
            error_messages={"max_length": "所属行业请填写4位行业小类代码（如 6513）"},
        )
        return FactInput(spec.name, "industry_code", field)
    if widget is Widget.DATE:
        field = forms.DateField(
            label=spec.ask,
            required=False,
            widget=forms.DateInput(attrs=_DATE_WIDGET, format="%Y-%m-%d"),
            error_messages={"invalid": f"{spec.ask}必须是有效的日期（如 2019-03-01）"},
        )
        return FactInput(spec.name, spec.profile_key, field)
    if widget is Widget.NUMBER:
        return FactInput(spec.name, spec.name, _number_field(spec))
    if widget is Widget.SELECT and spec.type is ValueType.CHOICE:
        return FactInput(spec.name, spec.name, _choice_field(spec, purpose=purpose))
    if widget is Widget.CHECKBOXES and spec.type is ValueType.QUALIFICATION:
        field = forms.MultipleChoiceField(
            label="持有的有效资质",
            required=False,
            choices=list(spec.choices.items()),
            widget=forms.CheckboxSelectMultiple,
            # The registry reads the list as everything held: an unticked kind is not held (不符合, not 未知).
            help_text="未勾选的资质按“未持有”判断",
        )
        return FactInput(spec.name, "qualifications", field)
    if widget is Widget.CHECKBOXES and spec.type is ValueType.PLACE:
        options = zones if spec.name == "zone" else parks
        field = forms.MultipleChoiceField(
            label=spec.ask,
            required=False,
            choices=list(options),
            widget=forms.CheckboxSelectMultiple,
            help_text="有多个经营场所（一照多址）时可多选" if spec.name == "zone" else "不在特色园区内时不选",
        )
        return FactInput(spec.name, "zone" if spec.name == "zone" else "parks", field)
    if widget is Widget.YES_NO:
        return FactInput(spec.name, spec.name, _boolean_field(spec, purpose=purpose))
    if widget is Widget.SELECT and spec.type is ValueType.COUNTRY:
        field = forms.ChoiceField(
            label=spec.label,
            required=False,
            choices=[("", "不填"), (NO_FOREIGN_CAPITAL, "无外资"), *spec.choices.items()],
            help_text="外商投资企业选择外资来源国（地区）",
        )
        return FactInput(spec.name, spec.name, field)
    return None  # a value type with no input yet: the registry coverage test names the fact


def fact_inputs(
    *, purpose: Purpose, zones: Sequence[tuple[str, str]], parks: Sequence[tuple[str, str]]
) -> list[FactInput]:
    """One input per registry fact, in the registry's order."""
    inputs = []
    for spec in FACTS.values():
        made = _input(spec, purpose=purpose, zones=zones, parks=parks)
        if made is not None:
            inputs.append(made)
    # The figures before 企业规模 (which is derived from them when left out); new facts go last.
    return sorted(inputs, key=lambda i: _ORDER.index(i.fact) if i.fact in _ORDER else len(_ORDER))


def declared_facts(cleaned: Mapping[str, Any], inputs: Sequence[FactInput]) -> dict[str, Any]:
    """The keys matching.core.calculator.profile_from_declared accepts, for the inputs filled in.

    Numbers stay the text typed (the calculator parses and bounds them, as for the API).
    """
    facts: dict[str, Any] = {}
    for item in inputs:
        value = cleaned.get(item.name)
        if value in (None, "", [], False):
            continue
        spec = FACTS[item.fact]
        if item.name == "industry":
            facts["industry_code"] = value
        elif item.name == "zone":
            facts["zones"] = list(value)
        elif spec.type is ValueType.BOOLEAN:
            facts[item.fact] = spec.statement_value if value is True else value == "true"
        elif spec.type is ValueType.COUNTRY:
            facts[item.fact] = "" if value == NO_FOREIGN_CAPITAL else value
        else:
            facts[item.name] = list(value) if isinstance(value, list | tuple) else value
    return facts


def initial_from_profile(profile: EnterpriseProfile, *, on: date, purpose: Purpose) -> dict[str, Any]:
    """Field values describing an enterprise's profile (what it holds on `on`), for pre-filling a form."""
    initial: dict[str, Any] = {}
    facts = profile.facts
    for item in fact_inputs(purpose=purpose, zones=(), parks=()):
        spec = FACTS[item.fact]
        if spec.type is ValueType.INDUSTRY:
            fact = facts.get(spec.profile_key)
            if fact is not None and fact.value:
                initial[item.name] = industry_label(fact.value) if item.name == "industry" else fact.value
        elif spec.type is ValueType.QUALIFICATION:
            held = sorted({q.kind for q in profile.qualifications if q.valid_on(on)})
            if held:
                initial[item.name] = held
        elif spec.type is ValueType.PLACE:
            codes = [c for s in profile.sites for c in ((s.zone_code,) if spec.name == "zone" else s.park_codes) if c]
            if codes:
                initial[item.name] = list(dict.fromkeys(codes))
        else:
            fact = facts.get(spec.profile_key)
            if fact is None or fact.value is None:
                continue
            value = fact.value
            if spec.type is ValueType.BOOLEAN:
                if isinstance(item.field, forms.BooleanField):
                    if value == spec.statement_value:
                        initial[item.name] = True
                else:
                    initial[item.name] = "true" if value else "false"
            elif spec.type is ValueType.COUNTRY:
                initial[item.name] = value or NO_FOREIGN_CAPITAL
            elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
                initial[item.name] = format_number(value)
            else:
                initial[item.name] = value
    return initial


def declared_summary(
    profile: EnterpriseProfile, *, on: date, notes: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(label, value in words) for each fact the profile states, in the registry's order: what a result
    rests on, printed with it. `notes` adds a remark to a fact's value (say, that the size was derived)."""
    lines = []
    for spec in FACTS.values():
        fact = spec.read(profile, on)
        if fact is None or fact.value in ((), ""):
            if spec.type is ValueType.COUNTRY and fact is not None:
                lines.append((spec.label, "无外资"))
            continue
        value = fact.value
        if spec.profile_key == "established_on" and spec.profile_key in profile.facts:
            value = profile.facts[spec.profile_key].value  # "8年（2018-05-01成立）", not just "8年"
        lines.append((spec.label, spec.display(value, on) + (notes or {}).get(spec.name, "")))
    return lines
