"""Load the 示例 enterprises through the same paths real data takes (department feeds, self-declaration,
一照多址 filings), so the demo carries provenance and history like production data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devtools.demo import enterprises as demo
from matching.core.registry import source_label
from matching.core.vocabulary import SELF_DECLARED
from portal.enterprises import services
from portal.enterprises.feeds import feed_apply
from portal.enterprises.models import Enterprise, FeedImport, Qualification, Site

_FILENAME = "示例数据"


def _feed(source: str, records: list[dict[str, Any]], log: Callable[[str], None]) -> None:
    if not records:
        return
    result = feed_apply(source=source, records=records, channel=FeedImport.Channel.COMMAND, filename=_FILENAME)
    if result.rejected:  # the demo generator is wrong: fail loudly rather than load half a demo
        raise ValueError(f"demo {source} records rejected: {result.rejected[:3]}")
    log(f"  {source_label(source) or source}：{len(records)} 条记录")


def _qualification_records(items: list[demo.DemoEnterprise], source: str) -> list[dict[str, Any]]:
    return [
        {
            "credit_code": e.credit_code,
            "as_of": (demo.SCIENCE_AS_OF if source == "science_tech" else demo.INDUSTRY_INFO_AS_OF).isoformat(),
            "qualification_kind": q.kind,
            "certificate_no": q.certificate_no,
            "valid_from": q.valid_from.isoformat(),
            "valid_to": q.valid_to.isoformat() if q.valid_to else None,
        }
        for e in items
        for q in e.qualifications
        if q.source == source
    ]


def load_enterprises(*, log: Callable[[str], None] = lambda _: None) -> list[Enterprise]:
    """Create or complete the demo enterprises; returns them in demo order. Safe to run again."""
    items = demo.demo_enterprises()
    log(f"示例企业 {len(items)} 家（虚构数据，仅供演示）：")
    _feed(
        "market_regulation",
        [
            {
                "credit_code": e.credit_code,
                "as_of": demo.REGISTRATION_AS_OF.isoformat(),
                "name": e.name,
                "industry_code": e.industry_code,
                "established_on": e.established_on.isoformat(),
                "foreign_investor_country": e.foreign_investor_country or "无",
            }
            for e in items
        ],
        log,
    )
    _feed(
        "statistics",
        [
            {
                "credit_code": e.credit_code,
                "as_of": demo.STATISTICS_AS_OF.isoformat(),
                "employees": e.employees,
                "revenue": str(e.revenue),
                "total_assets": str(e.total_assets),
                "above_designated_size": e.above_designated_size,
            }
            for e in items
            if e.size_source == "statistics"
        ],
        log,
    )
    _feed(
        "tax",
        [
            {
                "credit_code": e.credit_code,
                "as_of": demo.TAX_AS_OF.isoformat(),
                "tax_credit_rating": e.tax_credit_rating,
            }
            for e in items
            if e.tax_credit_rating
        ],
        log,
    )
    _feed(
        "credit",
        [
            {"credit_code": e.credit_code, "as_of": demo.CREDIT_AS_OF.isoformat(), "dishonest": e.dishonest}
            for e in items
            if e.dishonest is not None
        ],
        log,
    )
    _feed(
        "science_tech",
        [
            {
                "credit_code": e.credit_code,
                "as_of": demo.SCIENCE_AS_OF.isoformat(),
                "rd_expense_ratio": str(e.rd_expense_ratio),
            }
            for e in items
            if e.rd_expense_ratio is not None
        ]
        + _qualification_records(items, "science_tech"),
        log,
    )
    _feed("industry_info", _qualification_records(items, "industry_info"), log)
    # The facts whose demo values come from their own definitions, each from the department that shares it.
    for department, as_of in demo.GENERATED_AS_OF.items():
        records = [
            {"credit_code": e.credit_code, "as_of": as_of.isoformat(), **facts}
            for e in items
            if (facts := e.generated_by(department))
        ]
        _feed(department, records, log)

    by_code = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=[i.credit_code for i in items])}
    declared_quals = set(
        Qualification.objects.filter(enterprise__in=by_code.values(), source=SELF_DECLARED).values_list(
            "enterprise_id", "kind"
        )
    )
    with_sites = set(Site.objects.filter(enterprise__in=by_code.values()).values_list("enterprise_id", "kind"))
    for item in items:
        enterprise = by_code[item.credit_code]
        if item.size_source == SELF_DECLARED:
            services.enterprise_update_facts(
                enterprise=enterprise,
                facts={"employees": item.employees, "revenue": item.revenue, "total_assets": item.total_assets},
                source=SELF_DECLARED,
                as_of=demo.SELF_DECLARED_AS_OF,
            )
        for q in item.qualifications:
            if q.source == SELF_DECLARED and (enterprise.pk, q.kind) not in declared_quals:
                services.qualification_create(
                    enterprise=enterprise,
                    kind=q.kind,
                    valid_from=q.valid_from,
                    valid_to=q.valid_to,
                    source=SELF_DECLARED,
                    as_of=demo.SELF_DECLARED_AS_OF,
                )
        if (enterprise.pk, Site.Kind.REGISTERED) not in with_sites:
            r = item.registered
            services.site_file(
                enterprise=enterprise,
                address=r.address,
                township_code=r.township,
                park_codes=r.parks,
                kind=Site.Kind.REGISTERED,
            )
        if (enterprise.pk, Site.Kind.OPERATING) not in with_sites:
            for s in item.sites:
                services.site_file(
                    enterprise=enterprise, address=s.address, township_code=s.township, park_codes=s.parks
                )
    return [by_code[i.credit_code] for i in items]
