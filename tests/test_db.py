"""portal.db: the `any_of` lookup gives what `__in` gives, with the ids as one array parameter (real PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.enterprises.models import Enterprise, Qualification
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory

pytestmark = pytest.mark.django_db


def test_any_of_selects_what_in_selects_on_keys_and_foreign_keys() -> None:
    firms = [EnterpriseFactory() for _ in range(4)]
    QualificationFactory(enterprise=firms[0])
    QualificationFactory(enterprise=firms[2])
    wanted = [firms[0].pk, firms[1].pk, firms[2].pk, 10**12]  # one id that exists nowhere

    assert set(Enterprise.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)) == {f.pk for f in firms[:3]}
    assert sorted(Qualification.objects.filter(enterprise_id__any_of=wanted).values_list("pk", flat=True)) == sorted(
        Qualification.objects.filter(enterprise_id__in=wanted).values_list("pk", flat=True)
    )
    assert not Enterprise.objects.filter(pk__any_of=[]).exists()
    # Combined with other conditions, the same rows as `__in`.
    assert Enterprise.objects.filter(pk__any_of=wanted).exclude(pk=firms[0].pk).count() == 2


def test_any_of_sends_the_ids_as_one_parameter_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's")
    ids = list(range(1, 5001))
    with CaptureQueriesContext(connection) as captured:
        list(Enterprise.objects.filter(pk__any_of=ids).values_list("pk", flat=True))
    (sql,) = [q["sql"] for q in captured.captured_queries]
    # One array literal cast to bigint[], not 5,000 placeholders filled in one by one.
    assert "= ANY(" in sql and "::bigint[]" in sql and " IN (" not in sql
