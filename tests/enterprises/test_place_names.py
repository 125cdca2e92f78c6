"""Zone and park names come from the database: the rule wording, the forms and golden-case validation."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from matching.core.registry import FACTS
from matching.core.vocabulary import INITIAL_PLACES
from policies import services as policy_services
from portal.enterprises.models import Park, Zone
from portal.enterprises.place_names import CACHE_KEY, place_choices, place_names_load

pytestmark = pytest.mark.django_db


def test_a_renamed_zone_reaches_the_rule_wording_once_committed(django_capture_on_commit_callbacks) -> None:
    zone = Zone.objects.get(code="tech_ecology")
    with django_capture_on_commit_callbacks(execute=True):
        zone.name = "科技生态新区"
        zone.save()
    assert FACTS["zone"].wording("in", ["tech_ecology"]) == "经营场所位于：科技生态新区"


def test_other_processes_pick_shared_names_up_at_their_next_request(client) -> None:
    zones, parks = dict(INITIAL_PLACES.zones), {**INITIAL_PLACES.parks, "new_valley_park": "新谷园"}
    cache.set(CACHE_KEY, (zones, parks))  # as the process where an administrator added the park shares them
    client.get("/healthz")
    assert FACTS["park"].wording("in", ["new_valley_park"]).endswith("新谷园")


def test_a_process_starts_with_the_database_names() -> None:
    Park.objects.create(code="new_valley_park", name="新谷园", sort_order=99)
    place_names_load()
    assert FACTS["park"].wording("in", ["new_valley_park"]).endswith("新谷园")


def test_forms_offer_the_database_names() -> None:
    Zone.objects.create(code="west_lake_zone", name="西部新区", sort_order=9)
    zones, _ = place_choices()
    assert ("west_lake_zone", "西部新区") in zones


def test_golden_cases_are_checked_against_the_database_places(staff_editor) -> None:
    from tests.policies.factories import PolicyVersionFactory

    version = PolicyVersionFactory(author=staff_editor)
    Zone.objects.create(code="west_lake_zone", name="西部新区", sort_order=9)
    Park.objects.filter(code="hefeng_park").delete()
    accepted = policy_services.golden_case_create(
        version=version,
        by=staff_editor,
        name="新功能区的企业",
        expected="eligible",
        on=None,
        profile={"sites": [{"zone": "west_lake_zone"}]},
    )
    assert accepted.pk is not None
    with pytest.raises(ValidationError) as refused:
        policy_services.golden_case_create(
            version=version,
            by=staff_editor,
            name="已撤销园区的企业",
            expected="eligible",
            on=None,
            profile={"sites": [{"zone": "west_lake_zone", "parks": ["hefeng_park"]}]},
        )
    assert list(refused.value.message_dict) == ["profile.sites[0].parks"]
