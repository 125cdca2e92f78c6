"""Golden cases (标准案例) in the staff console: listed with their check, edited only on drafts by editors."""

from __future__ import annotations

import json

import pytest

from policies.models import GoldenCase, PolicyVersion
from tests.policies.factories import ELIGIBLE_PROFILE, GoldenCaseFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

CASE = {
    "name": "软件高企（示例）",
    "expected": "eligible",
    "on": "",
    "industry_code": "6520",
    "qualifications": ["high_tech"],
    "verified": "on",
}


def test_version_page_lists_cases_with_their_check(client, staff_auditor) -> None:
    version = PolicyVersionFactory(status=PolicyVersion.Status.IN_REVIEW)
    GoldenCaseFactory(version=version, name="应符合（示例）", profile=ELIGIBLE_PROFILE, expected="eligible")
    GoldenCaseFactory(version=version, name="写错的预期（示例）", profile=ELIGIBLE_PROFILE, expected="ineligible")
    client.force_login(staff_auditor)

    html = client.get(f"/console/versions/{version.pk}/").content.decode()

    table = html[html.index('id="golden-table"') :]
    assert "应符合（示例）" in table and "通过" in table
    assert "写错的预期（示例）" in table and "未通过" in table
    assert "预期不符合条件，实际符合条件" in table  # the reason from golden_check
    assert "1 个未通过" in table
    assert "新增标准案例" not in html  # not a draft, and an auditor does not edit


def test_editor_adds_a_case_from_the_fact_fields(client, staff_editor) -> None:
    version = PolicyVersionFactory()
    client.force_login(staff_editor)
    assert "新增标准案例" in client.get(f"/console/versions/{version.pk}/").content.decode()

    response = client.post(f"/console/versions/{version.pk}/golden/new/", CASE)

    assert response.status_code == 302
    case = GoldenCase.objects.get(version=version)
    assert case.name == "软件高企（示例）" and case.expected == "eligible"
    assert case.profile == {
        "industry_code": "6520",
        "qualifications": [{"kind": "high_tech", "valid_from": "2020-01-01"}],
        "sources": "department",
    }
    html = client.get(f"/console/versions/{version.pk}/").content.decode()
    assert "软件高企（示例）" in html and "全部通过" in html


def test_service_errors_are_shown_on_the_fields_in_chinese(client, staff_editor) -> None:
    version = PolicyVersionFactory()
    GoldenCaseFactory(version=version, name="已有（示例）")
    client.force_login(staff_editor)

    url = f"/console/versions/{version.pk}/golden/new/"
    bad_industry = client.post(url, {**CASE, "name": "新案例（示例）", "industry_code": "65"})
    same_name = client.post(url, {**CASE, "name": "已有（示例）"})

    assert bad_industry.status_code == same_name.status_code == 200
    industry_errors = bad_industry.context["form"].errors["industry_code"]
    assert industry_errors == ["所属行业请填写GB/T 4754-2017中的4位行业小类代码（如 6513）"]
    assert same_name.context["form"].errors["name"] == ["同一版本中已有同名案例"]
    assert GoldenCase.objects.filter(version=version).count() == 1


def test_json_profile_for_experts_and_its_errors(client, staff_editor) -> None:
    version = PolicyVersionFactory()
    client.force_login(staff_editor)
    url = f"/console/versions/{version.pk}/golden/new/"

    bad = client.post(url, {**CASE, "profile_json": '{"employees": -3}'})
    assert bad.context["form"].errors["profile_json"] == ["employees：应为非负整数"]
    broken = client.post(url, {**CASE, "profile_json": "{not json"})
    assert "JSON 格式有误" in broken.context["form"].errors["profile_json"][0]
    assert not GoldenCase.objects.exists()

    profile = {"industry_code": "3311", "sites": [{"township_code": "320505407"}]}
    ok = client.post(url, {**CASE, "expected": "ineligible", "profile_json": json.dumps(profile)})
    assert ok.status_code == 302
    assert GoldenCase.objects.get().profile == profile  # the JSON wins over the fact fields


def test_editor_edits_and_deletes_a_case(client, staff_editor) -> None:
    version = PolicyVersionFactory()
    case = GoldenCaseFactory(version=version, name="旧名（示例）", profile={"industry_code": "6520"})
    client.force_login(staff_editor)

    page = client.get(f"/console/golden/{case.pk}/edit/")
    assert page.context["form"].initial["industry_code"] == "6520"

    response = client.post(f"/console/golden/{case.pk}/edit/", {**CASE, "name": "新名（示例）", "employees": "50"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.name == "新名（示例）" and case.profile["employees"] == 50

    assert client.post(f"/console/golden/{case.pk}/delete/").status_code == 302
    assert not GoldenCase.objects.filter(pk=case.pk).exists()


def test_a_profile_the_fields_cannot_hold_is_edited_as_json(client, staff_editor) -> None:
    case = GoldenCaseFactory(version=PolicyVersionFactory(), profile=ELIGIBLE_PROFILE)  # has valid_to
    client.force_login(staff_editor)

    initial = client.get(f"/console/golden/{case.pk}/edit/").context["form"].initial

    assert json.loads(initial["profile_json"]) == ELIGIBLE_PROFILE


@pytest.mark.parametrize("status", [PolicyVersion.Status.IN_REVIEW, PolicyVersion.Status.PUBLISHED])
def test_cases_of_a_submitted_version_cannot_change(client, staff_editor, status) -> None:
    version = PolicyVersionFactory(status=status)
    case = GoldenCaseFactory(version=version, name="不可改（示例）")
    client.force_login(staff_editor)

    assert client.get(f"/console/versions/{version.pk}/golden/new/").status_code == 403
    assert client.post(f"/console/versions/{version.pk}/golden/new/", CASE).status_code == 403
    assert client.post(f"/console/golden/{case.pk}/edit/", {**CASE, "name": "改了"}).status_code == 403
    assert client.post(f"/console/golden/{case.pk}/delete/").status_code == 403
    assert list(GoldenCase.objects.values_list("name", flat=True)) == ["不可改（示例）"]


def test_only_editors_change_cases(client, staff_reviewer, alice) -> None:
    version = PolicyVersionFactory()
    case = GoldenCaseFactory(version=version, name="原样（示例）")
    for user in (staff_reviewer, alice):
        client.force_login(user)
        assert client.post(f"/console/versions/{version.pk}/golden/new/", CASE).status_code == 403
        assert client.post(f"/console/golden/{case.pk}/delete/").status_code == 403
    client.logout()
    assert client.post(f"/console/golden/{case.pk}/delete/").status_code == 302  # to the login page
    assert list(GoldenCase.objects.values_list("name", flat=True)) == ["原样（示例）"]
