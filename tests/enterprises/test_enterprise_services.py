"""Writing enterprise facts: validation, provenance precedence, derived size, history and the re-match hook."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portal import events
from portal.api.exceptions import ApplicationError
from portal.enterprises import services
from portal.enterprises.models import Enterprise, EnterpriseChange
from tests.enterprises.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def codes_of(error: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


def test_create_normalises_the_code_and_records_provenance_size_and_history(
    staff_data_officer, facts_changed, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enterprise = services.enterprise_create(
            credit_code=" 9111 0108 5513 8508 2q",
            name="苏州示例科技有限公司",
            facts={"industry_code": "3973", "employees": 150, "revenue": "8000"},
            source="market_regulation",
            as_of=date(2025, 3, 1),
            by=staff_data_officer,
        )

    enterprise.refresh_from_db()
    assert enterprise.credit_code == "91110108551385082Q"
    assert enterprise.size == "small"
    assert enterprise.size_basis.endswith("→小型")
    assert enterprise.provenance["employees"] == {"source": "market_regulation", "as_of": "2025-03-01"}
    assert set(enterprise.provenance) == {"name", "industry_code", "employees", "revenue"}
    change = EnterpriseChange.objects.get(enterprise=enterprise)
    assert change.changed_by == staff_data_officer
    assert change.fields == ["created", "name", "industry_code", "employees", "revenue"]
    assert change.change_for("revenue") == {"field": "revenue", "old": None, "new": "8000.00"}
    assert facts_changed.calls == [[enterprise.pk]]


def test_create_rejects_a_bad_code_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        services.enterprise_create(credit_code="91110108551385082R", name="x", facts={"employees": -3})
    assert codes_of(info.value) == {"credit_code": ["invalid_check_character"], "employees": ["min_value"]}
    assert not Enterprise.objects.exists()


def test_create_refuses_a_duplicate_code() -> None:
    existing = EnterpriseFactory()
    with pytest.raises(ApplicationError) as info:
        services.enterprise_create(credit_code=existing.credit_code.lower(), name="重复")
    assert (info.value.code, info.value.field) == ("duplicate_credit_code", "credit_code")


def test_self_declared_value_never_replaces_a_department_value(alice, facts_changed) -> None:
    enterprise = alice.enterprise  # employees verified by 统计局
    before = (enterprise.employees, dict(enterprise.provenance))

    with pytest.raises(ValidationError) as info:
        services.enterprise_update_facts(
            enterprise=enterprise, facts={"employees": 999, "rd_expense_ratio": "7"}, source="self_declared", by=alice
        )

    assert codes_of(info.value) == {"employees": ["verified_fact"], "rd_expense_ratio": ["verified_fact"]}
    assert "统计局" in info.value.error_dict["employees"][0].message
    enterprise.refresh_from_db()
    assert (enterprise.employees, enterprise.provenance) == before
    assert not EnterpriseChange.objects.exists()
    assert facts_changed.calls == []


def test_self_declared_values_can_be_corrected_by_the_enterprise(
    alice, facts_changed, django_capture_on_commit_callbacks
) -> None:
    enterprise = EnterpriseFactory(facts_source="self_declared")
    alice.enterprise = enterprise
    alice.save()

    with django_capture_on_commit_callbacks(execute=True):
        changed = services.enterprise_update_facts(
            enterprise=enterprise, facts={"employees": 350, "revenue": "45000"}, source="self_declared", by=alice
        )

    assert changed == ["employees", "revenue", "size"]
    enterprise.refresh_from_db()
    assert enterprise.size == "medium"  # 350 persons → medium, 45000 万元 → large: the lower tier
    assert enterprise.provenance["employees"]["source"] == "self_declared"
    change = EnterpriseChange.objects.get(enterprise=enterprise)
    assert change.changed_by == alice
    assert change.change_for("employees") == {"field": "employees", "old": 150, "new": 350}
    assert change.change_for("size") == {"field": "size", "old": "small", "new": "medium"}
    assert facts_changed.calls == [[enterprise.pk]]


def test_nothing_to_change_writes_nothing(alice, facts_changed, django_capture_on_commit_callbacks) -> None:
    enterprise = alice.enterprise
    with django_capture_on_commit_callbacks(execute=True):
        changed = services.enterprise_update_facts(
            enterprise=enterprise, facts={"employees": enterprise.employees}, source="self_declared", by=alice
        )
    assert changed == []
    assert not EnterpriseChange.objects.exists()
    assert facts_changed.calls == []


def test_an_older_department_value_does_not_undo_a_newer_one(staff_data_officer) -> None:
    enterprise = EnterpriseFactory(facts_as_of=date(2025, 12, 31))
    changed = services.enterprise_update_facts(
        enterprise=enterprise,
        facts={"employees": 10},
        source="statistics",
        as_of=date(2024, 12, 31),
        by=staff_data_officer,
    )
    assert changed == []
    enterprise.refresh_from_db()
    assert enterprise.employees == 150


def test_a_newer_department_value_replaces_and_resizes(staff_data_officer) -> None:
    enterprise = EnterpriseFactory(employees=150, revenue=Decimal("8000"))
    changed = services.enterprise_update_facts(
        enterprise=enterprise, facts={"employees": 10}, source="statistics", as_of=date(2026, 1, 31)
    )
    assert changed == ["employees", "size"]
    assert enterprise.size == "micro"
    assert enterprise.provenance["employees"] == {"source": "statistics", "as_of": "2026-01-31"}


def test_unknown_source_and_future_dates_are_refused(alice) -> None:
    with pytest.raises(ApplicationError):
        services.enterprise_update_facts(enterprise=alice.enterprise, facts={"employees": 1}, source="gossip")
    with pytest.raises(ApplicationError) as info:
        services.enterprise_update_facts(
            enterprise=alice.enterprise, facts={"employees": 1}, source="statistics", as_of=date(2999, 1, 1)
        )
    assert info.value.field == "as_of"


def test_batched_notifications_announce_once_and_not_on_error(
    alice, charlie, facts_changed, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with events.batched(events.FACTS_CHANGED):
            events.emit(events.FACTS_CHANGED, enterprise_ids=[alice.enterprise_id])
            events.emit(events.FACTS_CHANGED, enterprise_ids=[charlie.enterprise_id, alice.enterprise_id])
        with pytest.raises(ValueError), events.batched(events.FACTS_CHANGED):
            events.emit(events.FACTS_CHANGED, enterprise_ids=[charlie.enterprise_id])
            raise ValueError
    assert facts_changed.calls == [sorted([alice.enterprise_id, charlie.enterprise_id])]
