"""The console rule builder adds attestations (企业承诺) and judgements (主管部门认定) as rows with their
wording; the preview words them in Chinese; a 免申即享 draft with one saves but cannot be submitted."""

from __future__ import annotations

import pytest

from frontend import rule_builder as rb
from policies.models import PolicyVersion
from tests.frontend.test_console_pages import FORM

pytestmark = pytest.mark.django_db

PENDING_ROWS = {
    "r2_fact": "attest",
    "r2_value": "近三年无重大安全生产事故",
    "r3_fact": "judge",
    "r3_value": "属于行业领先企业",
    "r3_department": "区工业和信息化局",
}
APPLY = {
    "mode": "apply",
    "application_start": "2026-01-01",
    "application_end": "2026-12-31",
    "conditions_text": "示例",
    "materials": "营业执照",
}


def test_choosing_attest_draws_a_wording_input_and_no_operator(client, staff_editor) -> None:
    client.force_login(staff_editor)
    html = client.get("/console/rule/row/", {"index": "2", "changed": "fact", "r2_fact": "attest"}).content.decode()
    assert "承诺内容" in html and 'name="r2_value"' in html
    assert 'name="r2_op"' not in html and "认定部门" not in html

    judge = client.get("/console/rule/row/", {"index": "3", "changed": "fact", "r3_fact": "judge"}).content.decode()
    assert "认定事项" in judge and 'name="r3_department"' in judge


def test_the_fact_menu_offers_both_kinds() -> None:
    labels = dict(rb.fact_choices())
    assert labels["attest"].startswith("企业承诺") and labels["judge"].startswith("主管部门认定")


def test_preview_words_them(client, staff_editor) -> None:
    client.force_login(staff_editor)
    html = client.post("/console/rule/preview/", {**FORM, **PENDING_ROWS}).content.decode()
    assert "企业承诺：近三年无重大安全生产事故" in html
    assert "经区工业和信息化局认定：属于行业领先企业" in html


def test_an_empty_wording_is_named_on_its_row(client, staff_editor) -> None:
    client.force_login(staff_editor)
    html = client.post("/console/rule/preview/", {**FORM, "r2_fact": "attest", "r2_value": " "}).content.decode()
    assert "第3个条件 › 承诺内容" in html and "非空文字" in html and "all[2]" not in html


def test_an_apply_draft_saves_them_and_the_builder_shows_them_again(client, staff_editor) -> None:
    client.force_login(staff_editor)
    response = client.post("/console/policies/new/", {**FORM, **APPLY, **PENDING_ROWS})
    assert response.status_code == 302, response.content.decode()[:2000]
    version = PolicyVersion.objects.get(title=FORM["title"])
    assert version.rule["all"][2:] == [
        {"attest": "近三年无重大安全生产事故"},
        {"judge": "属于行业领先企业", "department": "区工业和信息化局"},
    ]
    html = client.get(f"/console/versions/{version.pk}/").content.decode()
    assert 'value="近三年无重大安全生产事故"' in html and 'value="区工业和信息化局"' in html


def test_an_exempt_draft_with_an_attestation_is_not_submitted(client, staff_editor) -> None:
    client.force_login(staff_editor)
    client.post("/console/policies/new/", {**FORM, **PENDING_ROWS})
    version = PolicyVersion.objects.get(title=FORM["title"])

    response = client.post(f"/console/versions/{version.pk}/", {**FORM, **PENDING_ROWS, "action": "submit"})

    html = response.content.decode()
    assert "第3个条件：企业承诺：近三年无重大安全生产事故" in html
    assert "undecidable_condition" not in html  # the code is the API's, never the page's
    version.refresh_from_db()
    assert version.status == PolicyVersion.Status.DRAFT
