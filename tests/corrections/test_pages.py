"""数据纠错 pages: 此数据有误 beside each fact, the form (the fact's own input and messages), the department's
queue and decisions, the dashboard's overdue list; strangers get 404 on every page, file and action."""

from __future__ import annotations

import pytest

from portal.corrections import services
from portal.corrections.models import CorrectionEvidence, CorrectionRequest, CorrectionTransition
from portal.enterprises.models import Enterprise
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory
from tests.frontend.test_accessibility import assert_accessible

from .support import PDF_BYTES, pdf

pytestmark = pytest.mark.django_db


def _page(enterprise, rest: str = "") -> str:
    return f"/enterprises/{enterprise.credit_code}/corrections/{rest}"


@pytest.fixture
def correction(alice, stats_officer) -> CorrectionRequest:
    return services.correction_submit(
        enterprise=alice.enterprise, by=alice, fact="employees", value="180", files=[pdf()]
    )


def test_profile_puts_the_links_beside_each_correctable_fact(client, alice) -> None:
    client.force_login(alice)
    html = client.get(f"/enterprises/{alice.enterprise.credit_code}/profile/").content.decode()
    assert f'href="/enterprises/{alice.enterprise.credit_code}/corrections/new/?fact=employees"' in html
    assert 'aria-label="从业人员（人）：此数据有误"' in html
    assert "申请核验</a>" not in html.split("facts-heading")[1].split("quals-heading")[0]  # all verified here


def test_self_declared_facts_offer_verification(client, db) -> None:
    enterprise = EnterpriseFactory(facts_source="self_declared")
    user = EnterpriseUserFactory(enterprise=enterprise)
    client.force_login(user)
    html = client.get(f"/enterprises/{enterprise.credit_code}/profile/").content.decode()
    assert 'aria-label="从业人员（人）：申请核验"' in html


def test_the_form_uses_the_fact_s_reading_and_names_the_field(client, alice, stats_officer) -> None:
    client.force_login(alice)
    url = _page(alice.enterprise, "new/?fact=employees")
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "此数据有误：从业人员" in text and "统计局" in text and "150人" in text
    assert_accessible(text)
    bad = client.post(url, {"value": "一百八十", "evidence": [pdf()]})
    assert bad.status_code == 200
    assert "从业人员：应为整数" in bad.content.decode()
    missing = client.post(url, {"value": "180"})
    assert "请上传证明材料" in missing.content.decode()
    assert CorrectionRequest.objects.count() == 0
    sent = client.post(url, {"value": "1,80", "statement": "年报", "evidence": [pdf()]})
    assert sent.status_code == 200 and CorrectionRequest.objects.count() == 0  # "1,80": a badly placed comma
    sent = client.post(url, {"value": "180", "statement": "年报", "evidence": [pdf()]})
    correction = CorrectionRequest.objects.get()
    assert sent.status_code == 302 and sent["Location"] == _page(alice.enterprise, f"{correction.pk}/")
    detail = client.get(sent["Location"]).content.decode()
    assert_accessible(detail)
    assert_accessible(client.get(_page(alice.enterprise)).content.decode())
    assert "待办理" in detail and "180人" in detail and "统计年报.pdf" in detail
    assert client.get(_page(alice.enterprise)).status_code == 200
    again = client.get(url).content.decode()
    assert "正在办理" in again  # one open request per fact


def test_an_unknown_fact_is_404(client, alice) -> None:
    client.force_login(alice)
    assert client.get(_page(alice.enterprise, "new/?fact=size")).status_code == 404
    assert client.get(_page(alice.enterprise, "new/")).status_code == 404


def test_the_department_decides_in_the_console_and_the_dashboard_lists_overdue(
    client, alice, stats_officer, correction
) -> None:
    client.force_login(stats_officer)
    queue = client.get("/console/corrections/").content.decode()
    assert alice.enterprise.name in queue and "从业人员" in queue
    detail = client.get(f"/console/corrections/{correction.pk}/")
    assert detail.status_code == 200 and "采纳" in detail.content.decode()
    assert_accessible(queue)
    assert_accessible(detail.content.decode())
    evidence = correction.evidence.get()
    download = client.get(f"/console/corrections/{correction.pk}/evidence/{evidence.pk}/")
    assert b"".join(download.streaming_content) == PDF_BYTES
    CorrectionRequest.objects.filter(pk=correction.pk).update(due_on="2020-01-06")
    dashboard = client.get("/console/dashboard/").content.decode()
    assert 'id="overdue-count">1<' in dashboard and alice.enterprise.name in dashboard
    assert client.get("/console/corrections/?status=overdue").content.decode().count("已逾期") >= 1
    client.post(f"/console/corrections/{correction.pk}/reject/", {"text": ""})
    assert CorrectionRequest.objects.get().status == "submitted"  # a reason is required
    client.post(f"/console/corrections/{correction.pk}/accept/", {"text": "已核对年报"})
    assert CorrectionRequest.objects.get().status == "accepted"
    assert Enterprise.objects.get(pk=alice.enterprise_id).employees == 180
    assert 'id="overdue-count">0<' in client.get("/console/dashboard/").content.decode()


def _state() -> tuple:
    return (
        list(CorrectionRequest.objects.order_by("id").values()),
        list(CorrectionTransition.objects.order_by("id").values()),
        list(CorrectionEvidence.objects.order_by("id").values()),
        list(Enterprise.objects.order_by("id").values()),
        Notification.objects.count(),
    )


def test_strangers_get_404_on_every_page_file_and_action(
    client, alice, charlie, tax_officer, staff_reviewer, staff_data_officer, correction
) -> None:
    evidence = correction.evidence.get()
    before = _state()
    enterprise_pages = [
        ("get", _page(alice.enterprise)),
        ("get", _page(alice.enterprise, "new/?fact=employees")),
        ("post", _page(alice.enterprise, "new/?fact=rd_staff")),
        ("get", _page(alice.enterprise, f"{correction.pk}/")),
        ("get", _page(alice.enterprise, f"{correction.pk}/evidence/{evidence.pk}/")),
    ]
    console_pages = [
        ("get", f"/console/corrections/{correction.pk}/"),
        ("get", f"/console/corrections/{correction.pk}/evidence/{evidence.pk}/"),
        ("post", f"/console/corrections/{correction.pk}/accept/"),
        ("post", f"/console/corrections/{correction.pk}/reject/"),
        ("post", f"/console/corrections/{correction.pk}/assign/"),
    ]
    data = {"value": "9", "text": "x", "assignee": str(tax_officer.pk), "evidence": [pdf()]}
    for user in (charlie, tax_officer, staff_reviewer, staff_data_officer):
        client.force_login(user)
        for method, url in enterprise_pages:
            answer = client.post(url, data) if method == "post" else client.get(url)
            assert answer.status_code == 404, (user, url)
    for user in (tax_officer, staff_reviewer, staff_data_officer):
        client.force_login(user)
        assert alice.enterprise.name not in client.get("/console/corrections/").content.decode()
        for method, url in console_pages:
            answer = client.post(url, data) if method == "post" else client.get(url)
            assert answer.status_code == 404, (user, url)
    client.force_login(charlie)
    for method, url in console_pages:
        answer = client.post(url, data) if method == "post" else client.get(url)
        assert answer.status_code == 403, url  # not staff at all
    assert _state() == before
