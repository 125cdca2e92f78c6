"""Reads of the enterprise registry, scoped by user, and the enterprise profile (企业画像) for matching."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord
from matching.core.thresholds import Derivation
from matching.core.vocabulary import SELF_DECLARED, SIZES, SOURCE_JOINER, source_codes
from portal.accounts.backends import own_enterprise
from portal.accounts.roles import Role, has_role, is_staff_user

from . import credit_code as cc
from . import industries, sizing
from .models import (
    FACT_FIELDS,
    Enterprise,
    EnterpriseChange,
    FeedImport,
    Qualification,
    QualificationKind,
    Site,
    Size,
)

if TYPE_CHECKING:
    from portal.accounts.models import DepartmentApiKey, User


# --- Profiles -------------------------------------------------------------------------------------

_SITES_PREFETCH = Prefetch(
    "sites",
    queryset=Site.objects.select_related("township__zone").prefetch_related("parks").order_by("pk"),
)
_QUALIFICATIONS_PREFETCH = Prefetch("qualifications", queryset=Qualification.objects.order_by("pk"))
# What `enterprise_profile` reads, for callers that load an enterprise themselves (e.g. under a lock).
PROFILE_PREFETCHES = (_QUALIFICATIONS_PREFETCH, _SITES_PREFETCH)


def _as_of(entry: Mapping[str, Any] | None) -> date | None:
    return _iso_date(entry["as_of"]) if entry and entry.get("as_of") else None


@functools.lru_cache(maxsize=4096)
def _iso_date(text: str) -> date:
    # A feed stamps thousands of facts with the same few dates: parsed once each.
    return date.fromisoformat(text)


def _size_fact(values: Mapping[str, Any], facts: Mapping[str, Fact]) -> Fact | None:
    """Size from its inputs, with the provenance of the figures that decided it.

    The class is the lowest tier the indicators reach, so the figures that decided it are those at
    that tier (from 统计局, 税务局 …): the fact names their department(s) (joined with "+" when
    several) and the oldest of their dates, not the industry code's 市场监督管理局 or whichever input
    happens to be oldest. If any input was self-declared, the size is self-declared (not verified):
    a self-declared figure could be wrong and, lower, change the class.

    Omitted (unknown) when the industry or a needed indicator is missing: the evaluator must see
    `unknown`, not a guess. An industry outside the 2017 table gives the value "unclassified".
    """
    result = sizing.classify(
        industry_code=values.get("industry_code") or None,
        employees=values.get("employees"),
        revenue=values.get("revenue"),
        total_assets=values.get("total_assets"),
    )
    if result.reason in (sizing.REASON_UNKNOWN_INDUSTRY, sizing.REASON_MISSING_INDICATOR):
        return None
    inputs = [facts[k] for k in result.inputs if k in facts]
    if len(inputs) != len(result.inputs):
        return None  # an input has a value but no provenance: do not vouch for it
    # Not covered by the table: the industry code alone decided ("unclassified").
    deciding_keys = [k for k, tier in result.tiers.items() if tier == result.size] or ["industry_code"]
    deciding = [facts[k] for k in deciding_keys]
    dated = [f.as_of for f in deciding if f.as_of is not None]
    oldest = min(dated) if dated else None
    if any(f.source == SELF_DECLARED for f in inputs):
        return Fact(result.size, SELF_DECLARED, oldest)
    departments = list(dict.fromkeys(code for f in deciding for code in source_codes(f.source)))
    return Fact(result.size, SOURCE_JOINER.join(departments), oldest)


def _derive_size(facts: Mapping[str, Fact]) -> Fact | None:
    return _size_fact({key: fact.value for key, fact in facts.items()}, facts)


def _size_breaks(facts: Mapping[str, Fact], key: str) -> tuple[Any, ...]:
    industry = facts.get("industry_code")
    return sizing.indicator_bounds(industry.value if industry is not None else None, key)


# Size as the matching core's threshold search sees it: derived from the industry and the indicators
# by the 2017 table, changing only at the table's lower bounds (matching.core.thresholds).
SIZE_DERIVATION = Derivation(
    key="size",
    inputs=frozenset(sizing.INDICATORS),
    derive=_derive_size,
    breaks=_size_breaks,
    labels=SIZES,
)


def profile_facts(*, values: Mapping[str, Any], provenance: Mapping[str, Any]) -> dict[str, Fact]:
    """An enterprise's scalar facts (size included) from its fact values and provenance.

    A fact is known only when it has both a value and provenance. Shared by `enterprise_profile`
    and bulk readers that fetch plain rows instead of model instances.
    """
    facts: dict[str, Fact] = {}
    for key in FACT_FIELDS:
        entry = provenance.get(key)
        value = values.get(key)
        if entry is None or value is None:
            continue
        facts[key] = Fact(value, entry["source"], _as_of(entry))
    size = _size_fact(values, facts)
    if size is not None:
        facts["size"] = size
    return facts


def _profile(enterprise: Enterprise) -> EnterpriseProfile:
    facts = profile_facts(
        values={key: getattr(enterprise, key) for key in FACT_FIELDS}, provenance=enterprise.provenance or {}
    )
    qualifications = tuple(
        QualificationRecord(
            kind=q.kind,
            valid_from=q.valid_from,
            valid_to=q.valid_to,
            source=q.source,
            as_of=q.as_of,
            certificate_no=q.certificate_no,
        )
        for q in enterprise.qualifications.all()
    )
    sites = tuple(
        SiteRecord(
            township_code=s.township.code,
            zone_code=s.township.zone.code if s.township.zone is not None else None,
            park_codes=tuple(sorted(p.code for p in s.parks.all())),
            source=s.source,
            as_of=s.as_of,
        )
        for s in enterprise.sites.all()
    )
    return EnterpriseProfile(
        credit_code=enterprise.credit_code,
        name=enterprise.name,
        facts=facts,
        qualifications=qualifications,
        sites=sites,
    )


def enterprise_profile(*, enterprise: Enterprise) -> EnterpriseProfile:
    """The profile of one enterprise (uses prefetched qualifications and sites when present)."""
    return _profile(enterprise)


def _chunks(queryset: QuerySet[Enterprise] | None, chunk_size: int) -> Iterator[list[Enterprise]]:
    """Enterprises in primary-key order, `chunk_size` at a time (keyset pagination, not OFFSET)."""
    base = (queryset if queryset is not None else Enterprise.objects.all()).order_by("pk")
    last_pk = 0
    while True:
        chunk = list(
            base.filter(pk__gt=last_pk).prefetch_related(_QUALIFICATIONS_PREFETCH, _SITES_PREFETCH)[:chunk_size]
        )
        if chunk:
            yield chunk
        if len(chunk) < chunk_size:
            return
        last_pk = chunk[-1].pk


def enterprise_profiles(
    *, queryset: QuerySet[Enterprise] | None = None, chunk_size: int = 2000
) -> Iterator[EnterpriseProfile]:
    """Profiles of many enterprises in primary-key order, `chunk_size` at a time.

    Each chunk costs a constant number of queries (enterprises, qualifications, sites with their
    township and zone, parks), whatever the number of enterprises.
    """
    for chunk in _chunks(queryset, chunk_size):
        for enterprise in chunk:
            yield _profile(enterprise)


def enterprise_profiles_by_id(
    *, queryset: QuerySet[Enterprise] | None = None, chunk_size: int = 2000
) -> Iterator[tuple[int, EnterpriseProfile]]:
    """Like enterprise_profiles, with each enterprise's primary key (for writing results keyed by id)."""
    for chunk in _chunks(queryset, chunk_size):
        for enterprise in chunk:
            yield enterprise.pk, _profile(enterprise)


def enterprise_profiles_read(*, enterprise_ids: Iterable[int]) -> dict[int, EnterpriseProfile]:
    """The profiles `enterprise_profiles_by_id` gives for these enterprises, read as plain rows (four
    queries, no model instances): building ORM instances of enterprises, qualifications, sites, townships,
    zones and parks costs about a millisecond per enterprise, which a reader of thousands (the nightly
    run's crossings) would pay for nothing. tests/enterprises/test_profiles_read.py holds the two equal."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return {}
    qualifications: dict[int, list[QualificationRecord]] = {}
    rows = (
        Qualification.objects.filter(enterprise_id__any_of=ids)
        .order_by("pk")
        .values_list("enterprise_id", "kind", "valid_from", "valid_to", "source", "as_of", "certificate_no")
    )
    for enterprise_id, kind, valid_from, valid_to, source, as_of, certificate_no in rows:
        record = QualificationRecord(kind, valid_from, valid_to, source, as_of, certificate_no)
        qualifications.setdefault(enterprise_id, []).append(record)
    site_rows = list(
        Site.objects.filter(enterprise_id__any_of=ids)
        .order_by("pk")
        .values_list("pk", "enterprise_id", "township__code", "township__zone__code", "source", "filed_at")
    )
    parks: dict[int, list[str]] = {}
    through = Site.parks.through.objects.filter(site_id__any_of=[row[0] for row in site_rows])
    for site_id, code in through.values_list("site_id", "park__code"):
        parks.setdefault(site_id, []).append(code)
    sites: dict[int, list[SiteRecord]] = {}
    zone_info = timezone.get_current_timezone()  # once: timezone.localdate looks it up on every call
    for site_id, enterprise_id, township, zone, source, filed_at in site_rows:
        # Site.as_of: the filing's local date.
        as_of = timezone.localdate(filed_at, zone_info)
        site = SiteRecord(township, zone, tuple(sorted(parks.get(site_id, ()))), source, as_of)
        sites.setdefault(enterprise_id, []).append(site)
    found: dict[int, EnterpriseProfile] = {}
    columns = ("pk", "credit_code", "name", *FACT_FIELDS, "provenance")
    for pk, credit_code, name, *cells in Enterprise.objects.filter(pk__any_of=ids).values_list(*columns):
        values = dict(zip(FACT_FIELDS, cells[:-1], strict=True))
        found[pk] = EnterpriseProfile(
            credit_code=credit_code,
            name=name,
            facts=profile_facts(values=values, provenance=cells[-1] or {}),
            qualifications=tuple(qualifications.get(pk, ())),
            sites=tuple(sites.get(pk, ())),
        )
    return found


# --- Scoped reads ---------------------------------------------------------------------------------


def enterprise_queryset_for_user(*, user: User) -> QuerySet[Enterprise]:
    """Enterprises a user may see: all for staff, their own for an enterprise user, none otherwise."""
    if is_staff_user(user):
        return Enterprise.objects.all()
    enterprise_id = getattr(user, "enterprise_id", None) if getattr(user, "is_authenticated", False) else None
    if enterprise_id is None or not user.is_active:
        return Enterprise.objects.none()
    return Enterprise.objects.filter(pk=enterprise_id)


def enterprise_get_for_user(*, user: User, credit_code: str) -> Enterprise:
    """The enterprise with that code if the user may see it; Http404 otherwise (strangers learn nothing)."""
    code = cc.normalise(credit_code)
    enterprise = enterprise_queryset_for_user(user=user).filter(credit_code=code).first()
    if enterprise is None:
        raise Http404("未找到该企业")
    return enterprise


def enterprise_id_for_user(*, user: User, credit_code: str) -> int:
    """The id of the enterprise with that code if the user may see it (one indexed query, no columns
    read); Http404 otherwise, as enterprise_get_for_user."""
    code = cc.normalise(credit_code)
    own = own_enterprise(user)
    if own is not None and user.is_active and not is_staff_user(user):
        # An enterprise user whose enterprise's code was read with the user in this request
        # (portal.accounts.backends): the same question as the query below, answered from that read.
        if code != own[1]:
            raise Http404("未找到该企业")
        return own[0]
    found = enterprise_queryset_for_user(user=user).filter(credit_code=code).values_list("pk", flat=True).first()
    if found is None:
        raise Http404("未找到该企业")
    return found


def _validate_industry(value: str) -> None:
    for part in value.split(","):
        if part.strip() and not industries.is_code(part.strip()):
            raise ValidationError("不是GB/T 4754-2017中的行业代码", code="invalid_industry_code")


class EnterpriseFilter(django_filters.FilterSet):
    industry = django_filters.CharFilter(method="filter_industry", validators=[_validate_industry])
    size = django_filters.MultipleChoiceFilter(choices=Size.choices)
    zone = django_filters.CharFilter(method="filter_zone")
    park = django_filters.CharFilter(method="filter_park")
    township = django_filters.CharFilter(method="filter_township")
    qualification = django_filters.MultipleChoiceFilter(
        method="filter_qualification", choices=QualificationKind.choices
    )
    above_designated_size = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = Enterprise
        fields = ("industry", "size", "zone", "park", "township", "qualification", "above_designated_size", "q")

    def filter_industry(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        """A 门类 letter or 2–4 digit prefix; several separated by commas (any of them)."""
        condition = Q()
        for part in value.split(","):
            for prefix in industries.division_prefixes(part.strip()) if part.strip() else ():
                condition |= Q(industry_code__startswith=prefix)
        return queryset.filter(condition) if condition else queryset

    def filter_zone(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        return queryset.filter(pk__in=Site.objects.filter(township__zone__code=value).values("enterprise_id"))

    def filter_park(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        return queryset.filter(pk__in=Site.objects.filter(parks__code=value).values("enterprise_id"))

    def filter_township(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        return queryset.filter(pk__in=Site.objects.filter(township__code=value).values("enterprise_id"))

    def filter_qualification(self, queryset: QuerySet[Enterprise], name: str, value: list[str]) -> QuerySet[Enterprise]:
        """Enterprises holding any of these qualifications valid today."""
        if not value:
            return queryset
        today = timezone.localdate()
        valid = Qualification.objects.filter(kind__in=value, valid_from__lte=today).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=today)
        )
        return queryset.filter(pk__in=valid.values("enterprise_id"))

    def filter_q(self, queryset: QuerySet[Enterprise], name: str, value: str) -> QuerySet[Enterprise]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__startswith=cc.normalise(value)))


def enterprise_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Enterprise]:
    """Enterprises the user may see, filtered; invalid filters raise ValidationError naming the field."""
    queryset = enterprise_queryset_for_user(user=user).order_by("name", "credit_code")
    filterset = EnterpriseFilter(data=filters or {}, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(
            {
                field: [ValidationError(str(e), code=getattr(e, "code", None) or "invalid") for e in errs]
                for field, errs in filterset.errors.as_data().items()
            }
        )
    return filterset.qs


def site_list(*, enterprise: Enterprise) -> QuerySet[Site]:
    return enterprise.sites.select_related("township__zone").prefetch_related("parks").order_by("kind", "pk")


def qualification_list(*, enterprise: Enterprise) -> QuerySet[Qualification]:
    return enterprise.qualifications.order_by("kind", "-valid_from", "pk")


def change_list(*, enterprise: Enterprise) -> QuerySet[EnterpriseChange]:
    return enterprise.changes.select_related("changed_by", "feed_import__api_key").order_by("-changed_at", "-pk")


# --- Department data imports (staff console) --------------------------------------------------------


def feed_imports_for_staff(*, user: User) -> QuerySet[FeedImport]:
    """Every department import, newest first, for staff; nothing for anyone else. Reports are left out."""
    if not is_staff_user(user):
        return FeedImport.objects.none()
    return (
        FeedImport.objects.select_related("submitted_by")
        .defer("report", "rejections", "record_results")
        .order_by("-received_at", "-pk")
    )


def feed_import_get(*, user: User, import_id: int) -> FeedImport:
    """One import with its report for staff; Http404 for anyone else or an unknown id."""
    feed_import = (
        FeedImport.objects.select_related("submitted_by").filter(pk=import_id).first() if is_staff_user(user) else None
    )
    if feed_import is None:
        raise Http404("未找到该导入记录")
    return feed_import


def feed_upload_message(*, import_id: int) -> str:
    """What to tell the uploader once the upload is stored: the import may already be done (tasks run
    inline, or a fast worker), so say what is true now rather than always "正在后台导入"."""
    feed_import = FeedImport.objects.only("status", "accepted", "rejected").get(pk=import_id)
    if feed_import.status == FeedImport.Status.DONE:
        return f"文件已上传并导入完成：接受 {feed_import.accepted} 条，拒绝 {feed_import.rejected} 条。"
    if feed_import.status == FeedImport.Status.FAILED:
        return "文件已上传，但导入失败，原因见下方。"
    return "文件已上传，正在后台导入。"


def feed_api_import_get(
    *, source: str, import_id: int, api_key: DepartmentApiKey | None = None, user: User | None = None
) -> FeedImport:
    """One API batch of department `source`, for the status request: to a key of that department, or to a
    data officer; Http404 for anyone else (another department's key, a stranger) or an unknown id."""
    rows = FeedImport.objects.filter(pk=import_id, source=source, channel=FeedImport.Channel.API)
    if api_key is not None:
        rows = rows.filter(source=api_key.source)
    elif user is None or not has_role(user, Role.DATA_OFFICER):
        rows = rows.none()
    feed_import = rows.first()
    if feed_import is None:
        raise Http404("未找到该批次")
    return feed_import
