"""Serializers of the policy API: validate input and render output; they never write."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.core.calculator import FIELDS as CALCULATOR_FIELDS
from matching.core.describe import describe_rule
from matching.core.industries import is_industry_code
from matching.core.vocabulary import INDUSTRY_CHAINS, SIZES
from portal.api.serializers import StrictInputSerializer

from ..models import BenefitKind, ExpectedOutcome, GoldenCase, Mode, PolicyTransition, PolicyVersion
from ..selectors import policy_in_effect
from ..services import CONTENT_FIELDS

_PLACE_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


class PolicyFilterSerializer(serializers.Serializer):
    """Query parameters of the public list and its exports."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="标题、摘要、正文中的文字")
    mode = serializers.ChoiceField(choices=Mode.choices, required=False, help_text="兑现方式")
    department = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="责任部门")
    benefit_kind = serializers.ChoiceField(choices=BenefitKind.choices, required=False, help_text="惠企类型")
    industry = serializers.CharField(
        required=False, allow_blank=True, max_length=4, help_text="GB/T 4754-2017 行业代码（门类字母或2–4位数字）"
    )
    size = serializers.ChoiceField(choices=list(SIZES.items()), required=False, help_text="企业规模")
    zone = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="功能区代码")
    chain = serializers.ChoiceField(
        choices=[(k, v[0]) for k, v in INDUSTRY_CHAINS.items()], required=False, help_text="产业链标签"
    )

    def validate_industry(self, value: str) -> str:
        value = value.strip().upper()
        if value and not is_industry_code(value):
            raise serializers.ValidationError("不是 GB/T 4754-2017 的行业代码", code="invalid_industry")
        return value

    def validate_zone(self, value: str) -> str:
        if value and not _PLACE_CODE.match(value):
            raise serializers.ValidationError("功能区代码格式不正确", code="invalid_zone")
        return value


def _chains(version: PolicyVersion) -> list[dict[str, str]]:
    return [{"key": key, "label": INDUSTRY_CHAINS[key][0]} for key in version.chains if key in INDUSTRY_CHAINS]


class ChainSerializer(serializers.Serializer):
    key = serializers.CharField()
    # drf-stubs: a field named "label" shadows Field.label (DRF keeps declared fields apart)
    label = serializers.CharField()  # type: ignore[assignment]


class PublicPolicyListSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="policy_id", help_text="政策编号（各版本共用）")
    key = serializers.CharField(source="policy.key")
    version = serializers.IntegerField(source="number")
    benefit_kind_label = serializers.CharField(source="get_benefit_kind_display")
    mode_label = serializers.CharField(source="get_mode_display")
    benefit_period_label = serializers.CharField(help_text="兑现期：一次性，或某年度")
    chains = serializers.SerializerMethodField()

    class Meta:
        model = PolicyVersion
        fields = [
            "id",
            "key",
            "version",
            "title",
            "summary",
            "department",
            "benefit_kind",
            "benefit_kind_label",
            "benefit_description",
            "amount_max_wan",
            "amount_note",
            "mode",
            "mode_label",
            "benefit_period",
            "benefit_period_label",
            "application_start",
            "application_end",
            "effective_from",
            "effective_to",
            "chains",
            "source_section",
            "published_at",
        ]

    @extend_schema_field(ChainSerializer(many=True))
    def get_chains(self, version: PolicyVersion) -> list[dict[str, str]]:
        return _chains(version)


class PublicPolicyDetailSerializer(PublicPolicyListSerializer):
    status = serializers.CharField()
    in_effect = serializers.SerializerMethodField()
    conditions = serializers.SerializerMethodField(help_text="申报（享受）条件，由匹配规则生成的中文表述")

    class Meta(PublicPolicyListSerializer.Meta):
        fields = [
            *PublicPolicyListSerializer.Meta.fields,
            "status",
            "in_effect",
            "body",
            "source_quote",
            "contact_name",
            "contact_phone",
            "conditions",
            "conditions_text",
            "materials",
            "rule",
            "retired_at",
        ]

    def get_in_effect(self, version: PolicyVersion) -> bool:
        return policy_in_effect(version)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_conditions(self, version: PolicyVersion) -> list[str]:
        return describe_rule(version.rule)


class PublicVersionSummarySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="policy_id")
    version = serializers.IntegerField(source="number")

    class Meta:
        model = PolicyVersion
        fields = ["id", "version", "status", "title", "effective_from", "effective_to", "published_at", "retired_at"]


# Staff


class VersionInputSerializer(StrictInputSerializer):
    """Content of a version. Rules are checked by the service (the error names the node path)."""

    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    source_section = serializers.CharField(max_length=100, required=False, allow_blank=True)
    source_quote = serializers.CharField(required=False, allow_blank=True)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    benefit_kind = serializers.ChoiceField(choices=BenefitKind.choices)
    benefit_description = serializers.CharField(required=False, allow_blank=True)
    amount_max_wan = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    amount_note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=Mode.choices)
    benefit_period = serializers.RegexField(
        r"^(once|20[0-9]{2})$",
        max_length=8,
        required=False,
        help_text="兑现期：once（一次性）或按年度兑现的四位年份，如 2026。同一兑现期内的更正版本不再重复兑现",
        error_messages={"invalid": "兑现期应为 once（一次性）或四位年份（如 2026）"},
    )
    application_start = serializers.DateField(required=False, allow_null=True)
    application_end = serializers.DateField(required=False, allow_null=True)
    conditions_text = serializers.CharField(required=False, allow_blank=True)
    materials = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True)
    chains = serializers.ListField(
        child=serializers.ChoiceField(choices=[(k, v[0]) for k, v in INDUSTRY_CHAINS.items()]), required=False
    )
    rule = serializers.JSONField(help_text="匹配规则（JSON 规则语言）")


class PolicyCreateInputSerializer(VersionInputSerializer):
    key = serializers.SlugField(
        max_length=80,
        required=False,
        allow_blank=True,
        help_text="稳定标识（小写字母、数字、连字符）；留空时自动生成，如 p-2026-0061",
    )


class CommentInputSerializer(StrictInputSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username")
    action_label = serializers.CharField(source="get_action_display")
    # Plain strings: the version's status enum is described once, on the version.
    from_status = serializers.CharField(help_text="原状态（创建时为空）")
    to_status = serializers.CharField(help_text="新状态")

    class Meta:
        model = PolicyTransition
        fields = ["id", "action", "action_label", "from_status", "to_status", "by", "at", "comment"]


class StaffVersionSerializer(serializers.ModelSerializer):
    policy_key = serializers.CharField(source="policy.key")
    author = serializers.CharField(source="author.username")
    submitted_by = serializers.CharField(source="submitted_by.username", allow_null=True, default=None)
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display")
    benefit_period_label = serializers.CharField()

    class Meta:
        model = PolicyVersion
        fields = [
            "id",
            "policy",
            "benefit_period_label",
            "policy_key",
            "number",
            "status",
            "status_label",
            *CONTENT_FIELDS,
            "author",
            "submitted_by",
            "approved_by",
            "approved_at",
            "created_at",
            "updated_at",
            "submitted_at",
            "published_at",
            "retired_at",
        ]


class StaffVersionDetailSerializer(StaffVersionSerializer):
    transitions = TransitionSerializer(many=True, read_only=True)
    conditions = serializers.SerializerMethodField()

    class Meta(StaffVersionSerializer.Meta):
        fields = [*StaffVersionSerializer.Meta.fields, "conditions", "transitions"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_conditions(self, version: PolicyVersion) -> list[str]:
        return describe_rule(version.rule)


class StaffVersionBriefSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = PolicyVersion
        fields = ["id", "number", "status", "status_label", "title", "created_at", "published_at", "retired_at"]


class StaffPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    created_at = serializers.DateTimeField()
    versions = StaffVersionBriefSerializer(many=True)


class GoldenCaseInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    profile = serializers.JSONField(help_text="企业画像（政策清单标准案例格式）")
    expected = serializers.ChoiceField(choices=ExpectedOutcome.choices)
    on = serializers.DateField(required=False, allow_null=True, help_text="评估日期；空则为当日（限于有效期内）")


class GoldenResultSerializer(serializers.Serializer):
    case = serializers.CharField()
    expected = serializers.CharField()
    actual = serializers.CharField()
    on = serializers.DateField()
    passed = serializers.BooleanField()
    reason = serializers.CharField()


class GoldenCaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = GoldenCase
        fields = ["id", "name", "profile", "expected", "on", "created_at"]


class GoldenCaseWithResultSerializer(GoldenCaseSerializer):
    result = serializers.SerializerMethodField()

    class Meta(GoldenCaseSerializer.Meta):
        fields = [*GoldenCaseSerializer.Meta.fields, "result"]

    @extend_schema_field(GoldenResultSerializer)
    def get_result(self, case: GoldenCase) -> dict[str, Any] | None:
        results = self.context.get("results", {})
        result = results.get(case.name)
        return result.to_dict() if result is not None else None


class PreviewQuerySerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="评估日期，默认为当日")
    sample_size = serializers.IntegerField(required=False, min_value=0, max_value=50, default=10)


class PreviewSampleSerializer(serializers.Serializer):
    credit_code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    verified = serializers.BooleanField()
    summary = serializers.CharField()


class PreviewConditionSerializer(serializers.Serializer):
    path = serializers.CharField()
    wording = serializers.CharField()
    unmet = serializers.IntegerField(help_text="因此条件不符合的企业数")
    unknown = serializers.IntegerField(help_text="此条件信息不足的企业数")


class PreviewSamplesSerializer(serializers.Serializer):
    eligible = PreviewSampleSerializer(many=True)
    needs_info = PreviewSampleSerializer(many=True)
    ineligible = PreviewSampleSerializer(many=True)


class ContradictionSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="这一组条件（all）在规则中的位置，空为整条规则")
    fact = serializers.CharField()
    paths = serializers.ListField(child=serializers.CharField(), help_text="相互矛盾的条件的位置")
    wordings = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()


class UnmeetableConditionSerializer(serializers.Serializer):
    path = serializers.CharField()
    wording = serializers.CharField()
    unknown = serializers.IntegerField(help_text="缺少这项数据的企业数")


class NoEffectConditionSerializer(serializers.Serializer):
    path = serializers.CharField()
    wording = serializers.CharField()


class OverlapSerializer(serializers.Serializer):
    policy_id = serializers.IntegerField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    same_policy = serializers.BooleanField(help_text="是否为本政策的现行版本")
    both = serializers.IntegerField(help_text="同时符合两项政策的企业数")
    share = serializers.FloatField(help_text="占本版本符合企业的百分比")


class AuthoringChecksSerializer(serializers.Serializer):
    """编写检查: warnings, never a blocker."""

    on = serializers.DateField()
    counted = serializers.BooleanField(help_text="是否按区内企业数据检查（无企业时只检查规则本身）")
    eligible = serializers.IntegerField(help_text="按试算日期符合本版本的企业数（不论是否在有效期）")
    contradictions = ContradictionSerializer(many=True, help_text="规则中不可能同时满足的条件")
    unmeetable = UnmeetableConditionSerializer(many=True, help_text="区内没有企业满足的条件")
    no_effect = NoEffectConditionSerializer(many=True, help_text="去掉后区内没有企业结果改变的顶层条件")
    overlaps = OverlapSerializer(many=True, help_text="与现行政策的重合（最多 10 项）")


class PreviewSerializer(serializers.Serializer):
    version_id = serializers.IntegerField()
    on = serializers.DateField()
    in_effect = serializers.BooleanField()
    note = serializers.CharField()
    mode = serializers.CharField()
    total = serializers.IntegerField()
    eligible = serializers.IntegerField()
    needs_info = serializers.IntegerField()
    ineligible = serializers.IntegerField()
    not_in_effect = serializers.IntegerField()
    verified = serializers.IntegerField(allow_null=True, help_text="免申即享：已核验的符合条件企业数")
    conditions = PreviewConditionSerializer(many=True)
    samples = PreviewSamplesSerializer()
    checks = AuthoringChecksSerializer(help_text="编写检查（提示，不影响提交审核）")


# The public 政策计算器


def _calculator_keys() -> str:
    """The calculator's keys (one per registry fact, see matching.core.calculator.FIELDS), with notes."""
    notes = {
        "established_on": " 或 age_years",
        "dishonest": "（未被列入失信名单填 false）",
        "foreign_investor_country": "（无外资填空字符串）",
    }
    keys = [key for key in CALCULATOR_FIELDS if key not in ("name", "credit_code", "age_years")]
    return "、".join(key + notes.get(key, "") for key in keys)


class CalculatorInputSerializer(StrictInputSerializer):
    facts = serializers.DictField(
        help_text=(
            f"企业自行填写的信息，各项均可省略（省略即未知）：{_calculator_keys()}。"
            "数字不能为负，也不能超过登记可能的上限；文字形式的数字只接受普通写法（如 3000.5）。"
            "有误时返回 400，fields 中逐项给出 facts.<字段>、稳定的 code（invalid、out_of_range、unknown_code、"
            "conflict、unknown_field）和中文说明。"
        )
    )


@extend_schema_field(OpenApiTypes.OBJECT)
class OutcomeField(serializers.Field):
    def to_representation(self, value: Any) -> dict[str, Any]:
        return value.to_dict()


class CalculatorPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="version.policy_id")
    key = serializers.CharField(source="version.policy.key")
    version = serializers.IntegerField(source="version.number")
    title = serializers.CharField(source="version.title")
    department = serializers.CharField(source="version.department")
    benefit_kind = serializers.CharField(source="version.benefit_kind")
    mode = serializers.CharField(source="version.mode")
    status = serializers.CharField(source="outcome.status")
    verified = serializers.BooleanField(source="outcome.verified")
    summary = serializers.CharField(source="outcome.summary")
    outcome = OutcomeField(help_text="结果及逐条说明")


class CalculatorCountsSerializer(serializers.Serializer):
    eligible = serializers.IntegerField()
    needs_info = serializers.IntegerField()
    ineligible = serializers.IntegerField()


class CalculatorOutputSerializer(serializers.Serializer):
    on = serializers.DateField()
    counts = CalculatorCountsSerializer()
    results = CalculatorPolicySerializer(many=True)


# Open rules (开放规则): what parks, banks and bookkeeping firms need to run the portal's own rules.


class RuleOnQuerySerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="日期（YYYY-MM-DD），默认今天：返回当日生效的规则")


class OpenGoldenCaseSerializer(serializers.ModelSerializer):
    """A golden case (标准案例) of a public version: an example profile and the outcome the rule must give."""

    class Meta:
        model = GoldenCase
        fields = ["name", "profile", "expected", "on"]


class OpenRuleSerializer(serializers.ModelSerializer):
    """One public version's rule, as JSON, with its period and golden cases."""

    id = serializers.IntegerField(source="policy_id", help_text="政策编号（各版本共用）")
    version = serializers.IntegerField(source="number")
    conditions = serializers.SerializerMethodField(help_text="规则的中文表述")
    golden_cases = OpenGoldenCaseSerializer(many=True, help_text="标准案例：规则对这些示例企业必须给出的结果")

    class Meta:
        model = PolicyVersion
        fields = [
            "id",
            "version",
            "title",
            "status",
            "mode",
            "effective_from",
            "effective_to",
            "published_at",
            "retired_at",
            "rule",
            "conditions",
            "golden_cases",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_conditions(self, version: PolicyVersion) -> list[str]:
        return describe_rule(version.rule)


class OpenRuleInForceSerializer(OpenRuleSerializer):
    on = serializers.SerializerMethodField(help_text="所问的日期")

    class Meta(OpenRuleSerializer.Meta):
        fields = ["on", *OpenRuleSerializer.Meta.fields]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_on(self, version: PolicyVersion) -> str:
        return str(self.context["on"].isoformat())


class CodeLabelSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class OpenFactSerializer(serializers.Serializer):
    """One fact of the registry (事实清单): what a rule's `fact` may name."""

    name = serializers.CharField(help_text="规则中使用的事实代码")
    label = serializers.CharField(help_text="中文名称")  # type: ignore[assignment]
    type = serializers.CharField(help_text="取值类型")
    unit = serializers.CharField(help_text="单位（无单位为空）")
    operators = CodeLabelSerializer(many=True, help_text="可用的比较方式")
    choices = CodeLabelSerializer(many=True, help_text="取值为代码时的可选代码（行业为 GB/T 4754-2017 代码，不在此列）")
    maximum = serializers.CharField(allow_null=True, help_text="可填报的最大值（数值事实）")
    verified_by = CodeLabelSerializer(many=True, help_text="其数据可作为核验依据的部门")
    shared_by = CodeLabelSerializer(many=True, help_text="通过部门信息共享提供此数据的部门")
