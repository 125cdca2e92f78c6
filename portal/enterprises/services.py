"""Writes to the enterprise registry. Every change to facts, qualifications or sites is recorded in
EnterpriseChange and announced with events.FACTS_CHANGED (after commit)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from matching.core.vocabulary import DEPARTMENT_SOURCES, SELF_DECLARED, SOURCES
from portal import events
from portal.accounts.models import DepartmentApiKey, User
from portal.accounts.roles import Role, has_role
from portal.api.exceptions import ApplicationError
from portal.jobs import job_claim, job_fail, job_finish, job_sweep

from . import credit_code as cc
from . import feeds, places, tasks
from .facts import Decision, FieldError, decide, parse_date, parse_facts, source_name
from .feed_files import SUFFIXES, FeedFileError, check_content, field_label, iter_numbered_records
from .feeds import KEPT_REJECTIONS, FeedError
from .models import (
    MARKET_REGULATION,
    SIZE_INPUTS,
    Enterprise,
    EnterpriseChange,
    FeedImport,
    Park,
    Qualification,
    QualificationKind,
    Site,
    Township,
    Zone,
    json_value,
)

logger = logging.getLogger(__name__)

OUTSIDE_JURISDICTION_MESSAGE = (
    "该地址不在苏州高新区（虎丘区，行政区划代码320505）范围内。“一照多址”只适用于本登记机关辖区内的经营场所，"
    "辖区外的经营场所须到所在地市场监督管理部门办理分支机构登记。"
)


def _today() -> date:
    return timezone.localdate()


def _validation_error(errors: Iterable[FieldError]) -> ValidationError:
    by_field: dict[str, list[ValidationError]] = {}
    for e in errors:
        by_field.setdefault(e.field or "__all__", []).append(ValidationError(e.message, code=e.code))
    return ValidationError(by_field)


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ApplicationError("未知的数据来源", code="invalid_source", field="source")


def _as_of(as_of: date | None) -> date:
    if as_of is None:
        return _today()
    if as_of > _today():
        raise ApplicationError("数据日期不能晚于今天", code="future_date", field="as_of")
    return as_of


def _provenance_entry(source: str, as_of: date | None) -> dict[str, str | None]:
    return {"source": source, "as_of": as_of.isoformat() if as_of else None}


def _apply_facts(
    enterprise: Enterprise, parsed: Mapping[str, Any], *, source: str, as_of: date
) -> tuple[list[tuple[str, Any, Any]], list[FieldError], list[str]]:
    """Apply parsed values to an (already locked) enterprise in memory.

    Returns (changes as (field, old, new), refusals, stale fields). Nothing is saved.
    """
    changes: list[tuple[str, Any, Any]] = []
    refused: list[FieldError] = []
    stale: list[str] = []
    provenance = dict(enterprise.provenance)
    for key, value in parsed.items():
        old_value = getattr(enterprise, key)
        entry = provenance.get(key)
        decision = decide(
            old_value=old_value,
            old_source=entry["source"] if entry else None,
            old_as_of=date.fromisoformat(entry["as_of"]) if entry and entry.get("as_of") else None,
            new_value=value,
            new_source=source,
            new_as_of=as_of,
        )
        if decision is Decision.REFUSED and entry is not None:  # refused only over a department's entry
            refused.append(
                FieldError(
                    key,
                    "verified_fact",
                    f"该信息已由{source_name(entry['source'])}核验（{entry.get('as_of') or '日期不详'}），"
                    "不能自行修改；如有出入请联系该部门更正",
                )
            )
        elif decision is Decision.STALE:
            stale.append(key)
        elif decision is Decision.APPLY:
            changes.append((key, old_value, value))
            setattr(enterprise, key, value)
            provenance[key] = _provenance_entry(source, as_of)
        elif decision is Decision.CONFIRM:
            provenance[key] = _provenance_entry(source, as_of)
    enterprise.provenance = provenance
    return changes, refused, stale


def _record_history(
    enterprise: Enterprise,
    changes: Iterable[tuple[str, Any, Any]],
    *,
    source: str,
    as_of: date | None,
    by: User | None,
) -> EnterpriseChange | None:
    """One history row for this change event, listing each field's old and new value."""
    items = [{"field": field, "old": json_value(old), "new": json_value(new)} for field, old, new in changes]
    if not items:
        return None
    return EnterpriseChange.objects.create(
        enterprise=enterprise,
        changes=items,
        source=source,
        as_of=as_of,
        changed_by=_user(by),
        changed_at=timezone.now(),
    )


def _size_change(enterprise: Enterprise, fields: Iterable[str]) -> list[tuple[str, Any, Any]]:
    """Recompute size when an input changed; the derived change is recorded in history too."""
    if not set(fields) & set(SIZE_INPUTS):
        return []
    old = enterprise.size
    enterprise.recompute_size()
    return [("size", old, enterprise.size)] if old != enterprise.size else []


@transaction.atomic
def enterprise_create(
    *,
    credit_code: str,
    name: str,
    facts: Mapping[str, Any] | None = None,
    source: str = MARKET_REGULATION,
    as_of: date | None = None,
    by: User | None = None,
) -> Enterprise:
    """Register an enterprise with its first facts, all from `source` as of `as_of` (default today)."""
    _check_source(source)
    as_of = _as_of(as_of)
    errors: list[FieldError] = []
    try:
        code = cc.parse(credit_code).value
    except cc.CreditCodeError as exc:
        errors.append(FieldError("credit_code", exc.code, exc.message))
        code = ""
    parsed, fact_errors = parse_facts({"name": name, **(facts or {})})
    errors.extend(fact_errors)
    if "name" not in parsed and not any(e.field == "name" for e in errors):
        errors.append(FieldError("name", "required", "请填写企业名称"))
    if errors:
        raise _validation_error(errors)
    if Enterprise.objects.filter(credit_code=code).exists():
        raise ApplicationError("该统一社会信用代码已登记", code="duplicate_credit_code", field="credit_code")

    enterprise = Enterprise(credit_code=code, name=parsed["name"])
    changes, _, _ = _apply_facts(enterprise, parsed, source=source, as_of=as_of)
    enterprise.recompute_size()
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError:
        # Lost a race with another registration of the same code.
        raise ApplicationError("该统一社会信用代码已登记", code="duplicate_credit_code", field="credit_code") from None
    _record_history(enterprise, [("created", None, code), *changes], source=source, as_of=as_of, by=by)
    events.emit(events.FACTS_CHANGED, enterprise_ids=[enterprise.pk])
    return enterprise


@transaction.atomic
def enterprise_update_facts(
    *,
    enterprise: Enterprise,
    facts: Mapping[str, Any],
    source: str,
    as_of: date | None = None,
    by: User | None = None,
) -> list[str]:
    """Set facts from `source`. Self-declared values never replace a department's; the whole update is
    refused (ValidationError naming each field) if any would. Returns the fields whose value changed."""
    _check_source(source)
    as_of = _as_of(as_of)
    parsed, errors = parse_facts(facts)
    if errors:
        raise _validation_error(errors)
    # Lock the row: read-modify-write of the provenance map must not interleave with a feed.
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    changes, refused, _stale = _apply_facts(locked, parsed, source=source, as_of=as_of)
    if refused:
        raise _validation_error(refused)
    changes += _size_change(locked, [c[0] for c in changes])
    if locked.provenance != enterprise.provenance or changes:
        locked.save()
    _record_history(locked, changes, source=source, as_of=as_of, by=by)
    if changes or locked.provenance != enterprise.provenance:
        # A confirmation (same value, a newer date) changes no outcome but what explanations show.
        events.emit(events.FACTS_CHANGED, enterprise_ids=[locked.pk])
    # Keep the caller's instance current.
    for field in locked._meta.concrete_fields:
        setattr(enterprise, field.attname, getattr(locked, field.attname))
    return [c[0] for c in changes]


# --- Qualifications -------------------------------------------------------------------------------


def _qualification_value(q: Qualification) -> dict[str, Any]:
    return {
        "certificate_no": q.certificate_no,
        "valid_from": json_value(q.valid_from),
        "valid_to": json_value(q.valid_to),
    }


@transaction.atomic
def qualification_create(
    *,
    enterprise: Enterprise,
    kind: str,
    valid_from: date,
    valid_to: date | None = None,
    certificate_no: str = "",
    source: str = SELF_DECLARED,
    as_of: date | None = None,
    by: User | None = None,
) -> Qualification:
    _check_source(source)
    as_of = _as_of(as_of)
    certificate_no = (certificate_no or "").strip()
    errors: list[FieldError] = []
    if kind not in QualificationKind.values:
        errors.append(FieldError("kind", "invalid_choice", "不是有效的资质类型"))
    if valid_to is not None and valid_to < valid_from:
        errors.append(FieldError("valid_to", "before_valid_from", "有效期止不能早于有效期起"))
    if errors:
        raise _validation_error(errors)
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    if (
        certificate_no
        and Qualification.objects.filter(enterprise=enterprise, kind=kind, certificate_no=certificate_no).exists()
    ):
        raise ApplicationError("该资质证书已登记", code="duplicate_certificate", field="certificate_no")
    q = Qualification.objects.create(
        enterprise=enterprise,
        kind=kind,
        certificate_no=certificate_no,
        valid_from=valid_from,
        valid_to=valid_to,
        source=source,
        as_of=as_of,
    )
    change = (f"qualification:{kind}", None, _qualification_value(q))
    _record_history(enterprise, [change], source=source, as_of=as_of, by=by)
    events.emit(events.FACTS_CHANGED, enterprise_ids=[enterprise.pk])
    return q


@transaction.atomic
def qualification_update(
    *,
    qualification: Qualification,
    valid_from: date,
    valid_to: date | None,
    certificate_no: str = "",
    by: User | None = None,
) -> Qualification:
    """Correct a self-declared qualification (dates, certificate number). A department-verified one is the
    department's record: the enterprise asks the department to correct it."""
    if qualification.source in DEPARTMENT_SOURCES:
        raise ApplicationError(
            f"该资质由{source_name(qualification.source)}核验，不能自行修改；如有出入请联系该部门更正",
            code="verified_fact",
            field="qualification",
        )
    certificate_no = (certificate_no or "").strip()
    if len(certificate_no) > 64:
        raise _validation_error([FieldError("certificate_no", "max_length", "证书编号不能超过64个字符")])
    if valid_to is not None and valid_to < valid_from:
        raise _validation_error([FieldError("valid_to", "before_valid_from", "有效期止不能早于有效期起")])
    enterprise = qualification.enterprise
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
    if (
        certificate_no
        and Qualification.objects.filter(enterprise=enterprise, kind=locked.kind, certificate_no=certificate_no)
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise ApplicationError("该资质证书已登记", code="duplicate_certificate", field="certificate_no")
    old = _qualification_value(locked)
    locked.valid_from, locked.valid_to, locked.certificate_no = valid_from, valid_to, certificate_no
    new = _qualification_value(locked)
    if new != old:
        locked.as_of = _today()
        locked.save(update_fields=["valid_from", "valid_to", "certificate_no", "as_of", "updated_at"])
        _record_history(
            enterprise, [(f"qualification:{locked.kind}", old, new)], source=SELF_DECLARED, as_of=_today(), by=by
        )
        events.emit(events.FACTS_CHANGED, enterprise_ids=[enterprise.pk])
    return locked


@transaction.atomic
def qualification_delete(*, qualification: Qualification, by: User | None = None, source: str = SELF_DECLARED) -> None:
    """Withdraw a qualification. An enterprise may withdraw only what it declared itself."""
    if source == SELF_DECLARED and qualification.source in DEPARTMENT_SOURCES:
        raise ApplicationError(
            f"该资质由{source_name(qualification.source)}核验，不能自行删除",
            code="verified_fact",
            field="qualification",
        )
    enterprise = qualification.enterprise
    _record_history(
        enterprise,
        [(f"qualification:{qualification.kind}", _qualification_value(qualification), None)],
        source=source,
        as_of=_today(),
        by=by,
    )
    qualification.delete()
    events.emit(events.FACTS_CHANGED, enterprise_ids=[enterprise.pk])


# --- Sites (一照多址) -------------------------------------------------------------------------------


def _site_value(site: Site, park_codes: Iterable[str]) -> dict[str, Any]:
    return {
        "kind": site.kind,
        "address": site.address,
        "township": site.township.code,
        "parks": sorted(park_codes),
    }


@transaction.atomic
def site_file(
    *,
    enterprise: Enterprise,
    address: str,
    township_code: str,
    park_codes: Iterable[str] = (),
    kind: str = Site.Kind.OPERATING,
    source: str = MARKET_REGULATION,
    by: User | None = None,
) -> Site:
    """File (备案) an operating site under the enterprise's licence. Takes effect at once.

    Only places inside 320505 qualify, and the address text decides (not only the township picked): an
    address elsewhere needs a branch registration. The same place is filed once, and the registered address
    is not an extra site. Nothing is written when any check refuses.
    """
    _check_source(source)
    address = " ".join((address or "").split())
    township_code = (township_code or "").strip()
    park_codes = sorted({p.strip() for p in park_codes if p and p.strip()})
    errors: list[FieldError] = []
    if not address:
        errors.append(FieldError("address", "required", "请填写经营场所地址"))
    elif len(address) > 300:
        errors.append(FieldError("address", "max_length", "地址不能超过300个字符"))
    if kind not in Site.Kind.values:
        errors.append(FieldError("kind", "invalid_choice", "不是有效的场所类型"))
    if not (len(township_code) == 9 and township_code.isdigit()):
        errors.append(FieldError("township", "invalid_township", "请填写9位统计用区划代码（街道、镇）"))
    elif not township_code.startswith(cc.HUQIU_REGION):
        # The rule the issue asks for: no filing outside the registration authority's area.
        raise ApplicationError(OUTSIDE_JURISDICTION_MESSAGE, code="outside_jurisdiction", field="township")
    if errors:
        raise _validation_error(errors)
    township = Township.objects.select_related("zone").filter(code=township_code).first()
    if township is None:
        raise ApplicationError("该街道（镇）不在本区区划名录中", code="unknown_township", field="township")
    parsed = _check_site_address(address, township)
    parks = list(Park.objects.filter(code__in=park_codes))
    if len(parks) != len(park_codes):
        missing = sorted(set(park_codes) - {p.code for p in parks})
        raise ApplicationError(f"未知的特色园区：{'、'.join(missing)}", code="unknown_park", field="parks")
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    if kind == Site.Kind.REGISTERED and Site.objects.filter(enterprise=enterprise, kind=kind).exists():
        raise ApplicationError("企业只能有一个住所（注册地址）", code="duplicate_registered_address", field="kind")
    # Under the enterprise's row lock: two filings of one place cannot both pass this check.
    key = places.site_key(parsed)
    for other in Site.objects.filter(enterprise=enterprise).order_by("kind", "pk"):
        if places.site_key(places.parse(other.address)) != key:
            continue
        if other.kind == Site.Kind.REGISTERED:
            raise ApplicationError(
                f"该地址是企业的住所（注册地址：{other.address}），无需再作为经营场所备案",
                code="registered_address_as_site",
                field="address",
            )
        raise ApplicationError(
            f"该地址已经备案（{other.address}），不能重复备案", code="duplicate_address", field="address"
        )
    site = Site.objects.create(
        enterprise=enterprise, kind=kind, address=address, township=township, source=source, filed_by=_user(by)
    )
    site.parks.set(parks)
    _record_history(enterprise, [("site", None, _site_value(site, park_codes))], source=source, as_of=site.as_of, by=by)
    events.emit(events.FACTS_CHANGED, enterprise_ids=[enterprise.pk])
    return site


def outside_message(place: str) -> str:
    where = f"该地址（{place}）" if place else "该地址"
    return OUTSIDE_JURISDICTION_MESSAGE.replace("该地址", where, 1)


def _check_site_address(address: str, township: Township) -> places.ParsedAddress:
    """Read the address's province, city, district and township; refuse what is not in 320505 or contradicts
    the township picked (an address naming no place is read as in the district)."""
    parsed = places.parse(address)
    verdict = places.judge(parsed)
    if verdict.code == "address_inconsistent":
        raise ApplicationError(
            f"地址中的省、市、区（县）互不相符（{verdict.place}），请核对地址", code=verdict.code, field="address"
        )
    if verdict.in_district is False:
        raise ApplicationError(outside_message(verdict.place), code="outside_jurisdiction", field="address")
    if verdict.in_district is None:
        raise ApplicationError(
            f"地址只写到“{verdict.place}”，看不出在哪个区。请写明“苏州高新区”（虎丘区）或所在街道（镇），"
            "例如“苏州高新区狮山路88号”",
            code="district_unclear",
            field="address",
        )
    key = places.site_key(parsed)
    if not key:
        raise ApplicationError("请写明道路和门牌号", code="address_incomplete", field="address")
    if not any("\u4e00" <= ch <= "\u9fff" for ch in parsed.rest):
        # "xxxx" or a bare number names no place in China; an address is written in Chinese.
        raise ApplicationError(
            "请用中文写明道路、门牌号等，例如“苏州高新区狮山路88号”", code="address_incomplete", field="address"
        )
    if parsed.township and parsed.township != township.code:
        named = Township.objects.filter(code=parsed.township).values_list("name", flat=True).first() or ""
        written = f"“{parsed.township_name}”" + (f"（{named}）" if named and named != parsed.township_name else "")
        raise ApplicationError(
            f"地址中写的是{written}，与所选街道（镇）“{township.name}”不符", code="township_mismatch", field="township"
        )
    if parsed.road and township.code not in parsed.road_townships:
        names = "、".join(Township.objects.filter(code__in=parsed.road_townships).values_list("name", flat=True))
        raise ApplicationError(
            f"{parsed.road}在{names or '其他街道（镇）'}，与所选街道（镇）“{township.name}”不符",
            code="township_mismatch",
            field="township",
        )
    return parsed


@transaction.atomic
def site_withdraw(*, site: Site, by: User | None = None) -> None:
    """Withdraw (撤销) a filed operating site. The registered address cannot be withdrawn here."""
    if site.kind == Site.Kind.REGISTERED:
        raise ApplicationError("住所（注册地址）须办理变更登记，不能在此撤销", code="registered_address", field="kind")
    enterprise = site.enterprise
    value = _site_value(site, site.parks.values_list("code", flat=True))
    _record_history(enterprise, [("site", value, None)], source=site.source, as_of=_today(), by=by)
    site.delete()
    events.emit(events.FACTS_CHANGED, enterprise_ids=[enterprise.pk])


def _user(by: User | None) -> User | None:
    return by if by is not None and by.is_authenticated else None


# --- Places (editable data) -----------------------------------------------------------------------


@transaction.atomic
def township_update(*, township: Township, name: str, zone: Zone | None) -> Township:
    """Rename a township or move it to another zone; enterprises with sites there are re-matched."""
    moved = township.zone_id != (zone.pk if zone else None)
    township.name = name
    township.zone = zone
    township.save()
    if moved:
        events.emit(
            events.FACTS_CHANGED,
            enterprise_ids=Site.objects.filter(township=township).values_list("enterprise_id", flat=True).distinct(),
        )
    return township


@transaction.atomic
def zone_delete(*, zone: Zone) -> None:
    """Remove a functional zone; its townships keep no zone, and enterprises with sites there are re-matched."""
    affected = list(Site.objects.filter(township__zone=zone).values_list("enterprise_id", flat=True).distinct())
    zone.delete()
    events.emit(events.FACTS_CHANGED, enterprise_ids=affected)


@transaction.atomic
def park_delete(*, park: Park) -> None:
    """Remove a 特色园区; enterprises with sites in it are re-matched."""
    affected = list(Site.objects.filter(parks=park).values_list("enterprise_id", flat=True).distinct())
    park.delete()
    events.emit(events.FACTS_CHANGED, enterprise_ids=affected)


def parse_as_of(raw: Any) -> date:
    """Parse a record's as_of (not in the future)."""
    return parse_date(raw, "as_of", not_future=True, today=_today())


# Department files uploaded in the staff console (工作台上传): stored, then applied by a worker in chunks.

FEED_CHUNK = 500  # records per transaction (and per progress update)
FEED_REPORT_LIMIT = 10_000  # error-report lines kept on the row; the counts stay exact beyond it


def feed_upload_create(*, by: User, source: str, file: Any, default_as_of: date | None = None) -> FeedImport:
    """Store an uploaded CSV/XLSX and queue its import (the task is sent once the row is committed)."""
    from pathlib import Path

    if not has_role(by, Role.DATA_OFFICER):
        raise ApplicationError("只有数据专员可以上传部门数据", code="data_officer_required", http_status=403)
    if source not in DEPARTMENT_SOURCES:
        raise ApplicationError("请选择数据来源部门", code="invalid_source", field="source")
    name = Path(getattr(file, "name", "") or "").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ApplicationError("只支持CSV或XLSX文件", code="invalid_file_type", field="file")
    try:
        # By content, before anything is stored: a renamed PDF is refused here, not parsed as rows.
        check_content(file, name)
    except FeedFileError as error:
        raise ApplicationError(str(error), code="invalid_file_content", field="file") from error
    with transaction.atomic():
        feed_import = FeedImport(
            source=source,
            channel=FeedImport.Channel.CONSOLE,
            filename=name[:255],
            submitted_by=by,
            status=FeedImport.Status.QUEUED,
            default_as_of=default_as_of,
        )
        feed_import.file.save(name, file, save=False)
        feed_import.save()
        import_id = feed_import.pk
        transaction.on_commit(lambda: _send_feed_upload(import_id))
    return feed_import


def _send_feed_upload(import_id: int) -> None:
    from kombu.exceptions import OperationalError as BrokerError

    try:
        tasks.feed_upload_task.delay(import_id)
    except BrokerError:
        logger.warning("broker unavailable: feed upload %s stays queued", import_id)


def feed_batch_submit(*, api_key: DepartmentApiKey, source: str, body: Any) -> FeedImport:
    """Store a department's API batch and queue it for the worker (sent once the row is committed).

    `body` is the request's JSON: `{"as_of": ..., "records": [...]}` or the bare list of records. Only the
    envelope is checked here, cheaply (the department, the list, its size, the batch's 数据日期); each
    record is validated and applied by the worker (feed_upload_process), never in the web request.
    """
    records = body.get("records") if isinstance(body, dict) else body
    if not isinstance(records, list):
        raise ApplicationError("请求体应包含records数组", code="invalid_batch", field="records")
    limit = settings.FEED_API_MAX_RECORDS
    if len(records) > limit:
        raise ApplicationError(
            f"每批最多{limit}条记录；更多数据请分批提交或使用文件上传", code="batch_too_large", field="records"
        )
    # The batch's 数据日期 (as of when the department's data is true), for records that give none.
    raw_as_of = body.get("as_of") if isinstance(body, dict) else None
    default_as_of = None
    if raw_as_of not in (None, ""):
        try:
            default_as_of = parse_as_of(raw_as_of)
        except FieldError as exc:
            raise ApplicationError(exc.message, code=exc.code, field="as_of") from None
    if source not in DEPARTMENT_SOURCES:
        raise ApplicationError("未知的数据来源部门", code="invalid_source")
    if api_key.source != source:
        raise ApplicationError("接口密钥不属于该部门", code="source_mismatch")
    payload = json.dumps({"records": records}, ensure_ascii=False, separators=(",", ":")).encode()
    with transaction.atomic():
        feed_import = FeedImport(
            source=source,
            channel=FeedImport.Channel.API,
            api_key=api_key,
            status=FeedImport.Status.QUEUED,
            total=len(records),
            default_as_of=default_as_of,
        )
        feed_import.file.save(f"{source}-api.json", ContentFile(payload), save=False)
        feed_import.save()
        import_id = feed_import.pk
        transaction.on_commit(lambda: _send_feed_upload(import_id))
    return feed_import


# The channels whose batches a worker applies: stored first, then claimed, processed and reported.
_WORKER_CHANNELS = (FeedImport.Channel.CONSOLE, FeedImport.Channel.API)


def feed_upload_claim(*, import_id: int) -> FeedImport | None:
    """Mark a queued upload or API batch running under a new claim (portal.jobs.job_claim); None when another
    worker has it or it is finished. A resumed upload keeps its progress: it goes on after the committed chunks."""
    rows = FeedImport.objects.filter(channel__in=_WORKER_CHANNELS).select_related("submitted_by", "api_key")
    return job_claim(rows, pk=import_id)


def _report_lines(rejected: list[dict[str, Any]], rows: list[int]) -> list[dict[str, Any]]:
    """feed_apply's rejections (index within the chunk) as report lines naming the file row."""
    lines = []
    for item in rejected:
        for error in item["errors"]:
            lines.append(
                {
                    "row": rows[item["index"]],
                    "credit_code": item.get("credit_code") if isinstance(item.get("credit_code"), str) else "",
                    "field": error.get("field", ""),
                    "field_label": field_label(error.get("field", "")),
                    "code": error.get("code", ""),
                    "message": error.get("message", ""),
                }
            )
    return lines


def feed_upload_process(*, feed_import: FeedImport, chunk: int = FEED_CHUNK) -> FeedImport:
    """Apply a claimed upload chunk by chunk, from where it stopped.

    Each chunk is applied and counted in one transaction, under a lock on the import row, so a
    redelivered task resumes after the last committed chunk and never counts a chunk twice (and
    re-applying records changes nothing anyway).
    """
    from itertools import islice

    if feed_import.channel == FeedImport.Channel.API:
        return _feed_batch_process(feed_import=feed_import)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        with feed_import.file.open("rb") as fh:
            yield from iter_numbered_records(fh, feed_import.filename)

    # Two streaming passes, never the whole file as records in memory: the first counts (and refuses a
    # file that breaks a limit before anything is applied), the second applies chunk by chunk.
    try:
        total = sum(1 for _ in records())
    except (FeedFileError, OSError) as exc:
        feed_upload_fail(import_id=feed_import.pk, error=str(exc) or "无法读取文件")
        return FeedImport.objects.get(pk=feed_import.pk)
    FeedImport.objects.filter(pk=feed_import.pk).update(total=total)
    start = FeedImport.objects.get(pk=feed_import.pk).processed
    stream = islice(records(), start, None)  # resume after the committed chunks
    while start < total:
        try:
            part = list(islice(stream, chunk))
            if not part:
                break  # the file changed under us: stop at what it holds
            with transaction.atomic():
                row = FeedImport.objects.select_for_update().get(pk=feed_import.pk)
                if row.status != FeedImport.Status.RUNNING or row.claim != feed_import.claim or row.processed != start:
                    return row  # another worker took over (or it was failed): leave it to them
                # Looked up on the module at each call, so a test can watch the chunks it is given.
                result = feeds.feed_apply(
                    source=row.source,
                    records=[record for _, record in part],
                    channel=row.channel,
                    by=row.submitted_by,
                    filename=row.filename,
                    default_as_of=row.default_as_of,
                    feed_import=row,
                )
                _count_chunk(row, result, part, start)
        except FeedError as exc:
            feed_upload_fail(import_id=feed_import.pk, error=exc.message)
            return FeedImport.objects.get(pk=feed_import.pk)
        except (FeedFileError, OSError) as exc:
            feed_upload_fail(import_id=feed_import.pk, error=str(exc) or "无法读取文件")
            return FeedImport.objects.get(pk=feed_import.pk)
        start += len(part)
    job_finish(feed_import)
    return FeedImport.objects.get(pk=feed_import.pk)


def _feed_batch_process(*, feed_import: FeedImport) -> FeedImport:
    """Apply a claimed API batch (at most FEED_API_MAX_RECORDS records) in one transaction, and record its
    counts and per-record results with it, so the batch is all applied and reported or not at all: a
    redelivered task finds it done, or nothing of it applied."""
    try:
        with feed_import.file.open("rb") as fh:
            records = json.load(fh)["records"]
        if not isinstance(records, list):
            raise ValueError("records is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        feed_upload_fail(import_id=feed_import.pk, error=f"无法读取已接收的数据：{exc}")
        return FeedImport.objects.get(pk=feed_import.pk)
    try:
        with transaction.atomic():
            row = FeedImport.objects.select_for_update().get(pk=feed_import.pk)
            if row.status != FeedImport.Status.RUNNING or row.claim != feed_import.claim:
                return row  # another worker took over (or it was failed): leave it to them
            # Looked up on the module at each call, so a test can watch (or forbid) the calls.
            result = feeds.feed_apply(
                source=row.source,
                records=records,
                channel=row.channel,
                api_key=row.api_key,
                default_as_of=row.default_as_of,
                feed_import=row,
            )
            job_finish(
                feed_import,
                total=len(records),
                processed=len(records),
                accepted=len(result.accepted),
                rejected=len(result.rejected),
                changed=result.changed,
                created=result.created,
                rejections=result.rejected[:KEPT_REJECTIONS],
                record_results={
                    "accepted": result.accepted,
                    "rejected": result.rejected,
                    "duplicates": result.duplicates,
                },
            )
    except FeedError as exc:
        feed_upload_fail(import_id=feed_import.pk, error=exc.message)
    return FeedImport.objects.get(pk=feed_import.pk)


def _count_chunk(row: FeedImport, result: Any, part: list[tuple[int, Any]], start: int) -> None:
    from django.db.models import F

    lines = _report_lines(result.rejected, [number for number, _ in part])
    room = max(FEED_REPORT_LIMIT - len(row.report), 0)
    FeedImport.objects.filter(pk=row.pk).update(
        heartbeat_at=timezone.now(),
        processed=start + len(part),
        accepted=F("accepted") + len(result.accepted),
        rejected=F("rejected") + len(result.rejected),
        changed=F("changed") + result.changed,
        created=F("created") + result.created,
        report=row.report + lines[:room],
        rejections=(row.rejections + [{**r, "index": r["index"] + start} for r in result.rejected])[:KEPT_REJECTIONS],
    )


def feed_uploads_sweep(*, queued_after_seconds: float | None = None) -> int:
    """Send again uploads and API batches whose task was lost: queued (broker down) or running with a stale heartbeat.

    Sending twice is harmless: only one claim succeeds, and a resumed import skips committed chunks.
    """
    rows = FeedImport.objects.filter(channel__in=_WORKER_CHANNELS)
    return job_sweep(rows, send=_send_feed_upload, queued_after_seconds=queued_after_seconds)


def feed_upload_fail(*, import_id: int, error: BaseException | str) -> None:
    """Record an upload as failed (unless done), with the error in words for the console page."""
    job_fail(FeedImport.objects.all(), pk=import_id, error=error)
