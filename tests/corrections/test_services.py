"""数据纠错 / 申请核验 services: submit, accept, reject, overdue, working-day due dates, duplicates, refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from portal import events
from portal.api.exceptions import ApplicationError
from portal.corrections import selectors, services
from portal.corrections.models import CorrectionEvidence, CorrectionRequest, CorrectionTransition
from portal.corrections.workdays import add_working_days
from portal.enterprises.models import Enterprise, EnterpriseChange
from portal.lifecycle import ActorRole
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory

from .conftest import stored_files
from .support import fake_pdf, pdf

pytestmark = pytest.mark.django_db
Status = CorrectionRequest.Status


def _submit(user, **kwargs):
    kwargs.setdefault("fact", "employees")
    kwargs.setdefault("value", "180")
    kwargs.setdefault("files", [pdf()])
    return services.correction_submit(enterprise=user.enterprise, by=user, **kwargs)


def _nothing_written(media_root) -> None:
    assert CorrectionRequest.objects.count() == 0
    assert CorrectionEvidence.objects.count() == 0
    assert CorrectionTransition.objects.count() == 0
    assert stored_files(media_root) == []


# --- Working days ------------------------------------------------------------------------------------


def test_due_dates_skip_weekends() -> None:
    friday = dt.date(2026, 12, 4)
    assert add_working_days(friday, 1) == dt.date(2026, 12, 7)  # Monday
    assert add_working_days(friday, 5) == dt.date(2026, 12, 11)  # the next Friday
    assert add_working_days(dt.date(2026, 12, 5), 1) == dt.date(2026, 12, 7)  # from a Saturday
    assert add_working_days(dt.date(2026, 12, 7), 0) == dt.date(2026, 12, 7)
    assert add_working_days(dt.date(2026, 12, 7), 10) == dt.date(2026, 12, 21)


def test_a_request_is_due_the_configured_working_days_later(alice, stats_officer, settings) -> None:
    settings.CORRECTION_DUE_WORKING_DAYS = 3
    correction = _submit(alice)
    assert correction.due_on == add_working_days(timezone.localdate(), 3)
    assert correction.due_on.weekday() < 5


# --- Submit ------------------------------------------------------------------------------------------


def test_submit_goes_to_the_owning_department_with_a_responsible_officer(alice, stats_officer, media_root) -> None:
    correction = _submit(alice, statement="2026年统计年报为180人")
    assert correction.status == Status.SUBMITTED
    assert correction.department == "statistics"  # 从业人员: shared by 统计局 (and held from it)
    assert correction.assignee == stats_officer
    assert correction.field == "employees"
    assert correction.current_value == 150
    assert correction.proposed_value == 180
    assert correction.current_source == "statistics"
    assert [e.original_name for e in correction.evidence.all()] == ["统计年报.pdf"]
    assert len(stored_files(media_root)) == 1
    step = CorrectionTransition.objects.get(request=correction)
    assert (step.from_status, step.to_status, step.by_role) == ("", "submitted", ActorRole.ENTERPRISE)
    # The enterprise's inbox has it (read for the submitter, who saw the page).
    notice = Notification.objects.get(enterprise=alice.enterprise, kind=Notification.Kind.CORRECTION_UPDATE)
    assert "统计局" in notice.body and "180人" in notice.body
    # The enterprise's figure is untouched until the department decides.
    assert Enterprise.objects.get(pk=alice.enterprise_id).employees == 150


def test_the_department_of_a_self_declared_fact_is_the_one_that_verifies_it(db, stats_officer) -> None:
    enterprise = EnterpriseFactory(facts_source="self_declared")
    user = EnterpriseUserFactory(enterprise=enterprise)
    correction = services.correction_submit(enterprise=enterprise, by=user, fact="revenue", value="9000", files=[pdf()])
    assert correction.department == "tax"  # revenue: shared_by ("tax", "statistics")
    assert correction.assignee is None  # 税务局 has no officer here: the queue waits, superusers see it


def test_the_least_busy_officer_is_named(alice, bob, stats_officer) -> None:
    from portal.accounts.roles import Role
    from tests.enterprises.factories import StaffUserFactory

    second = StaffUserFactory(username="stats2", roles=[Role.DATA_OFFICER])
    services.department_assign(user=second, department="statistics")
    first = _submit(alice)
    other = _submit(alice, fact="above_designated_size", value="false")
    assert {first.assignee, other.assignee} == {stats_officer, second}


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"fact": "no_such_fact"}, "fact", "unknown_fact"),
        ({"fact": "size"}, "fact", "unknown_fact"),  # derived: correct its figures instead
        ({"value": "一百八十"}, "value", "invalid_integer"),
        ({"value": "12.5"}, "value", "invalid_integer"),
        ({"value": ""}, "value", "required"),
        ({"value": "-3"}, "value", "min_value"),
        ({"value": "10000001"}, "value", "max_value"),  # the fact's own bound (MAX_EMPLOYEES)
        ({"value": "150"}, "value", "unchanged"),
        ({"fact": "revenue", "value": "1e1000000"}, "value", "invalid_number"),
        ({"fact": "revenue", "value": "12.345"}, "value", "max_decimal_places"),
        ({"fact": "industry_code", "value": "6513"}, "fact", "unknown_fact"),  # facts are named as in the registry
        ({"fact": "industry", "value": "65"}, "value", "invalid_industry_code"),
        ({"fact": "age_years", "value": "2999-01-01"}, "value", "future_date"),
        ({"fact": "tax_credit_rating", "value": "E"}, "value", "invalid_choice"),
        ({"files": []}, "evidence", "required"),
        ({"files": [fake_pdf()]}, "evidence", "file_content_mismatch"),
        ({"files": [pdf("说明.exe")]}, "evidence", "file_type"),
        ({"files": [pdf(f"{i}.pdf") for i in range(6)]}, "evidence", "too_many_files"),
        ({"statement": "字" * 2001}, "statement", "max_length"),
        ({"kind": "other"}, "kind", "invalid_choice"),
        ({"kind": "verification"}, "fact", "not_self_declared"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(alice, stats_officer, media_root, kwargs, field, code) -> None:
    with pytest.raises(ApplicationError) as caught:
        _submit(alice, **kwargs)
    assert (caught.value.field, caught.value.code) == (field, code), caught.value.message
    assert caught.value.message  # Chinese, for people
    _nothing_written(media_root)


def test_a_file_over_the_limit_is_refused(alice, stats_officer, media_root, settings) -> None:
    settings.APPLICATION_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ApplicationError) as caught:
        _submit(alice)
    assert (caught.value.field, caught.value.code) == ("evidence", "file_too_large")
    _nothing_written(media_root)


def test_a_second_request_for_the_same_fact_is_a_duplicate_until_decided(alice, bob, stats_officer, media_root) -> None:
    first = _submit(alice)
    with pytest.raises(ApplicationError) as caught:
        _submit(bob, value="200")
    assert (caught.value.code, caught.value.field, caught.value.http_status) == ("duplicate_request", "fact", 409)
    assert CorrectionRequest.objects.count() == 1
    assert len(stored_files(media_root)) == 1
    services.correction_reject(correction=first, by=stats_officer, reason="与统计年报一致")
    assert _submit(bob, value="200").status == Status.SUBMITTED  # decided: a new one may be made


def test_only_the_enterprise_s_own_users_submit(alice, charlie, staff_data_officer, media_root) -> None:
    for user in (charlie, staff_data_officer):
        with pytest.raises(ApplicationError) as caught:
            services.correction_submit(enterprise=alice.enterprise, by=user, fact="employees", value="1", files=[pdf()])
        assert caught.value.code == "not_enterprise_user"
    _nothing_written(media_root)


# --- Decide ------------------------------------------------------------------------------------------


def test_accept_writes_the_value_with_the_department_as_source_and_fires_facts_changed(
    alice, stats_officer, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    correction = _submit(alice)
    seen: list[list[int]] = []
    decided: list[int] = []
    monkeypatch.setitem(
        events.HANDLERS, events.FACTS_CHANGED.name, [lambda enterprise_ids: seen.append(enterprise_ids)]
    )
    monkeypatch.setitem(
        events.HANDLERS, events.CORRECTION_DECIDED.name, [lambda correction_id: decided.append(correction_id)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.correction_accept(correction=correction, by=stats_officer, note="已核对统计年报")
    enterprise = Enterprise.objects.get(pk=alice.enterprise_id)
    assert enterprise.employees == 180
    assert enterprise.provenance["employees"] == {"source": "statistics", "as_of": timezone.localdate().isoformat()}
    assert seen == [[enterprise.pk]]
    assert decided == [correction.pk]
    change = EnterpriseChange.objects.filter(enterprise=enterprise).latest("id")
    assert change.source == "statistics" and change.changed_by == stats_officer
    correction.refresh_from_db()
    assert (correction.status, correction.decision_reason) == (Status.ACCEPTED, "已核对统计年报")
    steps = list(CorrectionTransition.objects.filter(request=correction).values_list("to_status", "by_role"))
    assert steps == [("submitted", "enterprise"), ("accepted", "data_officer")]
    notices = Notification.objects.filter(enterprise=enterprise, kind=Notification.Kind.CORRECTION_UPDATE)
    accepted = notices.get(payload__status="accepted")
    assert "统计局已将“从业人员”更正为180人" in accepted.body


def test_reject_keeps_the_fact_and_tells_the_reason(alice, stats_officer) -> None:
    correction = _submit(alice)
    before = Enterprise.objects.values().get(pk=alice.enterprise_id)
    services.correction_reject(correction=correction, by=stats_officer, reason="年报数据为150人")
    assert Enterprise.objects.values().get(pk=alice.enterprise_id) == before
    correction.refresh_from_db()
    assert (correction.status, correction.decision_reason) == (Status.REJECTED, "年报数据为150人")
    notice = Notification.objects.get(enterprise=alice.enterprise, payload__status="rejected")
    assert "未采纳" in notice.body and "年报数据为150人" in notice.body
    assert CorrectionTransition.objects.filter(request=correction, to_status="rejected").count() == 1


def test_reject_needs_a_reason_and_a_decided_request_cannot_be_decided_again(alice, stats_officer) -> None:
    correction = _submit(alice)
    with pytest.raises(ApplicationError) as caught:
        services.correction_reject(correction=correction, by=stats_officer, reason="  ")
    assert (caught.value.field, caught.value.code) == ("reason", "required")
    services.correction_accept(correction=correction, by=stats_officer)
    for decide in (
        lambda: services.correction_accept(correction=correction, by=stats_officer),
        lambda: services.correction_reject(correction=correction, by=stats_officer, reason="重复"),
    ):
        with pytest.raises(ApplicationError) as again:
            decide()
        assert again.value.code == "invalid_transition"
    assert CorrectionTransition.objects.filter(request=correction).count() == 2


def test_another_department_s_officer_and_other_staff_cannot_decide(
    alice, stats_officer, tax_officer, staff_reviewer, staff_data_officer
) -> None:
    correction = _submit(alice)
    before = Enterprise.objects.values().get(pk=alice.enterprise_id)
    for user in (tax_officer, staff_reviewer, staff_data_officer):  # staff_data_officer: assigned to nothing
        with pytest.raises(ApplicationError) as caught:
            services.correction_accept(correction=correction, by=user)
        assert caught.value.code == "department_required"
        with pytest.raises(ApplicationError):
            services.correction_reject(correction=correction, by=user, reason="x")
        assert not selectors.queue_for_staff(user=user).exists()
    correction.refresh_from_db()
    assert correction.status == Status.SUBMITTED
    assert Enterprise.objects.values().get(pk=alice.enterprise_id) == before
    assert CorrectionTransition.objects.filter(request=correction).count() == 1


def test_assign_names_another_officer_of_the_department(alice, stats_officer, tax_officer) -> None:
    from portal.accounts.roles import Role
    from tests.enterprises.factories import StaffUserFactory

    correction = _submit(alice)
    colleague = StaffUserFactory(username="stats3", roles=[Role.DATA_OFFICER])
    services.department_assign(user=colleague, department="statistics")
    services.correction_assign(correction=correction, by=stats_officer, assignee=colleague)
    correction.refresh_from_db()
    assert correction.assignee == colleague
    with pytest.raises(ApplicationError) as caught:
        services.correction_assign(correction=correction, by=stats_officer, assignee=tax_officer)
    assert (caught.value.field, caught.value.code) == ("assignee", "invalid_assignee")


def test_overdue_requests_are_listed_for_their_department(alice, stats_officer, tax_officer) -> None:
    correction = _submit(alice)
    today = timezone.localdate()
    assert not selectors.overdue_for_staff(user=stats_officer, today=today).exists()
    assert list(selectors.overdue_for_staff(user=stats_officer, today=correction.due_on + dt.timedelta(days=1))) == [
        correction
    ]
    assert not selectors.overdue_for_staff(user=tax_officer, today=correction.due_on + dt.timedelta(days=1)).exists()
    services.correction_reject(correction=correction, by=stats_officer, reason="不予采纳")
    assert not selectors.overdue_for_staff(user=stats_officer, today=correction.due_on + dt.timedelta(days=1)).exists()


# --- 请核验 → 申请核验 ----------------------------------------------------------------------------------


def test_verification_accepted_makes_the_department_the_source(db, stats_officer) -> None:
    enterprise = EnterpriseFactory(facts_source="self_declared")
    user = EnterpriseUserFactory(enterprise=enterprise)
    correction = services.correction_submit(enterprise=enterprise, by=user, fact="employees", kind="verification")
    assert correction.proposed_value == 150 and correction.department == "statistics"
    assert correction.evidence.count() == 0  # evidence is optional for a verification
    services.correction_accept(correction=correction, by=stats_officer)
    enterprise.refresh_from_db()
    assert enterprise.employees == 150
    assert enterprise.fact_source("employees") == "statistics"
    assert enterprise.fact_verified("employees")
    notice = Notification.objects.get(enterprise=enterprise, payload__status="accepted")
    assert "已核验“从业人员”（150人）" in notice.body


def test_a_verification_of_an_unknown_fact_is_refused(db) -> None:
    enterprise = EnterpriseFactory(facts_source="self_declared", rd_staff=None)
    enterprise.provenance.pop("rd_staff", None)
    Enterprise.objects.filter(pk=enterprise.pk).update(provenance=enterprise.provenance, rd_staff=None)
    user = EnterpriseUserFactory(enterprise=enterprise)
    with pytest.raises(ApplicationError) as caught:
        services.correction_submit(enterprise=enterprise, by=user, fact="rd_staff", kind="verification")
    assert (caught.value.field, caught.value.code) == ("fact", "nothing_to_verify")


def test_no_foreign_capital_and_decimals_round_trip(alice, stats_officer) -> None:
    from portal.accounts.roles import Role
    from tests.enterprises.factories import StaffUserFactory

    officer = stats_officer  # revenue is held from 统计局: its record is the one in question
    market = StaffUserFactory(username="mr1", roles=[Role.DATA_OFFICER])
    services.department_assign(user=market, department="market_regulation")
    Enterprise.objects.filter(pk=alice.enterprise_id).update(foreign_investor_country="JP")
    alice.enterprise.refresh_from_db()
    revenue = _submit(alice, fact="revenue", value="8,123.40")
    country = _submit(alice, fact="foreign_investor_country", value="无")
    services.correction_accept(correction=revenue, by=officer)
    services.correction_accept(correction=country, by=market)
    enterprise = Enterprise.objects.get(pk=alice.enterprise_id)
    assert enterprise.revenue == Decimal("8123.40")
    assert enterprise.foreign_investor_country == ""
    assert enterprise.fact_source("foreign_investor_country") == "market_regulation"


def test_a_verification_of_a_value_changed_since_is_not_confirmed(db, stats_officer) -> None:
    from portal.enterprises.services import enterprise_update_facts

    enterprise = EnterpriseFactory(facts_source="self_declared")
    user = EnterpriseUserFactory(enterprise=enterprise)
    correction = services.correction_submit(enterprise=enterprise, by=user, fact="employees", kind="verification")
    enterprise_update_facts(enterprise=enterprise, facts={"employees": 160}, source="self_declared", by=user)
    with pytest.raises(ApplicationError) as caught:
        services.correction_accept(correction=correction, by=stats_officer)
    assert (caught.value.code, caught.value.http_status) == ("value_changed", 409)
    enterprise.refresh_from_db()
    assert (enterprise.employees, enterprise.fact_source("employees")) == (160, "self_declared")
    correction.refresh_from_db()
    assert correction.status == Status.SUBMITTED


def test_decisions_and_assignments_are_in_the_audit_trail(alice, stats_officer) -> None:
    from portal.audit.models import AuditEvent

    correction = _submit(alice)
    services.correction_accept(correction=correction, by=stats_officer)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_name"))
    assert any(action.startswith("departmentassignment.") for action, _ in actions)
    assert ("correctionrequest.status", "stats_officer") in actions


def test_an_accepted_correction_lists_the_past_decision_it_reverses_for_recall(
    alice, stats_officer, celery_eager, django_capture_on_commit_callbacks
) -> None:
    from matching.services import match_profiles_refresh, policy_version_match
    from portal.entitlements.models import Entitlement
    from portal.recall.models import Correction, RecallItem
    from tests.policies.factories import PolicyVersionFactory

    # 150 staff (统计局): entitled to a 免申即享 benefit for firms of at most 160.
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, mode="exempt", rule={"fact": "employees", "op": "lte", "value": 160})
    policy_version_match(version_id=version.pk)
    entitlement = Entitlement.objects.get(enterprise=alice.enterprise, policy_version=version)
    correction = _submit(alice, value="180")

    with django_capture_on_commit_callbacks(execute=True):
        services.correction_accept(correction=correction, by=stats_officer)

    listed = Correction.objects.get(kind="fact")
    assert (listed.enterprise_ids, listed.facts, listed.by_id) == (
        [alice.enterprise_id],
        ["employees"],
        stats_officer.pk,
    )
    item = RecallItem.objects.get(correction=listed)
    assert (item.kind, item.enterprise_id, item.entitlement_id, item.status) == (
        "recovery",
        alice.enterprise_id,
        entitlement.pk,
        "pending",
    )
    assert item.old_receipt is not None and item.old_receipt.outcome == "eligible"
    # Nothing is clawed back by the recall itself.
    assert Entitlement.objects.get(pk=entitlement.pk).status != "revoked"
