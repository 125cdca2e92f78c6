"""Forms of the portal's pages. They only parse input; the selectors and services decide."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from matching.vocabulary import INDUSTRY_CHAINS, QUALIFICATION_KINDS, SIZES, TAX_CREDIT_RATINGS, ZONES
from policies.models import BenefitKind, Mode, Outcome, PolicyVersion
from portal.enterprises import industries

_CODE_IN_TEXT = re.compile(r"([A-T]|\d{2,4})\s*[)）]?\s*$")
BLANK = [("", "不限")]


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
    code = match.group(1) if match else ""
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


def industry_label(code: str) -> str:
    name = industries.industry_name(code)
    return f"{name}（{code}）" if name else code


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
        self.fields["zone"].choices = BLANK + zones
        self.fields["department"].choices = BLANK + [(d, d) for d in departments]

    def clean_industry(self) -> str:
        return resolve_industry(self.cleaned_data.get("industry", ""), classes_only=False)

    def filters(self) -> dict[str, str]:
        return {key: value for key, value in self.cleaned_data.items() if value}


class CalculatorForm(forms.Form):
    """The public 政策计算器: what a visitor knows about the enterprise (every field optional)."""

    industry = forms.CharField(
        label="所属行业",
        required=False,
        max_length=120,
        help_text="输入行业名称或代码（如“应用软件开发”或 6513），从提示中选择",
    )
    employees = forms.IntegerField(label="从业人员（人）", required=False, min_value=0)
    revenue = forms.DecimalField(
        label="上年营业收入（万元）", required=False, min_value=0, max_digits=16, decimal_places=2
    )
    total_assets = forms.DecimalField(
        label="资产总额（万元）", required=False, min_value=0, max_digits=16, decimal_places=2
    )
    rd_expense_ratio = forms.DecimalField(
        label="研发费用占营业收入比例（%）", required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    established_on = forms.DateField(
        label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    zone = forms.ChoiceField(label="经营场所所在功能区", required=False)
    size = forms.ChoiceField(
        label="企业规模",
        required=False,
        choices=[("", "按上面的指标自动划型"), *list(SIZES.items())],
        help_text="不选时，按行业、从业人员、营业收入、资产总额依《统计上大中小微型企业划分办法（2017）》划型",
    )
    qualifications = forms.MultipleChoiceField(
        label="已取得的资质",
        required=False,
        choices=list(QUALIFICATION_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    tax_credit_rating = forms.ChoiceField(
        label="纳税信用等级", required=False, choices=[("", "不填"), *list(TAX_CREDIT_RATINGS.items())]
    )
    above_designated_size = forms.ChoiceField(
        label="是否规模以上企业", required=False, choices=[("", "不填"), ("true", "是"), ("false", "否")]
    )

    def __init__(self, *args: Any, zones: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = [("", "不填"), *zones]

    def clean_industry(self) -> str:
        return resolve_industry(self.cleaned_data.get("industry", ""), classes_only=True)

    def declared_facts(self) -> dict[str, Any]:
        """The keys matching.calculator.profile_from_declared accepts, for the fields filled in."""
        data = self.cleaned_data
        facts: dict[str, Any] = {}
        if data.get("industry"):
            facts["industry_code"] = data["industry"]
        for key in ("employees", "revenue", "total_assets", "rd_expense_ratio", "established_on", "size"):
            if data.get(key) not in (None, ""):
                facts[key] = data[key]
        if not facts.get("size"):
            facts.pop("size", None)
            size = derived_size(facts)
            if size:
                facts["size"] = size
        if data.get("qualifications"):
            facts["qualifications"] = list(data["qualifications"])
        if data.get("zone"):
            facts["zones"] = [data["zone"]]
        if data.get("tax_credit_rating"):
            facts["tax_credit_rating"] = data["tax_credit_rating"]
        if data.get("above_designated_size"):
            facts["above_designated_size"] = data["above_designated_size"] == "true"
        return facts


def derived_size(facts: dict[str, Any]) -> str:
    """Size by the registry's own classifier, or "" when an input it needs is missing."""
    from portal.enterprises import sizing

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

# The self-declarable facts, as form fields. Keys are the registry's fact names.
FACT_FORM_FIELDS: dict[str, forms.Field] = {
    "industry_code": forms.CharField(label="所属行业（4位小类代码）", required=False, max_length=120),
    "established_on": forms.DateField(
        label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    ),
    "employees": forms.IntegerField(label="从业人员（人）", required=False, min_value=0),
    "revenue": forms.DecimalField(
        label="营业收入（万元）", required=False, min_value=0, max_digits=16, decimal_places=2
    ),
    "total_assets": forms.DecimalField(
        label="资产总额（万元）", required=False, min_value=0, max_digits=16, decimal_places=2
    ),
    "above_designated_size": forms.ChoiceField(
        label="是否规模以上企业", required=False, choices=[("", "不填"), ("true", "是"), ("false", "否")]
    ),
    "rd_expense_ratio": forms.DecimalField(
        label="研发费用占营业收入比例（%）", required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2
    ),
    "tax_credit_rating": forms.ChoiceField(
        label="纳税信用等级", required=False, choices=[("", "不填"), *list(TAX_CREDIT_RATINGS.items())]
    ),
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
            values[key] = {"true": True, "false": False}.get(value, value) if key == "above_designated_size" else value
        return values


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
        self.fields["township"].choices = [("", "请选择"), *townships]
        self.fields["parks"].choices = parks


# --- Staff console ------------------------------------------------------------------------------

_DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # 一次性, or a year around now; a version's own (older) year stays selectable.
        this_year = timezone.localdate().year
        years = [str(y) for y in range(this_year - 2, this_year + 4)]
        for current in (str(self.initial.get("benefit_period") or ""), str(self.data.get("benefit_period") or "")):
            if re.fullmatch(r"20[0-9]{2}", current) and current not in years:
                years = sorted({*years, current})
        self.fields["benefit_period"].choices = [("once", "一次性"), *((y, f"{y}年度") for y in years)]

    def clean_benefit_period(self) -> str:
        return self.cleaned_data.get("benefit_period") or "once"

    def clean_materials(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("materials", "").splitlines() if line.strip()]

    @classmethod
    def initial_from(cls, version: PolicyVersion) -> dict[str, Any]:
        initial = {name: getattr(version, name) for name in cls.base_fields}
        initial["materials"] = "\n".join(version.materials or [])
        return initial


class PolicyCreateForm(PolicyContentForm):
    key = forms.SlugField(label="政策标识", max_length=80, help_text="小写字母、数字和连字符，如 rd-subsidy-2025")

    field_order = ["key"]


class GoldenCaseForm(forms.Form):
    """A golden case (标准案例): the common facts as fields, or the whole profile as JSON for experts.

    The profile format is policies/golden.py's. The JSON box, when filled, is used as the whole profile
    and the fact fields are ignored; policies.services validates either way.
    """

    name = forms.CharField(label="案例名称", max_length=200)
    expected = forms.ChoiceField(label="预期结果", choices=Outcome.choices)
    on = forms.DateField(label="评估日期", required=False, help_text="留空：按今天评估（移入政策有效期内）", **_DATE)
    industry_code = forms.CharField(
        label="行业代码（4位小类）", required=False, max_length=4, help_text="GB/T 4754-2017，如 6513"
    )
    employees = forms.IntegerField(label="从业人员（人）", required=False, min_value=0)
    revenue = forms.DecimalField(label="营业收入（万元）", required=False, max_digits=16, decimal_places=2)
    total_assets = forms.DecimalField(label="资产总额（万元）", required=False, max_digits=16, decimal_places=2)
    established_on = forms.DateField(label="成立日期", required=False, **_DATE)
    size = forms.ChoiceField(label="企业规模", required=False, choices=[("", "不填"), *SIZES.items()])
    tax_credit_rating = forms.ChoiceField(
        label="纳税信用等级", required=False, choices=[("", "不填"), *TAX_CREDIT_RATINGS.items()]
    )
    zone = forms.ChoiceField(label="经营场所所在功能区", required=False, choices=[("", "不填"), *ZONES.items()])
    qualifications = forms.MultipleChoiceField(
        label="持有的资质",
        required=False,
        choices=list(QUALIFICATION_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="勾选表示在评估日期持有有效证书；需要具体有效期时请用下面的 JSON",
    )
    verified = forms.BooleanField(label="以上信息来自部门共享（已核验）", required=False)
    profile_json = forms.CharField(
        label="企业画像 JSON（高级）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "code", "spellcheck": "false"}),
        help_text="填写后以此为完整画像，忽略上面的企业信息项；格式见政策清单的 golden_cases",
    )

    FACT_FIELDS = (
        "industry_code",
        "employees",
        "revenue",
        "total_assets",
        "established_on",
        "size",
        "tax_credit_rating",
    )

    def __init__(self, *args: Any, held_from: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A ticked qualification is held from the earliest of: the case's date, this date (the version's
        # first effective day), today; so it is valid whenever the case is evaluated.
        self.held_from = held_from

    def clean_profile_json(self) -> Any:
        import json

        text = self.cleaned_data.get("profile_json", "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"JSON 格式有误（第{error.lineno}行第{error.colno}列）") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("企业画像应为 JSON 对象")
        return value

    @property
    def uses_json(self) -> bool:
        return self.cleaned_data.get("profile_json") is not None

    def profile(self) -> dict[str, Any]:
        """The golden profile the form describes (JSON-ready)."""
        data = self.cleaned_data
        if data.get("profile_json") is not None:
            return data["profile_json"]
        profile: dict[str, Any] = {}
        for key in self.FACT_FIELDS:
            value = data.get(key)
            if value in (None, ""):
                continue
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif key in ("revenue", "total_assets"):
                value = int(value) if value == value.to_integral_value() else float(value)
            profile[key] = value
        if data.get("zone"):
            profile["sites"] = [{"zone": data["zone"]}]
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
            key = name.removeprefix("profile.")
            if key in self.FACT_FIELDS:
                return key
            if key.startswith("sites"):
                return "zone"
            if key.startswith("qualifications"):
                return "qualifications"
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


def _form_facts(profile: Any) -> dict[str, Any] | None:
    """The fact fields for `profile`, or None when it says more than the fields can (then JSON is shown)."""
    if not isinstance(profile, dict):
        return None
    facts: dict[str, Any] = {}
    for key, value in profile.items():
        if key in GoldenCaseForm.FACT_FIELDS:
            facts[key] = value
        elif key == "sources" and value in ("department", "self_declared"):
            facts["verified"] = value == "department"
        elif key == "sites" and isinstance(value, list) and len(value) == 1 and set(value[0]) == {"zone"}:
            facts["zone"] = value[0]["zone"]
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
        from matching.vocabulary import DEPARTMENT_SOURCES, SOURCES

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "请选择")] + [
            (code, label) for code, label in SOURCES.items() if code in DEPARTMENT_SOURCES
        ]
