"""Matching results: the profile projection the bulk path reads, match records, their changes and runs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from portal.jobs import Job

from .core.registry import FACTS, FactSpec, ValueType


def projection_number(name: str) -> models.DecimalField:
    """The projection column of a number fact: wide enough for any value the register holds."""
    spec: FactSpec = FACTS[name]
    assert spec.type in (ValueType.INTEGER, ValueType.NUMBER) and spec.stored is not None, name
    return models.DecimalField(max_digits=spec.stored.projection_digits, decimal_places=4, null=True)


class MatchOutcome(models.TextChoices):
    ELIGIBLE = "eligible", "符合"
    NEEDS_INFO = "needs_info", "需补充信息"
    INELIGIBLE = "ineligible", "不符合"


class MatchProfile(models.Model):
    """The scalar facts of one enterprise's profile in typed columns, for the SQL bulk path.

    Written only by `matching.services.match_profiles_refresh` from the same plain-data
    `EnterpriseProfile` the pure evaluator reads, so both paths see the same facts: a column is
    NULL exactly when the evaluator would find the fact unknown, and `*_verified` is the registry's
    verdict on its source. Qualifications and sites are read from the registry's own tables.
    One column and one flag per registry fact read from a profile key (projection.SCALAR_COLUMNS;
    tests/matching/test_fact_definitions.py holds the two together); number columns are derived.
    """

    enterprise = models.OneToOneField(
        "enterprises.Enterprise", primary_key=True, on_delete=models.CASCADE, related_name="match_profile"
    )
    industry_code = models.CharField(max_length=4, null=True, db_index=True)  # noqa: DJ001 - NULL is unknown; "" is a known value
    industry_verified = models.BooleanField(default=False)
    size = models.CharField(max_length=12, null=True, db_index=True)  # noqa: DJ001 - NULL is unknown; "" is a known value
    size_verified = models.BooleanField(default=False)
    employees = projection_number("employees")
    employees_verified = models.BooleanField(default=False)
    revenue = projection_number("revenue")
    revenue_verified = models.BooleanField(default=False)
    total_assets = projection_number("total_assets")
    total_assets_verified = models.BooleanField(default=False)
    rd_expense_ratio = projection_number("rd_expense_ratio")
    rd_expense_ratio_verified = models.BooleanField(default=False)
    established_on = models.DateField(null=True)
    established_on_verified = models.BooleanField(default=False)
    tax_credit_rating = models.CharField(max_length=1, null=True)  # noqa: DJ001 - NULL is unknown; "" is a known value
    tax_credit_rating_verified = models.BooleanField(default=False)
    dishonest = models.BooleanField(null=True)
    dishonest_verified = models.BooleanField(default=False)
    above_designated_size = models.BooleanField(null=True)
    above_designated_size_verified = models.BooleanField(default=False)
    foreign_investor_country = models.CharField(max_length=2, null=True)  # noqa: DJ001 - NULL is unknown; "" is a known value
    foreign_investor_country_verified = models.BooleanField(default=False)
    social_insurance_staff = projection_number("social_insurance_staff")
    social_insurance_staff_verified = models.BooleanField(default=False)
    invention_patents = projection_number("invention_patents")
    invention_patents_verified = models.BooleanField(default=False)
    rd_staff = projection_number("rd_staff")
    rd_staff_verified = models.BooleanField(default=False)
    has_sites = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = "匹配用企业画像"
        verbose_name_plural = "匹配用企业画像"

    def __str__(self) -> str:
        return f"profile of enterprise {self.enterprise_id}"


class MatchRecord(models.Model):
    """The current decision for one (enterprise, policy version).

    Rows exist for every pair that is or ever was eligible or needs_info; a pair that was always
    ineligible has no row (its absence means ineligible), which keeps a district-wide run small.
    """

    # No single-column indexes: match_record_unique_pair leads with the enterprise and
    # match_record_version_idx with the version, and every decision written updates each index.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="match_records", db_index=False
    )
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", on_delete=models.CASCADE, related_name="match_records", db_index=False
    )
    outcome = models.CharField("结果", max_length=12, choices=MatchOutcome.choices)
    verified = models.BooleanField("已核验", default=False)
    # One letter per condition of the rule in document order (M met, N unmet, U unknown): the
    # decision's reasons as they stood, written by both the bulk and the incremental path.
    states = models.CharField("各条件结果", max_length=500, default="")
    # The evaluator's full explanation (Outcome.to_dict()), written with the decision in the same
    # statement (bulk) or transaction (incremental), and restated, with no push, when a fact, source or
    # date it shows moves while the outcome stands. Null only where nothing was checked (not in effect).
    explanation = models.JSONField("判定说明", null=True, blank=True)
    # The change that produced the current decision stays visible on the row itself (newly
    # eligible: previous "" or ineligible → eligible), tagged with the run that made it, so the
    # notification step can act on exactly the rows a run changed.
    previous_outcome = models.CharField("原结果", max_length=12, blank=True, default="")
    previous_verified = models.BooleanField("原已核验", default=False)
    run = models.ForeignKey("MatchRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_decided_at = models.DateTimeField("首次判定时间")
    decided_at = models.DateTimeField("最近判定变化时间")

    class Meta:
        verbose_name = "匹配结果"
        verbose_name_plural = "匹配结果"
        constraints = [
            # On PostgreSQL its index also carries outcome, verified and states (INCLUDE, migration 0009): the
            # full pass and the nightly run read the stored decisions by index-only scans, not the rows.
            models.UniqueConstraint(fields=("enterprise", "policy_version"), name="match_record_unique_pair"),
            models.CheckConstraint(condition=Q(outcome__in=MatchOutcome.values), name="match_record_outcome_valid"),
        ]
        indexes = [models.Index(fields=("policy_version", "enterprise"), name="match_record_version_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.policy_version_id}: {self.outcome}"

    @property
    def change_kind(self) -> str:
        """What the last change was: newly_eligible, no_longer_eligible, newly_verified, …"""
        return change_kind(self.previous_outcome, self.previous_verified, self.outcome, self.verified)


def change_kind(previous_outcome: str, previous_verified: bool, outcome: str, verified: bool) -> str:
    if outcome == MatchOutcome.ELIGIBLE:
        if previous_outcome != MatchOutcome.ELIGIBLE:
            return "newly_eligible"
        return "newly_verified" if verified and not previous_verified else "no_longer_verified"
    if previous_outcome == MatchOutcome.ELIGIBLE:
        return "no_longer_eligible"
    if outcome == MatchOutcome.NEEDS_INFO:
        return "needs_info"
    return "no_longer_needs_info"


# change_kind's values in words, for pages and command output (the codes stay in the API and logs).
CHANGE_KIND_LABELS: dict[str, str] = {
    "newly_eligible": "新符合条件",
    "no_longer_eligible": "不再符合条件",
    "newly_verified": "经部门数据核验确认",
    "no_longer_verified": "仍符合但不再经核验",
    "needs_info": "变为需补充信息",
    "no_longer_needs_info": "由需补充信息变为不符合",
}


def change_counts_text(changes: dict[str, int]) -> str:
    """{"newly_eligible": 3, "needs_info": 1} → "新符合条件 3 条，变为需补充信息 1 条" (known kinds first)."""
    order = [k for k in CHANGE_KIND_LABELS if changes.get(k)] + sorted(
        k for k in changes if k not in CHANGE_KIND_LABELS and changes[k]
    )
    return "，".join(f"{CHANGE_KIND_LABELS.get(k, '其他变化')} {changes[k]} 条" for k in order)


class MatchRun(Job):
    """One matching job, with progress for the staff console (status, claim and heartbeat: portal.jobs)."""

    class Kind(models.TextChoices):
        POLICY = "policy", "政策发布匹配"
        ENTERPRISES = "enterprises", "企业信息变化匹配"
        NIGHTLY = "nightly", "每日匹配"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="match_runs"
    )
    # For kind=enterprises: whose facts changed (kept so a sweep can re-send a lost task).
    enterprise_ids = models.JSONField("企业", default=list, blank=True)
    # For kind=nightly: the day it covers. Unique, so a redelivered beat message asks for no second run.
    nightly_for = models.DateField("每日匹配日期", null=True, blank=True, unique=True)
    # For kind=nightly: how it ran and why (matching.nightly): full pass or only what the dates moved since
    # the previous run, the day it decided on, the enterprises re-decided per reason. {} before it ran.
    nightly = models.JSONField("每日匹配说明", default=dict, blank=True)
    changed = models.JSONField("变化统计", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    # Where a district-wide run (kind=policy) resumes: the first enterprise id of the next chunk, written in
    # the chunk's own transaction, so a revived run skips exactly the chunks that committed.
    cursor = models.BigIntegerField("续跑位置", null=True, blank=True)

    class Meta:
        verbose_name = "匹配任务"
        verbose_name_plural = "匹配任务"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.status_label}"


class MatchRunChunk(Job):
    """One enterprise-id range (lo <= id < hi) of a nightly run's one pass, a job of its own.

    A nightly run spread over workers (`matching.passchunks`) is cut into these rows; each is sent as its own
    task and any worker claims it (portal.jobs: one conditional UPDATE, claim token, heartbeat, sweep). Its
    decisions, entitlements and notices commit in one transaction with its status `done`, so a chunk is
    decided exactly once whoever holds it; whoever commits the last chunk finishes the run. `on` and
    `version_ids` are fixed when the run is cut: every chunk decides the same versions as of the same day.
    """

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="chunks")
    lo = models.BigIntegerField("起始企业编号")
    hi = models.BigIntegerField("结束企业编号（不含）")
    on = models.DateField("判定日期")
    version_ids = models.JSONField("政策版本", default=list)
    changed = models.JSONField("变化统计", default=dict, blank=True)
    changed_records = models.PositiveIntegerField("变化条数", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "匹配任务分片"
        verbose_name_plural = "匹配任务分片"
        ordering = ("run", "lo")
        constraints = [
            models.UniqueConstraint(fields=("run", "lo"), name="match_run_chunk_unique_range"),
            models.CheckConstraint(condition=Q(lo__lt=models.F("hi")), name="match_run_chunk_range_valid"),
        ]
        indexes = [models.Index(fields=("status", "heartbeat_at"), name="match_run_chunk_status_idx")]

    def __str__(self) -> str:
        return f"match run #{self.run_id} [{self.lo}, {self.hi}) {self.status_label}"
