"""`enterprise_profiles_read` (plain rows) gives exactly the profiles `enterprise_profiles_by_id` (ORM) gives."""

from __future__ import annotations

from datetime import date

import pytest

from portal.enterprises.models import Enterprise, Park, Township
from portal.enterprises.selectors import enterprise_profiles_by_id, enterprise_profiles_read
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_the_plain_reader_gives_the_orm_reader_s_profiles() -> None:
    rich = EnterpriseFactory(employees=150, established_on=date(2020, 2, 29))
    QualificationFactory(enterprise=rich, kind="high_tech", valid_from=date(2024, 1, 1), valid_to=None)
    QualificationFactory(enterprise=rich, kind="gazelle", valid_from=date(2023, 1, 1), valid_to=date(2025, 1, 1))
    townships = list(Township.objects.order_by("code")[:2])
    parks = list(Park.objects.order_by("code")[:3])
    assert len(townships) == 2 and len(parks) == 3  # the place map the migrations load
    SiteFactory(enterprise=rich, township=townships[1], parks=[parks[2], parks[0]])
    SiteFactory(enterprise=rich, township=townships[0], parks=[])
    plain = EnterpriseFactory()
    gone = -1  # an id with no enterprise is simply absent
    ids = [rich.pk, plain.pk, gone]

    expected = dict(enterprise_profiles_by_id(queryset=Enterprise.objects.filter(pk__in=ids)))

    assert enterprise_profiles_read(enterprise_ids=ids) == expected
    assert len(expected[rich.pk].qualifications) == 2 and len(expected[rich.pk].sites) == 2
    assert expected[rich.pk].sites[0].park_codes == tuple(sorted((parks[2].code, parks[0].code)))
