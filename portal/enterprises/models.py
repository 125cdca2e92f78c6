"""The enterprise registry (企业库): enterprises and their facts with provenance, qualifications, sites, places."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from matching.core.reading import MAX_STORED_INTEGER
from matching.core.registry import FACTS, stored_facts
from matching.core.vocabulary import DEPARTMENT_SOURCES, QUALIFICATION_KINDS, SIZES, SOURCES, TAX_CREDIT_RATINGS
from portal.jobs import Job

from . import sizing
from .industries import industry_name

SOURCE_CHOICES = list(SOURCES.items())
MARKET_REGULATION = "market_regulation"

# Profile facts an enterprise row holds, in registry order (matching.core.registry: one definition per
# fact, its `stored` column named by profile_key). Each has provenance in Enterprise.provenance.
FACT_FIELDS: tuple[str, ...] = tuple(spec.profile_key for spec in stored_facts())
# `name` also carries provenance (the registered name comes from market regulation).
TRACKED_FIELDS: tuple[str, ...] = ("name", *FACT_FIELDS)
SIZE_INPUTS: tuple[str, ...] = ("industry_code", "employees", "revenue", "total_assets")


def register_count(name: str) -> models.PositiveIntegerField:
    """The register's column for a count fact (a whole number of people or items), from its definition."""
    spec = FACTS[name]
    assert spec.stored is not None and spec.stored.largest(integer=True) <= MAX_STORED_INTEGER, name
    return models.PositiveIntegerField(spec.title, null=True, blank=True)


def register_amount(name: str) -> models.DecimalField:
    """The register's column for a decimal fact (an amount or a ratio), from its definition."""
    spec = FACTS[name]
    assert spec.stored is not None, name
    return models.DecimalField(
        spec.title, max_digits=spec.stored.digits, decimal_places=spec.stored.places, null=True, blank=True
    )


class Zone(models.Model):
    """功能区 (三区). Initial rows from matching.core.vocabulary.ZONES; administrators edit names and mapping."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ("sort_order", "code")
        verbose_name = "功能区"
        verbose_name_plural = "功能区"

    def __str__(self) -> str:
        return self.name


class Park(models.Model):
    """特色园区. Initial rows from matching.core.vocabulary.PARKS."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ("sort_order", "code")
        verbose_name = "特色园区"
        verbose_name_plural = "特色园区"

    def __str__(self) -> str:
        return self.name


class Township(models.Model):
    """乡级单位 of 320505 (统计用区划代码, 9 digits) and the functional zone it belongs to."""

    code = models.CharField("区划代码", max_length=9, unique=True)
    name = models.CharField("名称", max_length=100)
    zone = models.ForeignKey(
        Zone, verbose_name="所属功能区", null=True, blank=True, on_delete=models.SET_NULL, related_name="townships"
    )

    class Meta:
        ordering = ("code",)
        verbose_name = "街道（镇）"
        verbose_name_plural = "街道（镇）"
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{9}$"), name="township_code_9_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Size(models.TextChoices):
    LARGE = "large", SIZES["large"]
    MEDIUM = "medium", SIZES["medium"]
    SMALL = "small", SIZES["small"]
    MICRO = "micro", SIZES["micro"]
    UNCLASSIFIED = "unclassified", SIZES["unclassified"]


class Enterprise(models.Model):
    """One enterprise (one business licence). Facts carry provenance: see `provenance`."""

    # Unique through Meta.constraints (a plain unique index; unique=True would add a second LIKE index on PG).
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    name = models.CharField("企业名称", max_length=200)
    industry_code = models.CharField("国民经济行业（小类）", max_length=4, blank=True, default="")
    established_on = models.DateField("成立日期", null=True, blank=True)
    employees = register_count("employees")
    revenue = register_amount("revenue")
    total_assets = register_amount("total_assets")
    above_designated_size = models.BooleanField("规模以上企业", null=True, blank=True)
    # ISO 3166 alpha-2 of the foreign investor ("JP" for 日资); "" for none. Known only when it has provenance.
    foreign_investor_country = models.CharField("外资来源国家（地区）", max_length=2, blank=True, default="")
    rd_expense_ratio = register_amount("rd_expense_ratio")
    tax_credit_rating = models.CharField(
        "纳税信用等级", max_length=1, blank=True, default="", choices=list(TAX_CREDIT_RATINGS.items())
    )
    dishonest = models.BooleanField("列入严重失信主体名单", null=True, blank=True)
    social_insurance_staff = register_count("social_insurance_staff")
    invention_patents = register_count("invention_patents")
    rd_staff = register_count("rd_staff")

    # Derived: recomputed by the services whenever an input changes; never typed in.
    size = models.CharField("企业规模", max_length=12, choices=Size.choices, default=Size.UNCLASSIFIED)
    size_basis = models.CharField("划型依据", max_length=300, blank=True, default="")

    # {fact: {"source": "<vocabulary.SOURCES code>", "as_of": "YYYY-MM-DD" | None}} for every known fact.
    # One JSON column keeps bulk reads and the feed's bulk writes to a single column.
    provenance = models.JSONField("数据来源", default=dict, blank=True)

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ("name", "credit_code")
        verbose_name = "企业"
        verbose_name_plural = "企业"
        # Few indexes on purpose: feeds update this table in bulk, and every index is written on each update.
        # One pattern-ops index serves both `industry_code = x` and the prefix filters (LIKE 'x%').
        indexes = [
            models.Index(fields=("industry_code",), name="enterprise_industry", opclasses=("varchar_pattern_ops",))
        ]
        constraints = [
            models.UniqueConstraint(fields=("credit_code",), name="enterprise_credit_code_unique"),
            models.CheckConstraint(condition=models.Q(revenue__gte=0), name="enterprise_revenue_non_negative"),
            models.CheckConstraint(condition=models.Q(total_assets__gte=0), name="enterprise_assets_non_negative"),
            models.CheckConstraint(
                condition=models.Q(rd_expense_ratio__gte=0, rd_expense_ratio__lte=100),
                name="enterprise_rd_ratio_percent",
            ),
            models.CheckConstraint(condition=models.Q(size__in=Size.values), name="enterprise_size_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    # Provenance helpers -------------------------------------------------------------------------

    def fact_source(self, key: str) -> str | None:
        entry = self.provenance.get(key)
        return entry["source"] if entry else None

    def fact_as_of(self, key: str) -> date | None:
        entry = self.provenance.get(key)
        return date.fromisoformat(entry["as_of"]) if entry and entry.get("as_of") else None

    def fact_verified(self, key: str) -> bool:
        return self.fact_source(key) in DEPARTMENT_SOURCES

    def fact_known(self, key: str) -> bool:
        return key in self.provenance and getattr(self, key) is not None

    @property
    def industry_name(self) -> str:
        return industry_name(self.industry_code) or ""

    def size_result(self) -> sizing.SizeResult:
        return sizing.classify(
            industry_code=self.industry_code or None,
            employees=self.employees,
            revenue=self.revenue,
            total_assets=self.total_assets,
        )

    def recompute_size(self) -> bool:
        """Set size and size_basis from the inputs; True when either changed."""
        result = self.size_result()
        changed = (self.size, self.size_basis) != (result.size, result.basis)
        self.size, self.size_basis = result.size, result.basis
        return changed


class QualificationKind(models.TextChoices):
    HIGH_TECH = "high_tech", QUALIFICATION_KINDS["high_tech"]
    TECH_SME = "tech_sme", QUALIFICATION_KINDS["tech_sme"]
    GAZELLE = "gazelle", QUALIFICATION_KINDS["gazelle"]
    UNICORN_CULTIVATION = "unicorn_cultivation", QUALIFICATION_KINDS["unicorn_cultivation"]
    SPECIALIZED_SME = "specialized_sme", QUALIFICATION_KINDS["specialized_sme"]
    LITTLE_GIANT = "little_giant", QUALIFICATION_KINDS["little_giant"]
    SINGLE_CHAMPION = "single_champion", QUALIFICATION_KINDS["single_champion"]
    SERVICE_MANUFACTURING = "service_manufacturing", QUALIFICATION_KINDS["service_manufacturing"]


class Qualification(models.Model):
    """企业资质. Counts only on days inside [valid_from, valid_to]."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField("资质类型", max_length=32, choices=QualificationKind.choices)
    certificate_no = models.CharField("证书编号", max_length=64, blank=True, default="")
    valid_from = models.DateField("有效期起")
    valid_to = models.DateField("有效期止", null=True, blank=True)
    source = models.CharField("数据来源", max_length=32, choices=SOURCE_CHOICES)
    as_of = models.DateField("数据日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ("enterprise_id", "kind", "-valid_from")
        verbose_name = "企业资质"
        verbose_name_plural = "企业资质"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="qualification_validity_ordered",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=QualificationKind.values), name="qualification_kind"),
            models.UniqueConstraint(
                fields=("enterprise", "kind", "certificate_no"),
                condition=~models.Q(certificate_no=""),
                name="qualification_unique_certificate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certificate_no}".strip()

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def verified(self) -> bool:
        return self.source in DEPARTMENT_SOURCES


class Site(models.Model):
    """经营场所 under the enterprise's one licence (一照多址). Inside 320505 only: elsewhere needs a branch."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", "住所（注册地址）"
        OPERATING = "operating", "经营场所（一照多址备案）"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="sites")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices, default=Kind.OPERATING)
    address = models.CharField("地址", max_length=300)
    township = models.ForeignKey(Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="sites")
    parks = models.ManyToManyField(Park, verbose_name="特色园区", blank=True, related_name="sites")
    # A 一照多址 filing is an official record (备案) the moment it is made.
    source = models.CharField("数据来源", max_length=32, choices=SOURCE_CHOICES, default=MARKET_REGULATION)
    filed_at = models.DateTimeField("备案时间", default=timezone.now)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="备案人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("enterprise_id", "kind", "filed_at", "id")
        verbose_name = "经营场所"
        verbose_name_plural = "经营场所"
        constraints = [
            models.UniqueConstraint(
                fields=("enterprise",), condition=models.Q(kind="registered"), name="site_one_registered_address"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def as_of(self) -> date:
        return timezone.localdate(self.filed_at)


class FeedImport(Job):
    """One batch of department records (部门信息共享), from the API, a file upload or the command line.

    Only console uploads are processed later, by a worker (status, claim and heartbeat: portal.jobs);
    the other channels are recorded done at once.
    """

    RUNNING_LABEL = "导入中"
    QUEUED_SINCE = "received_at"

    class Channel(models.TextChoices):
        API = "api", "接口推送"
        UPLOAD = "upload", "管理后台上传"
        COMMAND = "command", "命令行导入"
        CONSOLE = "console", "工作台上传"

    source = models.CharField("数据来源部门", max_length=32, choices=SOURCE_CHOICES)
    channel = models.CharField("方式", max_length=16, choices=Channel.choices)
    filename = models.CharField("文件名", max_length=255, blank=True, default="")
    api_key = models.ForeignKey(
        "accounts.DepartmentApiKey",
        verbose_name="接口密钥",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, blank=True, on_delete=models.SET_NULL
    )
    received_at = models.DateTimeField("接收时间", default=timezone.now, db_index=True)
    accepted = models.PositiveIntegerField("接受", default=0)
    rejected = models.PositiveIntegerField("拒绝", default=0)
    changed = models.PositiveIntegerField("有变更的记录", default=0)
    created = models.PositiveIntegerField("新建企业", default=0)
    # First rejected records with their reasons, for the admin page (the full list is in the response).
    rejections = models.JSONField("拒绝原因（节选）", default=list, blank=True)
    # A console upload: the stored file, its processing and the per-record error report. Rows of the
    # other channels are written done at once, hence the default.
    status = models.CharField("状态", max_length=12, choices=Job.Status.choices, default=Job.Status.DONE)
    file = models.FileField("文件", upload_to="feeds/%Y/%m/", blank=True)
    default_as_of = models.DateField("默认数据日期", null=True, blank=True)
    # [{"row": file row number, "credit_code", "field", "code", "message"}, …], one line per problem.
    report = models.JSONField("逐条错误报告", default=list, blank=True)

    class Meta:
        ordering = ("-received_at",)
        verbose_name = "部门数据导入"
        verbose_name_plural = "部门数据导入"

    def __str__(self) -> str:
        return f"{self.get_source_display()} {timezone.localtime(self.received_at):%Y-%m-%d %H:%M}"

    @property
    def unchanged(self) -> int:
        """Accepted records that changed no value (the same data again, or only a newer date)."""
        return self.accepted - self.changed


class EnterpriseChange(models.Model):
    """History: every accepted change to an enterprise's facts, qualifications and sites — who (user, or the
    department and its key), when, and for each field the old and the new value.

    One row per change event (one service call, or one enterprise in one feed batch), listing its field
    changes, rather than one row per field: a 100,000-record feed writes 100,000 rows, not 450,000. An
    append-only audit table: its foreign keys have no database constraint (each would cost a lookup per
    row at commit) and only the index its reads need.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="changes", db_constraint=False, db_index=False
    )
    # [{"field": <fact key, "size", "qualification:<kind>", "site" or "created">, "old": …, "new": …}, …]
    changes = models.JSONField("变更内容", default=list)
    source = models.CharField("数据来源", max_length=32, choices=SOURCE_CHOICES)
    as_of = models.DateField("数据日期", null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    feed_import = models.ForeignKey(
        FeedImport,
        verbose_name="导入批次",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        db_constraint=False,
        db_index=False,
    )
    changed_at = models.DateTimeField("变更时间", default=timezone.now)

    class Meta:
        ordering = ("-changed_at", "-id")
        verbose_name = "企业信息变更记录"
        verbose_name_plural = "企业信息变更记录"
        indexes = [models.Index(fields=("enterprise", "-changed_at"), name="enterprise_change_recent")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.fields}"

    @property
    def fields(self) -> list[str]:
        return [c["field"] for c in self.changes]

    @property
    def summary(self) -> str:
        """In Chinese, e.g. "从业人员：120→150；营业收入：8000.00→9000.00"."""
        return "；".join(
            f"{field_label(c['field'])}：{_show(c.get('old'))}→{_show(c.get('new'))}" for c in self.changes
        )

    def change_for(self, field: str) -> dict[str, Any] | None:
        """The {"field", "old", "new"} item for `field` in this event, if any."""
        return next((c for c in self.changes if c["field"] == field), None)

    @property
    def who(self) -> str:
        if self.changed_by_id:
            return str(self.changed_by)
        if self.feed_import is not None and self.feed_import.api_key_id:
            return str(self.feed_import.api_key)
        return SOURCES.get(self.source, self.source)


def field_label(field: str) -> str:
    """Chinese label of a history field key."""
    if field in ("size", *TRACKED_FIELDS):
        model_field = Enterprise._meta.get_field(field)
        assert isinstance(model_field, models.Field)  # tracked fields are the model's own columns
        return str(model_field.verbose_name)
    if field.startswith("qualification:"):
        return QUALIFICATION_KINDS.get(field.partition(":")[2], field)
    return {"site": "经营场所", "created": "登记入库"}.get(field, field)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, dict):
        if "address" in value:  # a site
            return str(value["address"])
        if "valid_from" in value:  # a qualification
            until = value.get("valid_to") or "长期"
            return f"{value.get('certificate_no') or '无证书编号'}（{value['valid_from']}至{until}）"
        return "，".join(str(v) for v in value.values() if v not in (None, "", []))
    return str(value)


def json_value(value: Any) -> Any:
    """A fact value as stored in history / sent over JSON (Decimal and date as strings)."""
    if value is None or isinstance(value, (bool, int, str, dict, list)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
