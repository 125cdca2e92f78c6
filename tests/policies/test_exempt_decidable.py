"""A 免申即享 policy decides from verified department data alone: a version with a condition no
verified source decides (an attestation, a judgement, a fact only self-declaration supplies) is
neither submitted for review nor published, and the refusal names the condition ("第N个条件：…")
with a stable code; nothing changes. A 申报 policy may carry such conditions."""

from __future__ import annotations

import dataclasses

import pytest
from rest_framework.test import APIClient

from matching.core.registry import FACTS
from policies import services
from policies.models import PolicyTransition, PolicyVersion
from portal.api.exceptions import ApplicationError
from tests.policies.conftest import version_content
from tests.policies.factories import HIGH_TECH_SOFTWARE_RULE

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status
ATTEST_RULE = {"all": [*HIGH_TECH_SOFTWARE_RULE["all"], {"attest": "近三年无重大安全生产事故"}]}
JUDGE_RULE = {"all": [*HIGH_TECH_SOFTWARE_RULE["all"], {"judge": "属于行业领先企业", "department": "区工信局"}]}
EXEMPT = {"mode": "exempt", "application_start": None, "application_end": None, "materials": [], "conditions_text": ""}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snapshot(version: PolicyVersion) -> tuple:
    version.refresh_from_db()
    return version.status, version.submitted_at, version.approved_at, version.published_at, version.transitions.count()


def test_submitting_an_exempt_policy_with_an_attestation_is_refused_over_the_api(make_draft, staff_editor):
    version = make_draft(golden=False, rule=ATTEST_RULE, **EXEMPT)
    before = snapshot(version)

    response = client_for(staff_editor).post(f"/api/v1/staff/policy-versions/{version.pk}/submit/", {}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "undecidable_condition"
    assert "第3个条件：企业承诺：近三年无重大安全生产事故" in error["message"]
    assert "申报" in error["message"]
    assert [(c["number"], c["path"]) for c in error["conditions"]] == [(3, "all[2]")]
    assert snapshot(version) == before
    assert version.status == Status.DRAFT


def test_publishing_one_already_in_review_is_refused_and_nothing_changes(
    make_draft, staff_editor, staff_reviewer, reviewer2
):
    # As if submitted before the guard existed: in review and approved, with a judgement.
    version = make_draft(golden=False, rule=JUDGE_RULE, **EXEMPT)
    PolicyVersion.objects.filter(pk=version.pk).update(
        status=Status.IN_REVIEW, submitted_by=staff_editor, approved_by=staff_reviewer
    )
    before = snapshot(version)

    with pytest.raises(ApplicationError) as caught:
        services.policy_publish(version=version, by=reviewer2)

    assert caught.value.code == "undecidable_condition"
    assert "第3个条件：经区工信局认定：属于行业领先企业" in caught.value.message
    assert snapshot(version) == before
    assert not PolicyTransition.objects.filter(version=version, action="publish").exists()


def test_a_fact_only_self_declaration_supplies_is_refused_too(make_draft, staff_editor, monkeypatch):
    # The registry says so by giving the fact no verified source.
    spec = FACTS["employees"]
    monkeypatch.setitem(FACTS, "employees", dataclasses.replace(spec, verified_sources=frozenset()))  # type: ignore[arg-type]
    rule = {"all": [*HIGH_TECH_SOFTWARE_RULE["all"], {"fact": "employees", "op": "gte", "value": 10}]}
    version = make_draft(golden=False, rule=rule, **EXEMPT)

    with pytest.raises(ApplicationError) as caught:
        services.policy_submit(version=version, by=staff_editor)

    assert caught.value.code == "undecidable_condition"
    assert "第3个条件：从业人员不少于10人（该信息只能由企业自行填报" in caught.value.message
    version.refresh_from_db()
    assert version.status == Status.DRAFT


def test_an_import_of_such_an_exempt_policy_is_refused_before_anything_is_written(staff_editor):
    fields = version_content(rule=ATTEST_RULE, **EXEMPT)
    with pytest.raises(ApplicationError) as caught:
        services.policy_version_import(key="exempt-attest", fields=fields, golden_cases=[], by=staff_editor, comment="")
    assert caught.value.code == "undecidable_condition"
    assert not PolicyVersion.objects.filter(policy__key="exempt-attest").exists()


def test_the_same_conditions_in_an_apply_policy_go_through(make_draft, publish):
    version = publish(make_draft(golden=False, rule={"all": [*ATTEST_RULE["all"], JUDGE_RULE["all"][-1]]}))
    assert version.status == Status.PUBLISHED


def test_an_exempt_policy_whose_conditions_data_decides_goes_through(make_draft, publish):
    version = publish(make_draft(**EXEMPT))
    assert version.status == Status.PUBLISHED
