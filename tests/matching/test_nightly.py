"""The nightly run re-decides only what the date moved (matching.nightly), and leaves exactly the records a
full pass leaves (real PostgreSQL).

The property test: random rules, enterprises and policy dates; a first nightly run on `since` (a full pass);
then, between the runs, random date moves (establishment dates, qualification periods: fact changes, which
the incremental path decides on their day) and perhaps a version published on its day; then the nightly
run of `until`, changed-only. Its records are compared with those of a full pass from the same state
(rolled back to a savepoint), field by field, and with the pure evaluator.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import nightly
from matching.core.evaluator import CompiledRule, compile_rule, state_letters_of
from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord
from matching.models import MatchRecord, MatchRun
from matching.services import enterprise_match, match_everything, match_profiles_refresh, match_run_execute
from portal.enterprises.models import Enterprise, Qualification, Township, Zone
from portal.enterprises.selectors import enterprise_profiles_by_id
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.matching.db_support import publish_version, store_profile
from tests.matching.strategies import CONDITIONS, FACT_CONDITIONS, RULES, SOURCES, profiles
from tests.support.services import (
    database_connections,
    database_connections_settled,
    need_postgres,
    threads_named,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres(settings) -> None:
    need_postgres()  # the full pass reads with PostgreSQL's binary COPY
    # The nightly logic in one process: a spread full pass sends its chunks to workers, which these tests
    # have none of (tests/matching/test_pass_chunks.py covers a spread nightly run and the one after it).
    settings.MATCH_PASS_SPREAD = False


def nightly_run(day: date, *, full: bool = False) -> MatchRun:
    taken = MatchRun.objects.filter(nightly_for=day).exists()  # a second run the same day (rematch)
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY, nightly_for=None if taken else day)
    if full:
        nightly.nightly_match(on=day, run=run, full=True)
        from portal.jobs import job_finish

        job_finish(run)
    else:
        match_run_execute(run=run, on=day)
    run.refresh_from_db()
    return run


def records() -> list[tuple[Any, ...]]:
    return sorted(
        MatchRecord.objects.values_list(
            "enterprise_id",
            "policy_version_id",
            "outcome",
            "verified",
            "states",
            "explanation",
            "previous_outcome",
            "previous_verified",
        )
    )


def effects() -> list[tuple[Any, ...]]:
    """What the decisions caused besides their records, as a full pass and the changed-only run must both
    leave it: receipts, entitlements, notices (享受 / 需补充信息) and notifications, without their ids,
    times, runs and notice numbers (issued in a different order by the two)."""
    from django.db import models

    from portal.entitlements.models import Entitlement
    from portal.notices.models import DecisionNotice
    from portal.notifications.models import Notification
    from portal.receipts.models import Receipt

    skipped = {"id", "run_id", "number", "sequence", "match_record_id", "entitlement_id", "basis", "duplicate_of"}
    found: list[tuple[Any, ...]] = []
    for model in (Receipt, Entitlement, DecisionNotice, Notification):
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if f.name not in skipped and not isinstance(f, models.DateTimeField)
        ]
        found += [(model.__name__, *map(repr, row)) for row in model.objects.values_list(*names)]
    return sorted(found)


# --- Property: the changed-only run is the full pass -----------------------------------------------

# Rules that read the date more often than RULES does (one fact in seventeen), mixed with any condition.
DATED = st.one_of(FACT_CONDITIONS["age_years"], FACT_CONDITIONS["qualification"])
DATED_RULES = st.one_of(
    DATED,
    st.builds(lambda xs: {"all": xs}, st.lists(st.one_of(DATED, DATED, CONDITIONS), min_size=1, max_size=3)),
    st.builds(lambda xs: {"any": xs}, st.lists(st.one_of(DATED, DATED, CONDITIONS), min_size=1, max_size=3)),
    st.builds(lambda x: {"not": x}, DATED),
)
SINCE = st.sampled_from(
    [date(2024, 2, 28), date(2024, 2, 29), date(2025, 6, 29), date(2025, 6, 30), date(2025, 12, 31)]
)
GAPS = st.sampled_from([0, 1, 2, 3, 31, 184, 366, 800])
OFFSETS = st.sampled_from([-9000, -1, 0, 1, 2, 40, 400])
# Mostly in effect throughout (so enterprises' crossings are what the run decides), else random dates.
ALWAYS = st.just((-9000, None, None, None))
# In effect throughout with a random 申报 window: a window crossing is named and decides nothing, so the
# version's records are the enterprises' crossings' alone, which must equal the full pass's.
WINDOWED = st.tuples(st.just(-9000), st.none(), st.none() | OFFSETS, st.none() | OFFSETS)
PERIODS = st.one_of(
    ALWAYS, ALWAYS, WINDOWED, st.tuples(OFFSETS, st.none() | OFFSETS, st.none() | OFFSETS, st.none() | OFFSETS)
)
MOVES = st.lists(
    st.tuples(
        st.integers(0, 7),  # which enterprise
        st.sampled_from(["established_on", "qualification"]),
        st.sampled_from([date(2020, 2, 29), date(2022, 6, 30), date(2024, 7, 1), date(2025, 7, 1), None]),
        st.integers(0, 100),  # when, as a share of the days between the runs
    ),
    max_size=4,
)


@st.composite
def near_boundaries(draw: st.DrawFn, since: date, gap: int) -> EnterpriseProfile:
    """A random profile whose dates sit near the boundaries between `since` and `since + gap`: an
    establishment date about 1, 3 or 5 years (the strategies' ages) before a day in between, and
    qualification periods starting or ending around those days."""
    profile = draw(profiles())
    facts = dict(profile.facts)
    around = since + timedelta(days=draw(st.sampled_from([-1, 0, 1, gap // 2, gap, gap + 1])))
    if draw(st.integers(0, 4)):
        years = draw(st.sampled_from([1, 3, 5, 6]))
        try:
            born = around.replace(year=around.year - years)
        except ValueError:  # 29 February
            born = date(around.year - years, 2, 28)
        facts["established_on"] = Fact(born + timedelta(days=draw(st.sampled_from([-1, 0, 1]))), draw(SOURCES))
    quals = list(profile.qualifications)
    for _ in range(draw(st.integers(0, 2))):
        start = since + timedelta(days=draw(st.sampled_from([-400, -1, 0, 1, gap, gap + 1])))
        end = draw(st.sampled_from([None, -1, 0, 1, gap - 1, gap, gap + 1]))
        stop = None if end is None else max(start, since + timedelta(days=end))
        quals.append(QualificationRecord(draw(st.sampled_from(["high_tech", "gazelle"])), start, stop, draw(SOURCES)))
    return replace(profile, facts=facts, qualifications=tuple(quals))


class _Rollback(Exception):
    pass


@override_settings(MATCH_NIGHTLY_FULL_EVERY_DAYS=0)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    rules=st.lists(st.one_of(DATED_RULES, DATED_RULES, RULES), min_size=1, max_size=3),
    periods=st.lists(PERIODS, min_size=3, max_size=3),
    modes=st.lists(st.sampled_from(["apply", "exempt"]), min_size=3, max_size=3),
    since_and_gap=st.tuples(SINCE, GAPS).flatmap(
        lambda sg: st.tuples(st.just(sg), st.lists(near_boundaries(*sg), min_size=2, max_size=8))
    ),
    moves=MOVES,
    late_rule=st.none() | RULES,
)
def test_the_changed_only_run_leaves_exactly_the_records_of_a_full_pass(
    rules: list[dict[str, Any]],
    periods: list[tuple[int, int | None, int | None, int | None]],
    modes: list[str],
    since_and_gap: tuple[tuple[date, int], list[EnterpriseProfile]],
    moves: list[tuple[int, str, date | None, int]],
    late_rule: dict[str, Any] | None,
) -> None:
    (since, gap), generated = since_and_gap
    try:
        with transaction.atomic():
            _check(rules, periods, modes, generated, since, gap, moves, late_rule)
            raise _Rollback
    except _Rollback:
        pass


def _dates(since: date, period: tuple[int, int | None, int | None, int | None]) -> dict[str, date | None]:
    start, end, window_start, window_end = period
    effective_from = since + timedelta(days=start)
    effective_to = None if end is None else max(effective_from, since + timedelta(days=end))
    application_start = None if window_start is None else since + timedelta(days=window_start)
    application_end = None if window_end is None else since + timedelta(days=window_end)
    if application_start and application_end and application_end < application_start:
        application_end = application_start
    return {
        "effective_from": effective_from,
        "effective_to": effective_to,
        "application_start": application_start,
        "application_end": application_end,
    }


def _check(rules, periods, modes, generated, since, gap, moves, late_rule) -> None:  # type: ignore[no-untyped-def]
    until = since + timedelta(days=gap)
    ids = [store_profile(profile).pk for profile in generated]
    match_profiles_refresh()
    versions = [
        publish_version(rule, mode=mode, **_dates(since, period))
        for rule, period, mode in zip(rules, periods, modes, strict=False)
    ]
    first = nightly_run(since)
    assert first.nightly["mode"] == "full"

    # Between the runs: fact changes decided by the incremental path on their day, perhaps a publish.
    for which, what, value, share in moves:
        enterprise_id = ids[which % len(ids)]
        day = since + timedelta(days=gap * share // 100)
        if what == "established_on":
            Enterprise.objects.filter(pk=enterprise_id).update(established_on=value)
        else:
            Qualification.objects.create(
                enterprise_id=enterprise_id,
                kind="high_tech",
                valid_from=value or since,
                valid_to=None if value is None else value + timedelta(days=gap // 2),
                source="science_tech",
            )
        enterprise_match(enterprise_id=enterprise_id, on=day)
    if late_rule is not None:
        from matching.services import policy_version_match

        late = publish_version(late_rule, effective_from=since + timedelta(days=gap // 2))
        versions.append(late)
        policy_version_match(version_id=late.pk, on=since + timedelta(days=gap // 3))

    savepoint = transaction.savepoint()
    run = nightly_run(until)
    assert run.nightly["mode"] == "changed", run.nightly
    changed_only = records()
    changed_only_effects = effects()
    _assert_as_evaluator(versions, until)
    transaction.savepoint_rollback(savepoint)

    match_everything(on=until)
    assert changed_only == records()
    after = effects()
    assert changed_only_effects == after


def _assert_as_evaluator(versions: list, on: date) -> None:
    profiles_by_id = dict(enterprise_profiles_by_id(queryset=Enterprise.objects.all()))
    for version in versions:
        compiled = compile_rule(version.rule)
        stored = {r.enterprise_id: r for r in MatchRecord.objects.filter(policy_version=version)}
        for enterprise_id, profile in profiles_by_id.items():
            record = stored.get(enterprise_id)
            if not version.in_effect_on(on):
                assert record is None or record.outcome == "ineligible"
                continue
            expected = compiled.evaluate(profile, on=on)
            if record is None:
                assert expected.status == "ineligible", (version.rule, profile)
                continue
            assert (record.outcome, record.verified) == (expected.status, expected.verified), (version.rule, profile)
            # Every record shows each condition's result as of `on`, also where a dated condition under `not`
            # or `any` moved while the decision stood (restated, with no push); what it says besides (a
            # figure's as-of date) may be of the day it was decided.
            assert record.states == expected.state_letters, (version.rule, profile)
            if record.explanation is not None:
                assert state_letters_of(record.explanation) == expected.state_letters, (version.rule, profile)
            if record.explanation is not None and record.explanation["on"] == str(on) and record.run_id is not None:
                assert record.explanation == json.loads(json.dumps(expected.to_dict()))


# --- Each reason ---------------------------------------------------------------------------------

YOUNG = {"all": [{"fact": "age_years", "op": "lte", "value": 5}, {"fact": "employees", "op": "gte", "value": 100}]}
HIGH_TECH = {"all": [{"fact": "qualification", "op": "has", "value": "high_tech"}]}
BIG = {"fact": "employees", "op": "gte", "value": 100}
DAY = date(2026, 12, 6)
NEXT = DAY + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
@override_settings(MATCH_NIGHTLY_FULL_EVERY_DAYS=0)
def test_outside_a_transaction_each_part_is_found_while_the_one_before_is_written(monkeypatch) -> None:
    import threading

    from devtools.bench import district as synthetic_district
    from tests.policies.factories import PolicyVersionFactory

    # Parts of 10 enterprises (2,000 in production), so a small district has several.
    monkeypatch.setattr(nightly, "PART_ENTERPRISES", 10)
    finders: list[int] = []
    differing = nightly._differing

    def observed(*args: Any, **kwargs: Any) -> Any:
        finders.append(threading.get_ident())
        return differing(*args, **kwargs)

    monkeypatch.setattr(nightly, "_differing", observed)
    synthetic_district.build_district(150, seed=5)
    match_profiles_refresh()
    for rule in (
        {"fact": "age_years", "op": "gte", "value": 3},
        {"all": [{"fact": "age_years", "op": "lt", "value": 10}, {"fact": "size", "op": "in", "value": ["small"]}]},
        {
            "any": [
                {"fact": "qualification", "op": "has", "value": "high_tech"},
                {"fact": "age_years", "op": "gte", "value": 5},
            ]
        },
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ):
        PolicyVersionFactory(published=True, rule=rule, mode="exempt")
    since = date.today() - timedelta(days=500)
    until = date.today()
    assert nightly_run(since).nightly["mode"] == "full"

    # Inside a transaction a second connection would not see its writes: each part is found in turn, here.
    try:
        with transaction.atomic():
            in_turn = nightly_run(until)
            expected, expected_effects = records(), effects()
            raise _Rollback
    except _Rollback:
        pass
    assert in_turn.nightly["mode"] == "changed" and in_turn.nightly["enterprises_by_crossing"] > 20
    assert len(finders) >= 3 and set(finders) == {threading.get_ident()}
    assert records() != expected

    finders.clear()
    before = database_connections()
    ahead = nightly_run(until)

    assert (ahead.nightly["decisions"], ahead.nightly["restated"]) == (
        in_turn.nightly["decisions"],
        in_turn.nightly["restated"],
    )
    assert records() == expected and effects() == expected_effects
    # Every part found on the one helper thread, none on this one; the helper and its connection are gone.
    assert len(finders) >= 3 and len(set(finders)) == 1 and threading.get_ident() not in finders
    assert database_connections_settled(before) == before
    assert not threads_named("nightly-differing")


def outcome(enterprise: Enterprise, version: Any) -> str:
    record = MatchRecord.objects.filter(enterprise=enterprise, policy_version=version).first()
    return record.outcome if record else "ineligible"


def test_the_first_nightly_run_is_a_full_pass_and_the_next_only_the_crossings() -> None:
    turning_six = EnterpriseFactory(established_on=date(2020, 12, 7))  # 6 years old on NEXT
    young = EnterpriseFactory(established_on=date(2024, 1, 1))
    match_profiles_refresh()
    version = publish_version(YOUNG)

    first = nightly_run(DAY)
    assert (first.nightly["mode"], first.nightly["full_because"]) == ("full", "first")
    assert outcome(turning_six, version) == outcome(young, version) == "eligible"
    assert "全量匹配（没有上一次每日匹配可作起点）" in nightly.nightly_text(first.nightly)

    second = nightly_run(NEXT)

    assert second.nightly["mode"] == "changed" and second.nightly["since"] == DAY.isoformat()
    assert second.nightly["reasons"]["age"] == {"enterprises": 1}
    assert second.nightly["enterprises_by_crossing"] == 1 and second.nightly["decisions"] == 1
    assert outcome(turning_six, version) == "ineligible" and outcome(young, version) == "eligible"
    assert second.changed == {"no_longer_eligible": 1}
    assert nightly.nightly_text(second.nightly).startswith(
        f"只重新判定自 {DAY.isoformat()} 以来日期变化涉及的企业：年龄跨界 1 家企业；共 1 家企业、1 次判定"
    )


def test_crossings_outside_a_versions_industries_are_ruled_out_without_evaluating_the_rule(monkeypatch) -> None:
    young_software = {"all": [{"fact": "industry", "op": "under", "value": ["65"]}, *YOUNG["all"]]}
    # Both turn six on NEXT (the rule asks at most five years, and 100 employees, which both have).
    inside = EnterpriseFactory(industry_code="6520", employees=100, established_on=date(2020, 12, 7))
    outside = EnterpriseFactory(industry_code="1311", employees=100, established_on=date(2020, 12, 7))
    match_profiles_refresh()
    version = publish_version(young_software)
    nightly_run(DAY)
    assert [outcome(e, version) for e in (inside, outside)] == ["eligible", "ineligible"]
    asked: list[str] = []
    evaluate, surely_ineligible = CompiledRule.evaluate, CompiledRule.surely_ineligible

    def evaluating(rule, profile, *, on):  # type: ignore[no-untyped-def]
        asked.append(profile.credit_code)
        return evaluate(rule, profile, on=on)

    def ruling_out(rule, profile, *, on):  # type: ignore[no-untyped-def]
        asked.append(profile.credit_code)
        return surely_ineligible(rule, profile, on=on)

    monkeypatch.setattr(CompiledRule, "evaluate", evaluating)
    monkeypatch.setattr(CompiledRule, "surely_ineligible", ruling_out)

    run = nightly_run(NEXT)

    assert run.nightly["reasons"]["age"] == {"enterprises": 2}
    assert [outcome(e, version) for e in (inside, outside)] == ["ineligible", "ineligible"]
    # The one outside the rule's industries crossed too, but the industry index settled it: nothing asked.
    assert outside.credit_code not in asked and inside.credit_code in asked


def test_a_threshold_beyond_64_bits_is_written_into_the_changed_decisions_explanation() -> None:
    """A rule's validation bounds no number; the explanation shows the threshold, and the fast serialiser
    refuses integers beyond 64 bits: the run still writes the decision and its explanation, exactly."""
    huge = 10**30
    rule = {"all": [YOUNG["all"][0], {"fact": "employees", "op": "lte", "value": huge}]}
    turning_six = EnterpriseFactory(employees=100, established_on=date(2020, 12, 7))
    match_profiles_refresh()
    version = publish_version(rule)
    nightly_run(DAY)
    assert outcome(turning_six, version) == "eligible"

    nightly_run(NEXT)

    record = MatchRecord.objects.get(enterprise=turning_six, policy_version=version)
    assert record.outcome == "ineligible"
    assert [c["value"] for c in record.explanation["conditions"]] == [5, huge]


def test_a_qualification_that_starts_or_ends_is_re_decided() -> None:
    ending = QualificationFactory(valid_from=date(2023, 12, 6), valid_to=DAY).enterprise  # last valid day: DAY
    starting = QualificationFactory(valid_from=NEXT, valid_to=date(2029, 12, 6)).enterprise
    steady = QualificationFactory(valid_from=date(2024, 1, 1), valid_to=date(2029, 1, 1)).enterprise
    match_profiles_refresh()
    version = publish_version(HIGH_TECH)
    nightly_run(DAY)
    assert [outcome(e, version) for e in (ending, starting, steady)] == ["eligible", "ineligible", "eligible"]

    run = nightly_run(NEXT)

    assert run.nightly["reasons"]["qualification"] == {"enterprises": 2}
    assert run.nightly["decisions"] == 2
    assert [outcome(e, version) for e in (ending, starting, steady)] == ["ineligible", "eligible", "eligible"]
    assert "资质生效/到期 2 家企业" in nightly.nightly_text(run.nightly)


@pytest.mark.parametrize("how", ["changed_only", "full_pass"])
def test_a_condition_that_moves_while_the_decision_stands_is_restated_without_a_push(how: str) -> None:
    """高新技术企业 or at least 100 people: the qualification ends on DAY, the headcount keeps the enterprise
    eligible. The next day's record must not still show the qualification as met."""
    from portal.notifications.models import Notification
    from portal.receipts.models import Receipt

    firm = QualificationFactory(valid_from=date(2023, 12, 6), valid_to=DAY, enterprise__employees=150).enterprise
    match_profiles_refresh()
    version = publish_version({"any": [HIGH_TECH["all"][0], BIG]})
    nightly_run(DAY)
    record = MatchRecord.objects.get(enterprise=firm, policy_version=version)
    assert (record.outcome, record.states) == ("eligible", "MM")
    pushed, receipts = Notification.objects.count(), Receipt.objects.count()

    run = nightly_run(NEXT, full=how == "full_pass")

    record.refresh_from_db()
    assert (record.outcome, record.states) == ("eligible", "NM")
    assert record.explanation["on"] == NEXT.isoformat()
    results = {c["fact"]: c["result"] for c in record.explanation["conditions"]}
    assert results == {"qualification": "unmet", "employees": "met"}
    # Not a new decision: no receipt, no notification, no change counted.
    assert (Notification.objects.count(), Receipt.objects.count()) == (pushed, receipts)
    assert not run.changed
    if how == "changed_only":
        assert run.nightly["restated"] == 1
        assert "其中 1 条判定结果不变、条件状态变化的说明已更新" in nightly.nightly_text(run.nightly)


def test_a_version_taking_effect_since_the_last_run_is_restated_where_a_condition_moved() -> None:
    """The same move, on a version that took effect between two runs: the run decides that version for the
    whole district (the per-version path, which compares decisions only), and must restate it too."""
    from matching.services import policy_version_match

    firm = QualificationFactory(valid_from=date(2023, 12, 6), valid_to=DAY, enterprise__employees=150).enterprise
    match_profiles_refresh()
    nightly_run(DAY - timedelta(days=1))
    version = publish_version({"any": [HIGH_TECH["all"][0], BIG]}, effective_from=DAY)
    policy_version_match(version_id=version.pk, on=DAY)  # published on its first day
    record = MatchRecord.objects.get(enterprise=firm, policy_version=version)
    assert (record.outcome, record.states) == ("eligible", "MM")

    run = nightly_run(NEXT)

    assert run.nightly["mode"] == "changed" and run.nightly["versions_whole"] == [version.pk]
    record.refresh_from_db()
    assert (record.outcome, record.states) == ("eligible", "NM")
    assert {c["fact"]: c["result"] for c in record.explanation["conditions"]} == {
        "qualification": "unmet",
        "employees": "met",
    }
    assert run.nightly["restated"] == 1 and not run.changed


def test_the_per_policy_path_restates_as_the_one_pass_does() -> None:
    """match_everything's per-policy path (the one pass's fallback when most versions change) restates too."""
    firm = QualificationFactory(valid_from=date(2023, 12, 6), valid_to=DAY, enterprise__employees=150).enterprise
    match_profiles_refresh()
    version = publish_version({"any": [HIGH_TECH["all"][0], BIG]})
    nightly_run(DAY)

    summary = match_everything(on=NEXT, one_pass=False)

    record = MatchRecord.objects.get(enterprise=firm, policy_version=version)
    assert (record.outcome, record.states, record.explanation["on"]) == ("eligible", "NM", NEXT.isoformat())
    assert summary.changed_records == 0


def test_a_version_taking_effect_or_lapsing_is_re_decided_for_everyone_and_a_window_only_named() -> None:
    enterprises = [EnterpriseFactory(employees=150) for _ in range(3)]
    match_profiles_refresh()
    starting = publish_version(BIG, effective_from=NEXT)
    lapsing = publish_version(BIG, effective_to=DAY)
    window = publish_version(BIG, application_start=NEXT)
    untouched = publish_version(BIG)
    nightly_run(DAY)
    assert [outcome(enterprises[0], v) for v in (starting, lapsing, window)] == ["ineligible", "eligible", "eligible"]

    run = nightly_run(NEXT)

    assert run.nightly["reasons"]["policy"] == {"versions": 3, "effective": 2, "window": 1}
    # The window opening decides nothing (no decision reads it): named, not re-decided for the district.
    assert run.nightly["versions_whole"] == sorted([starting.pk, lapsing.pk])
    assert untouched.pk not in run.nightly["versions_whole"]
    for enterprise in enterprises:
        assert [outcome(enterprise, v) for v in (starting, lapsing, window, untouched)] == ["eligible"] * 1 + [
            "ineligible"
        ] + ["eligible"] * 2
    assert (
        "政策生效/申报窗口 3 个政策版本（生效变化 2 个对全区 3 家企业重新判定，申报窗口变化 1 个不影响判定结果）"
        in nightly.nightly_text(run.nightly)
    )


def test_a_failed_enterprise_run_and_a_missing_profile_are_made_good() -> None:
    decided = EnterpriseFactory(employees=150)
    match_profiles_refresh()
    version = publish_version(BIG)
    nightly_run(DAY)
    # Facts changed but their run failed (the record still says eligible); a new enterprise has no profile.
    Enterprise.objects.filter(pk=decided.pk).update(employees=10)
    MatchRun.objects.create(kind=MatchRun.Kind.ENTERPRISES, enterprise_ids=[decided.pk], status=MatchRun.Status.FAILED)
    newcomer = EnterpriseFactory(employees=150)

    run = nightly_run(NEXT)

    assert run.nightly["reasons"]["retry"] == {"enterprises": 1, "versions": 0}
    assert run.nightly["reasons"]["profile"] == {"enterprises": 1}
    assert outcome(decided, version) == "ineligible" and outcome(newcomer, version) == "eligible"


@pytest.mark.parametrize("why", ["engine", "places", "periodic", "asked"])
def test_the_full_pass_runs_when_the_previous_run_cannot_be_trusted(why: str, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    enterprise = EnterpriseFactory(employees=150)
    match_profiles_refresh()
    version = publish_version(BIG)
    nightly_run(DAY)
    MatchRecord.objects.all().delete()  # something no event announced: only a full pass finds it
    if why == "engine":
        monkeypatch.setattr(nightly, "engine_stamp", lambda: "another")
    elif why == "places":
        Township.objects.filter(code="320505002").update(zone=Zone.objects.get(code="tech_ecology"))
    elif why == "periodic":
        settings.MATCH_NIGHTLY_FULL_EVERY_DAYS = 1

    run = nightly_run(NEXT, full=why == "asked")

    assert (run.nightly["mode"], run.nightly["full_because"]) == ("full", why)
    assert outcome(enterprise, version) == "eligible"
    assert nightly.FULL_LABELS[why] in nightly.nightly_text(run.nightly)


def test_without_such_a_reason_nothing_no_event_announced_is_seen() -> None:
    """The other side of the trade: a record lost outside every path stays lost until a full pass."""
    enterprise = EnterpriseFactory(employees=150)
    match_profiles_refresh()
    version = publish_version(BIG)
    nightly_run(DAY)
    MatchRecord.objects.all().delete()

    run = nightly_run(NEXT)

    assert run.nightly["mode"] == "changed" and run.nightly["decisions"] == 0
    assert outcome(enterprise, version) == "ineligible"
    assert "没有企业跨过日期界限" in nightly.nightly_text(run.nightly)


def test_rematch_runs_the_changed_only_run_and_all_the_full_pass(capsys) -> None:  # type: ignore[no-untyped-def]
    EnterpriseFactory(established_on=date(2020, 1, 1))
    match_profiles_refresh()
    publish_version(YOUNG)

    call_command("rematch")  # no previous nightly run: the full pass
    first = capsys.readouterr().out
    assert "全量匹配（没有上一次每日匹配可作起点）" in first

    call_command("rematch", "--all")
    assert "全量匹配（按要求全量匹配）" in capsys.readouterr().out
