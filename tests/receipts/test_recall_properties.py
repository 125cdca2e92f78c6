"""Property test: the recall list equals a brute-force re-evaluation of every past decision.

Random 免申即享 rules decided for random enterprises (receipts written by the bulk path); then a random
correction: department facts of some enterprises corrected (recall_for_fact_correction), or a corrected
rule published for the same benefit (recall_for_version_correction). The brute force re-evaluates every
(enterprise, version) pair of the district with the pure evaluator and compares what it grants with the
latest receipt: the items must be exactly the pairs that differ, each with the right kind and receipt.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.core.evaluator import compile_rule
from matching.core.profile import EnterpriseProfile
from matching.core.registry import FACTS
from matching.services import match_profiles_refresh, policy_version_match
from policies.models import PolicyVersion
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.recall.models import RecallItem
from portal.recall.services import entitled, recall_for_fact_correction, recall_for_version_correction
from portal.receipts.models import Receipt
from tests.matching.db_support import publish_version, store_profile
from tests.matching.strategies import FACT_RULES, ON, SCALAR_VALUES, profiles

pytestmark = pytest.mark.django_db

DEPARTMENTS = st.sampled_from(["market_regulation", "tax", "statistics", "science_tech", "credit"])
# registry fact name → its column, for the scalar facts a department can correct (size is derived).
CORRECTABLE = {
    name: spec.profile_key
    for name, spec in FACTS.items()
    if spec.profile_key in SCALAR_VALUES and spec.profile_key != "size"
}


@st.composite
def fact_corrections(draw: st.DrawFn, n: int) -> list[tuple[int, str, Any, str]]:
    """(enterprise index, fact name, corrected value or None, department) for some enterprises."""
    names = sorted(CORRECTABLE)
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.sampled_from(names).flatmap(lambda name: st.tuples(st.just(name), SCALAR_VALUES[CORRECTABLE[name]])),
                DEPARTMENTS,
            ).map(lambda t: (t[0], t[1][0], t[1][1], t[2])),
            min_size=1,
            max_size=4,
        )
    )


class _Rollback(Exception):
    pass


def _district(rules: list[dict[str, Any]], generated: list[EnterpriseProfile], on: date) -> list[PolicyVersion]:
    for profile in generated:
        store_profile(profile)
    match_profiles_refresh()
    versions = [publish_version(rule, mode="exempt") for rule in rules]
    for version in versions:
        policy_version_match(version_id=version.pk, on=on, chunk_size=4)
    return versions


def _brute_force(
    pairs: list[tuple[PolicyVersion, PolicyVersion]], on: date
) -> set[tuple[str, int, int, int | None, str, bool]]:
    """Every (decided, deciding) version pair over the whole district: where what the latest receipt of the
    decided version granted differs from what the deciding rule grants now."""
    profiles_by_id = dict(enterprise_profiles_by_id(queryset=Enterprise.objects.all()))
    found = set()
    for decided, deciding in pairs:
        compiled = compile_rule(deciding.rule)
        for pk, profile in profiles_by_id.items():
            old = (
                Receipt.objects.filter(kind="decision", enterprise_id=pk, policy_version=decided)
                .order_by("-id")
                .first()
            )
            was = old is not None and entitled(old.outcome, old.verified)
            outcome = compiled.evaluate(profile, on=on)
            if was != entitled(outcome.status, outcome.verified):
                kind = "reissue" if not was else "recovery"
                found.add((kind, pk, decided.pk, old.pk if old else None, str(outcome.status), outcome.verified))
    return found


def _listed(correction: Any) -> set[tuple[str, int, int, int | None, str, bool]]:
    if correction is None:
        return set()
    return {
        (i.kind, i.enterprise_id, i.policy_version_id, i.old_receipt_id, i.new_outcome, i.new_verified)
        for i in RecallItem.objects.filter(correction=correction)
    }


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@SETTINGS
@given(
    rules=st.lists(FACT_RULES, min_size=1, max_size=3),
    generated=st.lists(profiles(), min_size=1, max_size=6),
    on=ON,
    data=st.data(),
)
def test_a_fact_correction_lists_exactly_the_decisions_that_now_differ(
    rules: list[dict[str, Any]], generated: list[EnterpriseProfile], on: date, data: st.DataObject
) -> None:
    try:
        with transaction.atomic():
            versions = _district(rules, generated, on)
            enterprises = list(Enterprise.objects.order_by("pk"))
            corrections = data.draw(fact_corrections(len(enterprises)))
            touched: set[int] = set()
            for index, name, value, department in corrections:
                enterprise = Enterprise.objects.get(pk=enterprises[index].pk)
                column = CORRECTABLE[name]
                field = Enterprise._meta.get_field(column)
                # Unknown: NULL, or (a text column that holds no NULL) its default with no provenance.
                setattr(enterprise, column, value if value is not None or field.null else field.get_default())
                provenance = dict(enterprise.provenance or {})
                if value is None:
                    provenance.pop(column, None)
                else:
                    provenance[column] = {"source": department, "as_of": "2025-03-01"}
                enterprise.provenance = provenance
                enterprise.recompute_size()
                enterprise.save()
                touched.add(enterprise.pk)
            correction = recall_for_fact_correction(
                enterprise_ids=sorted(touched), facts=sorted({name for _, name, _, _ in corrections}), by=None, on=on
            )
            # Every version, every enterprise: the filter by corrected facts (and size) must lose nothing.
            assert _listed(correction) == _brute_force([(v, v) for v in versions], on)
            raise _Rollback
    except _Rollback:
        pass


@SETTINGS
@given(
    rule=FACT_RULES,
    corrected=FACT_RULES,
    generated=st.lists(profiles(), min_size=1, max_size=6),
    on=ON,
)
def test_a_corrected_rule_lists_exactly_the_decisions_that_now_differ(
    rule: dict[str, Any], corrected: dict[str, Any], generated: list[EnterpriseProfile], on: date
) -> None:
    try:
        with transaction.atomic():
            (old,) = _district([rule], generated, on)
            PolicyVersion.objects.filter(pk=old.pk).update(status=PolicyVersion.Status.RETIRED)
            new = PolicyVersion.objects.create(
                policy=old.policy,
                number=2,
                rule=corrected,
                title=old.title,
                benefit_kind=old.benefit_kind,
                mode="exempt",
                effective_from=old.effective_from,
                author=old.author,
                status=PolicyVersion.Status.PUBLISHED,
            )
            correction = recall_for_version_correction(version_id=new.pk, on=on)
            assert correction is not None
            assert _listed(correction) == _brute_force([(old, new)], on)
            again = recall_for_version_correction(version_id=new.pk, on=on)  # once per version
            assert again == correction and RecallItem.objects.filter(correction=correction).count() == len(
                _listed(correction)
            )
            raise _Rollback
    except _Rollback:
        pass
