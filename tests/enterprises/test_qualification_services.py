"""Qualifications (资质): validity windows, self-declared vs verified, history and the re-match hook."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from portal.api.exceptions import ApplicationError
from portal.enterprises import services
from portal.enterprises.models import EnterpriseChange, Qualification
from tests.enterprises.factories import QualificationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "counts"),
    [
        (date(2023, 12, 31), False),
        (date(2024, 1, 1), True),  # first day
        (date(2026, 12, 31), True),  # last day
        (date(2027, 1, 1), False),
    ],
)
def test_a_qualification_counts_only_inside_its_validity(day: date, counts: bool) -> None:
    q = Qualification(kind="high_tech", valid_from=date(2024, 1, 1), valid_to=date(2026, 12, 31), source="science_tech")
    assert q.valid_on(day) is counts


def test_without_an_end_date_it_counts_from_its_start() -> None:
    q = Qualification(kind="unicorn_cultivation", valid_from=date(2024, 9, 1), valid_to=None, source="science_tech")
    assert not q.valid_on(date(2024, 8, 31))
    assert q.valid_on(date(2040, 1, 1))


def test_enterprise_declares_a_qualification(alice, facts_changed, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        q = services.qualification_create(
            enterprise=alice.enterprise,
            kind="gazelle",
            valid_from=date(2025, 3, 1),
            valid_to=date(2026, 2, 28),
            source="self_declared",
            by=alice,
        )
    assert not q.verified
    change = EnterpriseChange.objects.get(enterprise=alice.enterprise)
    assert change.change_for("qualification:gazelle")["new"] == {
        "certificate_no": "",
        "valid_from": "2025-03-01",
        "valid_to": "2026-02-28",
    }
    assert facts_changed.calls == [[alice.enterprise_id]]


def test_end_before_start_is_refused(alice) -> None:
    with pytest.raises(ValidationError) as info:
        services.qualification_create(
            enterprise=alice.enterprise, kind="gazelle", valid_from=date(2025, 3, 1), valid_to=date(2025, 1, 1)
        )
    assert info.value.error_dict["valid_to"][0].code == "before_valid_from"
    assert not Qualification.objects.exists()


def test_enterprise_cannot_withdraw_a_verified_qualification(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="science_tech")
    with pytest.raises(ApplicationError) as info:
        services.qualification_delete(qualification=q, by=alice)
    assert info.value.code == "verified_fact"
    assert Qualification.objects.filter(pk=q.pk).exists()


def test_enterprise_withdraws_what_it_declared(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="self_declared", certificate_no="")
    services.qualification_delete(qualification=q, by=alice)
    assert not Qualification.objects.filter(pk=q.pk).exists()
    change = EnterpriseChange.objects.get(enterprise=alice.enterprise)
    assert change.change_for("qualification:high_tech")["new"] is None
