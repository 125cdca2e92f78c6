"""Forms of the portal's pages. They only parse input; the selectors and services decide."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from matching.core.calculator import DeclaredFactsError, profile_from_declared
from matching.core.profile import EnterpriseProfile
from matching.core.reading import Widget
from matching.core.registry import FACTS, FactSpec, ValueType, format_number, scalar_facts, stored_facts
from matching.core.vocabulary import (
    DEPARTMENT_SOURCES,
    INDUSTRY_CHAINS,
    SIZES,
    SOURCES,
)
from policies.golden import EXAMPLE_PROFILE
from policies.models import BenefitKind, ExpectedOutcome, Mode, PolicyVersion
from portal.enterprises import industries, sizing

from .fact_inputs import CALCULATOR, GOLDEN, NO_FOREIGN_CAPITAL, declared_facts, fact_inputs, industry_label

# A code alone ("6513", "C"), after a name in brackets ("软件开发（6513）"), or digits ending the text;
# a letter ending other text is not a code ("asdfgh" is not 门类 H).
_CODE_IN_TEXT = re.compile(r"(?:^|[(（]\s*)([A-T]|\d{2,4})\s*[)）]?\s*$|(?<!\d)(\d{2,4})\s*$")
BLANK = [("", "不限")]


def _choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's own copy of a choice field, whose choices are set per request."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


def industry_search(query: str, *, classes_only: bool = False, limit: int = 15) -> list[tuple[str, str]]:
    """(code, name) pairs of GB/T 4754-2017 whose code starts with, or whose name contains, `query`."""
    query = query.strip()
    if not query:
        return []
    found: list[tuple[str, str]] = []
    for code, name in industries.codes().items():
        if classes_only and not industries.is_class_code(code):
            continue
        if code.startswith(query.upper()) or query in name:
            found.append((code, name))
            if len(found) >= limit:
                break
    return found


def resolve_industry(raw: str, *, classes_only: bool) -> str:
    """A code from what was typed: "6520", "集成电路设计（6520）" or an exact name. ValidationError otherwise."""
    text = (raw or "").strip()
    if not text:
        return ""
    match = _CODE_IN_TEXT.search(text.upper())
    code = (match.group(1) or match.group(2)) if match else ""
    if not code or not industries.is_code(code):
        exact = [c for c, name in industries.codes().items() if name == text]
        if classes_only:
            exact = [c for c in exact if industries.is_class_code(c)]
        code = exact[0] if exact else ""
    if not code:
        raise forms.ValidationError("未找到该行业，请从下拉提示中选择，或填写GB/T 4754-2017行业代码")
    if classes_only and not industries.is_class_code(code):
        raise forms.ValidationError("请选择到4位行业小类（如 6520 集成电路设计）")
    return code


class PolicyFilterForm(forms.Form):
    """The 政策清单's search box and filters (GET)."""

    q = forms.CharField(label="关键词", required=False, max_length=100)
    industry = forms.CharField(
        label="所属行业", required=False, max_length=120, help_text="输入行业名称或代码，从提示中选择"
    )
    size = forms.ChoiceField(label="企业规模", required=False, choices=BLANK + list(SIZES.items()))
    zone = forms.ChoiceField(label="所在功能区", required=False)
    mode = forms.ChoiceField(label="兑现方式", required=False, choices=BLANK + list(Mode.choices))
    department = forms.ChoiceField(label="责任部门", required=False)
    benefit_kind = forms.ChoiceField(label="惠企类型", required=False, choices=BLANK + list(BenefitKind.choices))

    def __init__(self, *args: Any, zones: list[tuple[str, str]], departments: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "zone").choices = BLANK + zones
        _choice_field(self, "department").choices = BLANK + [(d, d) for d in departments]

    def clean_industry(self) -> str:
        return resolve_industry(self.cleaned_data.get("industry", ""), classes_only=False)

    def filters(self) -> dict[str, str]:
        return {key: value for key, value in self.cleaned_data.items() if value}


_GENERIC_WORDS = ("有限责任公司", "有限公司", "公司", "企业", "行业", "产业")


def industry_suggestions(raw: str, *, limit: int = 8) -> list[tuple[str, str]]:
    """4-digit classes a visitor may have meant by `raw` (also without words like 公司 / 行业)."""
    text = (raw or "").strip()
    found = industry_search(text, classes_only=True, limit=limit)
    if not found:
        for word in _GENERIC_WORDS:
            text = text.replace(word, "")
        if text and text != raw.strip():
            found = industry_search(text, classes_only=True, limit=limit)
    return found


class CalculatorForm(forms.Form):
    """The public 政策计算器: an input for every fact a rule can test (from the registry), all optional.

    Inputs only parse; matching.core.calculator.profile_from_declared checks limits (the API's rules) and
    builds the profile, kept as `self.profile` when the form is valid.
    """

    def __init__(
        self,
        *args: Any,
        zones: list[tuple[str, str]],
        parks: list[tuple[str, str]] | None = None,
        on: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.inputs = fact_inputs(purpose=CALCULATOR, zones=zones, parks=parks or [])
        for item in self.inputs:
            self.fields[item.name] = item.field
        self.on = on or timezone.localdate()
        self.profile: EnterpriseProfile | None = None
        self.suggestions: list[tuple[str, str]] = []

    def clean_industry(self) -> str:
        raw = self.cleaned_data.get("industry", "")
        try:
            return resolve_industry(raw, classes_only=True)
        except forms.ValidationError as error:
            text = raw.strip()[:40]
            self.suggestions = [(code, industry_label(code)) for code, _ in industry_suggestions(raw)]
            names = "、".join(label for _, label in self.suggestions)
            if "4位行业小类" in error.messages[0]:  # a 门类, 大类 or 中类 code
                example = f"，例如：{names}" if names else "（如 6520 集成电路设计）"
                raise forms.ValidationError(f"所属行业请选择到4位行业小类{example}") from None
            if names:
                message = f"所属行业“{text}”不是列表中的行业，请从提示中选择一项，例如：{names}"
                raise forms.ValidationError(message) from None
            raise forms.ValidationError(
                f"所属行业未找到该行业“{text}”：请输入行业名称中的词（如“软件”“集成电路”）"
                "或4位行业代码，并从下拉提示中选择"
            ) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        facts = declared_facts(cleaned, self.inputs)
        try:
            profile = profile_from_declared(facts, on=self.on)
            if "size" not in facts:
                size = derived_size({k: f.value for k, f in profile.facts.items()})
                if size:
                    profile = profile_from_declared({**facts, "size": size}, on=self.on)
        except DeclaredFactsError as error:
            for problem in error.errors:
                self.add_error(self.field_for(problem.field), problem.message)
        else:
            if not self.errors:  # a field refused earlier would be missing from the profile
                self.profile = profile
        return cleaned

    def field_for(self, key: str) -> str | None:
        """The input a calculator problem on `key` ("qualifications[0]", "zones") belongs to."""
        name = key.split("[")[0].split(".")[0]
        name = {"industry_code": "industry", "zones": "zone", "age_years": "established_on"}.get(name, name)
        return name if name in self.fields else None

    def declared_facts(self) -> dict[str, Any]:
        """The facts the visitor declared (numbers as typed), for the API or a test."""
        return declared_facts(self.cleaned_data, self.inputs)

    def fact_fields(self) -> list[Any]:
        """Bound fields in the registry's order, without checkbox lists and statements (shown below them)."""
        return [self[i.name] for i in self.inputs if not _is_group(self.fields[i.name]) and i.name != "industry"]

    def choice_groups(self) -> list[Any]:
        return [self[i.name] for i in self.inputs if isinstance(self.fields[i.name], forms.MultipleChoiceField)]

    def statements(self) -> list[Any]:
        return [self[i.name] for i in self.inputs if isinstance(self.fields[i.name], forms.BooleanField)]


def _is_group(field: forms.Field) -> bool:
    return isinstance(field, forms.MultipleChoiceField | forms.BooleanField)


def derived_size(facts: dict[str, Any]) -> str:
    """Size by the registry's own classifier, or "" when an input it needs is missing."""
    result = sizing.classify(
        industry_code=facts.get("industry_code"),
        employees=facts.get("employees"),
        revenue=facts.get("revenue"),
        total_assets=facts.get("total_assets"),
    )
    if result.reason in (sizing.REASON_UNKNOWN_INDUSTRY, sizing.REASON_MISSING_INDICATOR):
        return ""
    return result.size


# --- Enterprise workspace -----------------------------------------------------------------------


def profile_form_field(spec: FactSpec) -> forms.Field:
    """The enterprise workspace's input for a stored fact, from its definition (type, unit, column bounds)."""
    stored = spec.stored
    assert stored is not None
    widget = spec.input_widget
    if widget is Widget.INDUSTRY:
        return forms.CharField(label=f"{spec.label}（4位小类代码）", required=False, max_length=120)
    if widget is Widget.DATE:
        return forms.DateField(
            label=spec.ask, required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        )
    if spec.type is ValueType.INTEGER:
        return forms.IntegerField(label=spec.title, required=False, min_value=0)
    if spec.type is ValueType.NUMBER:
        bounds: dict[str, Any] = {} if stored.maximum is None else {"max_value": stored.maximum}
        return forms.DecimalField(
            label=spec.title,
            required=False,
            min_value=0,
            max_digits=stored.digits,
            decimal_places=stored.places,
            **bounds,
        )
    if widget is Widget.YES_NO:
        return forms.ChoiceField(
            label=spec.ask, required=False, choices=[("", "不填"), ("true", "是"), ("false", "否")]
        )
    if widget is Widget.SELECT and spec.type is ValueType.CHOICE:
        return forms.ChoiceField(label=spec.label, required=False, choices=[("", "不填"), *spec.choices.items()])
    raise TypeError(f"no profile form input for {spec.name} ({spec.type})")


# The self-declarable facts, as form fields (keys are profile keys); each from its registry definition.
FACT_FORM_FIELDS: dict[str, forms.Field] = {
    spec.profile_key: profile_form_field(spec) for spec in stored_facts() if spec.profile_form
}


class FactsForm(forms.Form):
    """Self-declared facts; department-verified facts are left out (they cannot be changed here)."""

    def __init__(self, *args: Any, editable: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in editable:
            if key in FACT_FORM_FIELDS:
                self.fields[key] = FACT_FORM_FIELDS[key].__class__(**_field_kwargs(FACT_FORM_FIELDS[key]))

    def clean_industry_code(self) -> str:
        return resolve_industry(self.cleaned_data.get("industry_code", ""), classes_only=True)

    def facts(self) -> dict[str, Any]:
        """The filled-in values, in the shape enterprise_update_facts parses."""
        values: dict[str, Any] = {}
        for key, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            boolean = isinstance(self.fields[key], forms.ChoiceField) and key in _BOOLEAN_KEYS
            values[key] = {"true": True, "false": False}.get(value, value) if boolean else value
        return values


_BOOLEAN_KEYS = frozenset(spec.profile_key for spec in stored_facts() if spec.type is ValueType.BOOLEAN)


def _field_kwargs(field: forms.Field) -> dict[str, Any]:
    """Constructor arguments to copy a declared field (each form gets its own instance)."""
    import copy

    return {"label": field.label, "required": False, "widget": copy.deepcopy(field.widget)} | {
        key: getattr(field, key)
        for key in ("max_length", "min_value", "max_value", "max_digits", "decimal_places", "choices")
        if getattr(field, key, None) is not None
    }


class SiteForm(forms.Form):
    """File a new operating site (一照多址备案)."""

    address = forms.CharField(label="经营场所地址", max_length=300)
    township = forms.ChoiceField(label="所在街道（镇）")
    parks = forms.MultipleChoiceField(label="所在特色园区", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, townships: list[tuple[str, str]], parks: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choice_field(self, "township").choices = [("", "请选择"), *townships]
        _choice_field(self, "parks").choices = parks


class QualificationEditForm(forms.Form):
    """Correct a self-declared qualification (资质): certificate number and validity."""

    certificate_no = forms.CharField(label="证书编号", max_length=64, required=False)
    valid_from = forms.DateField(label="有效期起", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    valid_to = forms.DateField(
        label="有效期止",
        required=False,
        help_text="长期有效的留空",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


# --- Staff console ------------------------------------------------------------------------------

_DATE: dict[str, Any] = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class PolicyContentForm(forms.Form):
    """A version's content other than its rule (parsed here, validated by policies.services)."""

    title = forms.CharField(label="政策名称", max_length=200)
    summary = forms.CharField(label="摘要", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    department = forms.CharField(label="责任部门", max_length=100, required=False)
    contact_name = forms.CharField(label="责任人", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=50, required=False)
    benefit_kind = forms.ChoiceField(label="惠企类型", choices=BenefitKind.choices)
    benefit_description = forms.CharField(label="惠企内容", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    amount_max_wan = forms.DecimalField(label="最高金额（万元）", required=False, max_digits=12, decimal_places=2)
    mode = forms.ChoiceField(label="兑现方式", choices=Mode.choices)
    benefit_period = forms.ChoiceField(
        label="兑现期",
        initial="once",
        required=False,
        help_text="免申即享：同一兑现期内发布的更正版本不会重复兑现；按年度兑现的新一年请选新的年份",
    )
    application_start = forms.DateField(label="申报开始", required=False, **_DATE)
    application_end = forms.DateField(label="申报截止", required=False, **_DATE)
    effective_from = forms.DateField(label="生效日期", **_DATE)
    effective_to = forms.DateField(label="失效日期", required=False, **_DATE)
    source_section = forms.CharField(label="出处章节", max_length=100, required=False)
    source_quote = forms.CharField(label="出处原文", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    document_number = forms.CharField(
        label="文号", max_length=100, required=False, help_text="政策文件的文号（如有）；不清楚请留空，切勿估填"
    )
    conditions_text = forms.CharField(
        label="申报条件（文字）", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    materials = forms.CharField(
        label="申报材料", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="每行一项"
    )
    chains = forms.MultipleChoiceField(
        label="产业链标签",
        required=False,
        choices=[(code, label) for code, (label, _) in INDUSTRY_CHAINS.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    exclusion_groups = forms.CharField(
        label="互斥事项组（同一事项不重复享受）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="每行一个组名，如“研发投入奖补”。同组政策，同一企业同一兑现期只能享受其中一项；不填则不限",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # 一次性, or a year around now; a version's own (older) year stays selectable.
        this_year = timezone.localdate().year
        years = [str(y) for y in range(this_year - 2, this_year + 4)]
        for current in (str(self.initial.get("benefit_period") or ""), str(self.data.get("benefit_period") or "")):
            if re.fullmatch(r"20[0-9]{2}", current) and current not in years:
                years = sorted({*years, current})
        _choice_field(self, "benefit_period").choices = [("once", "一次性"), *((y, f"{y}年度") for y in years)]

    def clean_benefit_period(self) -> str:
        return self.cleaned_data.get("benefit_period") or "once"

    def clean_materials(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("materials", "").splitlines() if line.strip()]

    def clean_exclusion_groups(self) -> list[str]:
        lines = self.cleaned_data.get("exclusion_groups", "").splitlines()
        return [line.strip() for line in lines if line.strip()]

    @classmethod
    def initial_from(cls, version: PolicyVersion) -> dict[str, Any]:
        initial = {name: getattr(version, name) for name in cls.base_fields}
        initial["materials"] = "\n".join(version.materials or [])
        initial["exclusion_groups"] = "\n".join(version.exclusion_groups or [])
        return initial


class PolicyCreateForm(PolicyContentForm):
    """A new policy's first version. The 政策标识 is generated on save (policies.services), never typed."""


class GoldenCaseForm(forms.Form):
    """A golden case (标准案例): an input for every registry fact (shared with the 政策计算器), or the
    whole profile as JSON for experts.

    The profile format is policies/golden.py's. The JSON box, when filled, is used as the whole profile
    and the fact fields are ignored; policies.services validates either way. Numbers are checked by the
    calculator's rules (never negative, never above the registry's limit).
    """

    name = forms.CharField(label="案例名称", max_length=200)
    expected = forms.ChoiceField(label="预期结果", choices=ExpectedOutcome.choices)
    on = forms.DateField(label="评估日期", required=False, help_text="留空：按今天评估（移入政策有效期内）", **_DATE)
    verified = forms.BooleanField(label="以上信息来自部门共享（已核验）", required=False)
    profile_json = forms.CharField(
        label="企业画像 JSON（高级）",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "spellcheck": "false"}),
        help_text="填写后以此为完整画像，忽略上面的企业信息项。每项都可省略（省略即未知），格式如下：",
    )

    def __init__(
        self,
        *args: Any,
        held_from: date | None = None,
        zones: list[tuple[str, str]] | None = None,
        parks: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # A ticked qualification is held from the earliest of: the case's date, this date (the version's
        # first effective day), today; so it is valid whenever the case is evaluated.
        self.held_from = held_from
        # The database's names, passed in by the view (place_choices); without, the names the rule wording
        # holds (the database's too, once a request has synced them: portal.enterprises.place_names).
        zones = zones if zones is not None else list(FACTS["zone"].choices.items())
        parks = parks if parks is not None else list(FACTS["park"].choices.items())
        self.inputs = fact_inputs(purpose=GOLDEN, zones=zones, parks=parks)
        fields = dict(self.fields)
        self.fields = {key: fields[key] for key in ("name", "expected", "on")}
        for item in self.inputs:
            self.fields[item.name] = item.field
        self.fields["verified"] = fields["verified"]
        self.fields["profile_json"] = fields["profile_json"]
        self._parsed: dict[str, Any] = {}

    @staticmethod
    def json_example() -> str:
        import json

        return json.dumps(EXAMPLE_PROFILE, ensure_ascii=False, indent=2)

    def fact_fields(self) -> list[Any]:
        return [self[i.name] for i in self.inputs if not isinstance(self.fields[i.name], forms.MultipleChoiceField)]

    def choice_groups(self) -> list[Any]:
        return [self[i.name] for i in self.inputs if isinstance(self.fields[i.name], forms.MultipleChoiceField)]

    def clean_profile_json(self) -> Any:
        import json

        text = self.cleaned_data.get("profile_json", "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, ValueError) as error:
            where = f"（第{error.lineno}行第{error.colno}列）" if isinstance(error, json.JSONDecodeError) else ""
            raise forms.ValidationError(f"JSON 格式有误{where}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("企业画像应为 JSON 对象")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("profile_json") is not None:
            return cleaned
        facts = declared_facts(cleaned, self.inputs)
        # The date is the case's own (it may lie ahead of today); the calculator's checks are for numbers.
        facts.pop("established_on", None)
        try:
            profile = profile_from_declared(facts)
        except DeclaredFactsError as error:
            for problem in error.errors:
                name = problem.field.split("[")[0]
                name = {"zones": "zone"}.get(name, name)
                self.add_error(name if name in self.fields else None, problem.message)
        else:
            self._parsed = {key: fact.value for key, fact in profile.facts.items()}
        return cleaned

    @property
    def uses_json(self) -> bool:
        return self.cleaned_data.get("profile_json") is not None

    def profile(self) -> dict[str, Any]:
        """The golden profile the form describes (JSON-ready)."""
        data = self.cleaned_data
        if data.get("profile_json") is not None:
            return data["profile_json"]
        profile: dict[str, Any] = {}
        for key, value in self._parsed.items():
            if isinstance(value, Decimal):
                value = int(value) if value == value.to_integral_value() else float(value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            profile[key] = value
        if data.get("established_on"):
            profile["established_on"] = data["established_on"].isoformat()
        zones, parks = list(data.get("zone") or []), list(data.get("parks") or [])
        if zones:
            profile["sites"] = [
                {"zone": zone, **({"parks": parks} if parks and i == 0 else {})} for i, zone in enumerate(zones)
            ]
        elif parks:
            profile["sites"] = [{"parks": parks}]
        if data.get("qualifications"):
            start = min(d for d in (data.get("on"), self.held_from, timezone.localdate()) if d).isoformat()
            profile["qualifications"] = [{"kind": kind, "valid_from": start} for kind in data["qualifications"]]
        if data.get("verified"):
            profile["sources"] = "department"
        return profile

    def field_for(self, name: str) -> str | None:
        """The form field a service error on `name` (e.g. "profile.employees") belongs to."""
        if name in ("name", "expected", "on"):
            return name
        if name == "profile" or name.startswith("profile."):
            if self.uses_json:
                return "profile_json"
            key = name.removeprefix("profile.").split("[")[0].split(".")[0]
            if key == "sites":
                return "zone"
            if key in self.fields:
                return key
            return "profile_json"
        return None

    @classmethod
    def initial_from(cls, case: Any) -> dict[str, Any]:
        """Field values for a stored case: the fact fields when the profile fits them, else the JSON box."""
        import json

        initial: dict[str, Any] = {"name": case.name, "expected": case.expected, "on": case.on}
        facts = _form_facts(case.profile)
        if facts is None:
            initial["profile_json"] = json.dumps(case.profile, ensure_ascii=False, indent=2)
        else:
            initial.update(facts)
        return initial


# Golden-profile keys whose value is the field's value as it stands (numbers shown plainly).
_SCALAR_KEYS = frozenset(
    spec.profile_key
    for spec in scalar_facts()
    if spec.type in (ValueType.INDUSTRY, ValueType.CHOICE, ValueType.INTEGER, ValueType.NUMBER)
)
_YES_NO_KEYS = frozenset(spec.profile_key for spec in scalar_facts() if spec.type is ValueType.BOOLEAN)
_COUNTRY_KEYS = frozenset(spec.profile_key for spec in scalar_facts() if spec.type is ValueType.COUNTRY)


def _form_sites(sites: Any) -> dict[str, Any] | None:
    """zone / parks fields for the sites the form writes ({"zone"} each, parks on the first), else None."""
    if not isinstance(sites, list) or not sites:
        return None
    zones: list[str] = []
    parks: list[str] = []
    for i, site in enumerate(sites):
        if not isinstance(site, dict) or set(site) - {"zone", "parks"} or (i > 0 and site.get("parks")):
            return None
        if "zone" in site:
            zones.append(site["zone"])
        elif len(sites) > 1:
            return None
        parks = list(site.get("parks") or []) if i == 0 else parks
    return {"zone": zones, "parks": parks}


def _form_facts(profile: Any) -> dict[str, Any] | None:
    """The fact fields for `profile`, or None when it says more than the fields can (then JSON is shown)."""
    if not isinstance(profile, dict):
        return None
    facts: dict[str, Any] = {}
    for key, value in profile.items():
        if key in _SCALAR_KEYS:
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            facts[key] = format_number(value) if is_number else value
        elif key in _YES_NO_KEYS and isinstance(value, bool):
            facts[key] = "true" if value else "false"
        elif key in _COUNTRY_KEYS and isinstance(value, str):
            facts[key] = value or NO_FOREIGN_CAPITAL
        elif key == "sources" and value in ("department", "self_declared"):
            facts["verified"] = value == "department"
        elif key == "sites" and (sites := _form_sites(value)) is not None:
            facts.update(sites)
        elif (
            key == "qualifications"
            and isinstance(value, list)
            and all(isinstance(q, dict) and set(q) == {"kind", "valid_from"} for q in value)
        ):
            facts["qualifications"] = [q["kind"] for q in value]
        else:
            return None
    return facts


class FeedFileForm(forms.Form):
    """A department file uploaded in the console (parsed and applied later, by a worker)."""

    source = forms.ChoiceField(label="数据来源部门")
    file = forms.FileField(
        label="CSV或XLSX文件",
        help_text="第一行为表头：字段代码或中文名称，如“统一社会信用代码”“从业人员”；每条记录单独校验",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    as_of = forms.DateField(label="数据日期", required=False, help_text="记录中未注明数据日期时使用；默认今天", **_DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "source").choices = [("", "请选择")] + [
            (code, label) for code, label in SOURCES.items() if code in DEPARTMENT_SOURCES
        ]
