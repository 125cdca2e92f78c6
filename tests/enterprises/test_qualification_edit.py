"""An enterprise corrects or withdraws a qualification it declared itself; a department-verified one is the
department's record and stays as it is."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from portal.api.exceptions import ApplicationError
from portal.enterprises import services
from portal.enterprises.models import EnterpriseChange, Qualification
from tests.enterprises.factories import QualificationFactory

pytestmark = pytest.mark.django_db


def snapshot(q: Qualification) -> tuple:
    q = Qualification.objects.get(pk=q.pk)
    return (q.certificate_no, q.valid_from, q.valid_to, q.source, q.as_of)


def test_a_self_declared_qualification_is_corrected_and_recorded(
    alice, facts_changed, django_capture_on_commit_callbacks
) -> None:
    q = QualificationFactory(
        enterprise=alice.enterprise, kind="gazelle", source="self_declared", valid_from=date(2024, 1, 1), valid_to=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.qualification_update(
            qualification=q, valid_from=date(2024, 3, 1), valid_to=date(2026, 2, 28), certificate_no=" DL-1 ", by=alice
        )
    q.refresh_from_db()
    assert (q.certificate_no, q.valid_from, q.valid_to, q.source) == (
        "DL-1",
        date(2024, 3, 1),
        date(2026, 2, 28),
        "self_declared",
    )
    change = EnterpriseChange.objects.get(enterprise=alice.enterprise).change_for("qualification:gazelle")
    assert change["old"]["valid_from"] == "2024-01-01" and change["new"]["valid_to"] == "2026-02-28"
    assert facts_changed.calls == [[alice.enterprise_id]]


def test_a_verified_qualification_cannot_be_edited_or_withdrawn_by_the_enterprise(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="science_tech")
    before = snapshot(q)
    with pytest.raises(ApplicationError) as info:
        services.qualification_update(qualification=q, valid_from=date(2020, 1, 1), valid_to=None, by=alice)
    assert (info.value.code, info.value.field) == ("verified_fact", "qualification")
    with pytest.raises(ApplicationError):
        services.qualification_delete(qualification=q, by=alice)
    assert snapshot(q) == before
    assert not EnterpriseChange.objects.exists()


def test_an_end_before_the_start_is_refused_and_nothing_changes(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="self_declared")
    before = snapshot(q)
    with pytest.raises(ValidationError) as info:
        services.qualification_update(qualification=q, valid_from=date(2025, 1, 1), valid_to=date(2024, 1, 1))
    assert info.value.error_dict["valid_to"][0].code == "before_valid_from"
    assert snapshot(q) == before and not EnterpriseChange.objects.exists()


def test_a_certificate_number_held_by_another_of_its_kind_is_refused(alice) -> None:
    QualificationFactory(enterprise=alice.enterprise, kind="gazelle", certificate_no="A1", source="self_declared")
    q = QualificationFactory(enterprise=alice.enterprise, kind="gazelle", certificate_no="B2", source="self_declared")
    with pytest.raises(ApplicationError) as info:
        services.qualification_update(
            qualification=q, valid_from=q.valid_from, valid_to=q.valid_to, certificate_no="A1"
        )
    assert info.value.code == "duplicate_certificate"
    assert snapshot(q)[0] == "B2"


def test_saving_the_same_values_records_nothing(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="self_declared")
    services.qualification_update(
        qualification=q, valid_from=q.valid_from, valid_to=q.valid_to, certificate_no=q.certificate_no
    )
    assert not EnterpriseChange.objects.exists()
