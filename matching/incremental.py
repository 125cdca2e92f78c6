"""Read everything the incremental path needs about one enterprise, locked, in one round trip.

`enterprise_match` runs after every fact change (API, feed, expiry), so its cost is mostly fixed
overhead: on PostgreSQL one statement locks the enterprise row and returns its facts, its
qualifications and sites (as parallel arrays), its stored projection row and its match records.
The profile is then built with the registry's own `profile_facts`, exactly as `enterprise_profile`
builds it from model instances (a test holds the two to the same profile). Other databases
(SQLite in embedded mode) take the ORM route.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from django.db import connection
from django.utils import timezone

from portal.db import prepared_cursor
from portal.enterprises.models import FACT_FIELDS, Enterprise, Park, Qualification, Site, Township, Zone
from portal.enterprises.selectors import PROFILE_PREFETCHES, enterprise_profile, profile_facts

from .core.profile import EnterpriseProfile, QualificationRecord, SiteRecord
from .core.projection import PROJECTION_COLUMNS
from .models import MatchProfile, MatchRecord
from .selectors import published_stamp_sql

# A park code never contains this; it joins a site's park codes into one array element.
_PARK_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    record_id: int
    policy_version_id: int
    outcome: str
    verified: bool
    explanation: dict[str, Any] | None = None  # as stored: diffed against a fresh one (inputs, not only outcome)


@dataclass(frozen=True, slots=True)
class LoadedEnterprise:
    profile: EnterpriseProfile
    stored_row: dict[str, Any] | None  # the projection row as stored, None when there is none
    records: dict[int, StoredRecord]  # policy_version_id → stored match record
    # The published catalogue's stamp (selectors.published_stamp_sql) read with the rest, when it was.
    catalogue_stamp: tuple | None = None


def load_for_match(*, enterprise_id: int, lock: bool = True) -> LoadedEnterprise | None:
    """Lock the enterprise row (inside the caller's transaction) and read what matching needs.

    `lock=False` reads without the lock (still one statement on PostgreSQL: facts and records from one
    snapshot), for a caller that only looks whether anything is to be written."""
    if connection.vendor == "postgresql":
        return _load_postgresql(enterprise_id, lock=lock)
    return _load_orm(enterprise_id, lock=lock)


def _load_orm(enterprise_id: int, *, lock: bool) -> LoadedEnterprise | None:
    enterprises = Enterprise.objects.select_for_update(of=("self",)) if lock else Enterprise.objects.all()
    enterprise = (
        enterprises.filter(pk=enterprise_id)
        .select_related("match_profile")
        .prefetch_related(*PROFILE_PREFETCHES)
        .first()
    )
    if enterprise is None:
        return None
    stored = getattr(enterprise, "match_profile", None)
    records = MatchRecord.objects.filter(enterprise_id=enterprise_id).values_list(
        "id", "policy_version_id", "outcome", "verified", "explanation"
    )
    return LoadedEnterprise(
        profile=enterprise_profile(enterprise=enterprise),
        stored_row=None if stored is None else {k: getattr(stored, k) for k in PROJECTION_COLUMNS},
        records={r[1]: StoredRecord(*r) for r in records},
    )


@functools.cache
def _sql(*, lock: bool) -> str:
    through = Site.parks.through
    site_col = through._meta.get_field("site").column
    park_col = through._meta.get_field("park").column
    enterprise_columns = {f.name: f.column for f in Enterprise._meta.concrete_fields}
    facts = ", ".join(f"e.{enterprise_columns[k]}" for k in FACT_FIELDS)
    projection_columns = {f.name: f.column for f in MatchProfile._meta.concrete_fields}
    stored = ", ".join(f"mp.{projection_columns[k]}" for k in PROJECTION_COLUMNS)
    # Each array is ordered by primary key, as the ORM's prefetches are.
    return f"""
SELECT e.credit_code, e.name, e.provenance, {facts},
       q.kinds, q.valid_froms, q.valid_tos, q.sources, q.as_ofs, q.numbers,
       s.townships, s.zones, s.parks, s.sources, s.filed_ats,
       mp.enterprise_id IS NOT NULL, {stored},
       r.ids, r.versions, r.outcomes, r.verifieds, r.explanations,
       cat.n, cat.last, cat.top
  FROM {Enterprise._meta.db_table} e
  CROSS JOIN ({published_stamp_sql()}) cat
  LEFT JOIN {MatchProfile._meta.db_table} mp ON mp.enterprise_id = e.id
  CROSS JOIN LATERAL (
      SELECT array_agg(kind ORDER BY id) AS kinds, array_agg(valid_from ORDER BY id) AS valid_froms,
             array_agg(valid_to ORDER BY id) AS valid_tos, array_agg(source ORDER BY id) AS sources,
             array_agg(as_of ORDER BY id) AS as_ofs, array_agg(certificate_no ORDER BY id) AS numbers
        FROM {Qualification._meta.db_table} WHERE enterprise_id = e.id) q
  CROSS JOIN LATERAL (
      SELECT array_agg(t.code ORDER BY st.id) AS townships, array_agg(z.code ORDER BY st.id) AS zones,
             array_agg(COALESCE((SELECT string_agg(p.code, %(sep)s)
                                   FROM {through._meta.db_table} sp JOIN {Park._meta.db_table} p ON p.id = sp.{park_col}
                                  WHERE sp.{site_col} = st.id), '') ORDER BY st.id) AS parks,
             array_agg(st.source ORDER BY st.id) AS sources, array_agg(st.filed_at ORDER BY st.id) AS filed_ats
        FROM {Site._meta.db_table} st
        JOIN {Township._meta.db_table} t ON t.id = st.township_id
        LEFT JOIN {Zone._meta.db_table} z ON z.id = t.zone_id
       WHERE st.enterprise_id = e.id) s
  CROSS JOIN LATERAL (
      SELECT array_agg(id) AS ids, array_agg(policy_version_id) AS versions, array_agg(outcome) AS outcomes,
             array_agg(verified) AS verifieds, array_agg(explanation::text) AS explanations
        FROM {MatchRecord._meta.db_table} WHERE enterprise_id = e.id) r
 WHERE e.id = %(id)s
{"   FOR UPDATE OF e" if lock else ""}
"""


def _load_postgresql(enterprise_id: int, *, lock: bool) -> LoadedEnterprise | None:
    # Prepared: run after every fact change with only the id changing, its planning (a dozen joins and
    # sub-selects) cost as much as running it.
    with prepared_cursor() as cursor:
        cursor.execute(_sql(lock=lock), {"id": enterprise_id, "sep": _PARK_SEPARATOR})
        row = cursor.fetchone()
    if row is None:
        return None
    credit_code, name, provenance = row[0], row[1], row[2]
    if isinstance(provenance, str):  # Django's psycopg setup leaves jsonb as text for JSONField to parse
        provenance = json.loads(provenance)
    at = 3
    values = dict(zip(FACT_FIELDS, row[at : at + len(FACT_FIELDS)], strict=True))
    at += len(FACT_FIELDS)
    kinds, valid_froms, valid_tos, q_sources, as_ofs, numbers = row[at : at + 6]
    at += 6
    townships, zones, parks, s_sources, filed_ats = row[at : at + 5]
    at += 5
    has_stored = row[at]
    stored_values = row[at + 1 : at + 1 + len(PROJECTION_COLUMNS)]
    at += 1 + len(PROJECTION_COLUMNS)
    ids, versions, outcomes, verifieds, explanations = row[at : at + 5]
    stamp = tuple(row[at + 5 : at + 8])

    qualifications = tuple(
        QualificationRecord(kind=k, valid_from=f, valid_to=t, source=s, as_of=a, certificate_no=n)
        for k, f, t, s, a, n in _rows(kinds, valid_froms, valid_tos, q_sources, as_ofs, numbers)
    )
    sites = tuple(
        SiteRecord(
            township_code=t,
            zone_code=z,
            park_codes=tuple(sorted(p.split(_PARK_SEPARATOR))) if p else (),
            source=s,
            as_of=_local_date(f),
        )
        for t, z, p, s, f in _rows(townships, zones, parks, s_sources, filed_ats)
    )
    profile = EnterpriseProfile(
        credit_code=credit_code,
        name=name,
        facts=profile_facts(values=values, provenance=provenance or {}),
        qualifications=qualifications,
        sites=sites,
    )
    return LoadedEnterprise(
        profile=profile,
        stored_row=dict(zip(PROJECTION_COLUMNS, stored_values, strict=True)) if has_stored else None,
        records={
            v: StoredRecord(i, v, o, b, _parsed(x) if x is not None else None)
            for i, v, o, b, x in _rows(ids, versions, outcomes, verifieds, explanations)
        },
        catalogue_stamp=stamp,
    )


def _parsed(text: str) -> Any:
    """A stored explanation (jsonb as text), read only to compare with today's: orjson, several times faster
    than json on the records of an enterprise with many. json for what orjson refuses (a number beyond a
    double's range, which jsonb may hold). orjson reads an integer beyond 64 bits as a float: the comparison
    then calls that explanation stale and it is rewritten with the same content, never shown wrong."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _rows(*arrays: list | None) -> Any:
    """Zip parallel arrays from array_agg (each NULL when there were no rows)."""
    return zip(*(array or () for array in arrays), strict=True)


def _local_date(moment: Any) -> date:
    return timezone.localdate(moment)
