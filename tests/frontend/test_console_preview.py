"""The preview page: started by POST, polled while it runs, then counts, the worst condition, a chart, a sample."""

from __future__ import annotations

import re

import pytest

from policies.models import PolicyVersion, PreviewRun
from tests.enterprises.factories import EnterpriseFactory
from tests.frontend.support import software_enterprise
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}


@pytest.fixture
def version():
    return PolicyVersionFactory(
        rule=RULE, mode="exempt", status=PolicyVersion.Status.IN_REVIEW, title="软件奖励（示例）"
    )


def test_start_a_preview_and_see_the_result(
    client, staff_reviewer, version, celery_eager, django_capture_on_commit_callbacks
) -> None:
    software_enterprise(name="苏州软件一号示例有限公司")
    for _ in range(3):
        EnterpriseFactory()
    client.force_login(staff_reviewer)
    assert "开始试算" in client.get(f"/console/versions/{version.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/versions/{version.pk}/preview/")

    run = PreviewRun.objects.get(version=version)
    assert response.status_code == 302 and response.url == f"/console/previews/{run.pk}/"
    html = client.get(response.url).content.decode()
    assert 'id="preview-eligible">1<' in html and 'id="preview-ineligible">3<' in html
    assert 'id="preview-verified">1<' in html
    # The industry condition excludes all three; it is named, highlighted in the chart and its table.
    worst = re.search(r'id="preview-worst">(.*?)</p>', html, re.S).group(1)
    assert "软件和信息技术服务业" in worst and "3 家因此不符合" in worst
    assert 'class="chart-row chart-highlight"' in html and 'class="row-highlight"' in html
    assert 'class="chart-bars" role="img"' in html and "<svg" in html and "查看数据表" in html
    assert "苏州软件一号示例有限公司" in html  # the sample table
    assert "hx-trigger" not in html.split('id="preview-run"')[1].split(">")[0]  # done: polling stops
    # The version page now offers to run it again and loads the last run.
    page = client.get(f"/console/versions/{version.pk}/").content.decode()
    assert "重新试算" in page and f"/console/previews/{run.pk}/" in page


def test_htmx_start_returns_the_polling_box(client, staff_reviewer, version) -> None:
    client.force_login(staff_reviewer)

    # No worker and no eager mode: the run stays queued and the page does not wait for it.
    html = client.post(f"/console/versions/{version.pk}/preview/", HTTP_HX_REQUEST="true").content.decode()

    run = PreviewRun.objects.get(version=version)
    assert run.status == PreviewRun.Status.QUEUED
    assert f'hx-get="/console/previews/{run.pk}/"' in html and 'hx-trigger="every 1s"' in html
    assert "<html" not in html


def test_progress_while_running(client, staff_auditor, version) -> None:
    run = PreviewRun.objects.create(
        version=version, requested_by=staff_auditor, on=version.effective_from, status="running", total=10, processed=3
    )
    client.force_login(staff_auditor)

    html = client.get(f"/console/previews/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert '已试算 <span id="preview-processed">3</span> / 10' in html
    assert re.search(r'<progress id="preview-progress-\d+" max="100" value="30">', html)
    assert f'<label for="preview-progress-{run.pk}"' in html


def test_a_failed_run_says_why(client, staff_auditor, version) -> None:
    run = PreviewRun.objects.create(
        version=version, requested_by=staff_auditor, on=version.effective_from, status="failed", error="超时"
    )
    client.force_login(staff_auditor)

    assert "试算失败：超时" in client.get(f"/console/previews/{run.pk}/").content.decode()


def test_enterprise_users_and_anonymous_are_refused(client, alice, staff_auditor, version) -> None:
    run = PreviewRun.objects.create(version=version, requested_by=staff_auditor, on=version.effective_from)
    assert client.get(f"/console/previews/{run.pk}/").status_code == 302
    client.force_login(alice)
    assert client.get(f"/console/previews/{run.pk}/").status_code == 403
    assert client.post(f"/console/versions/{version.pk}/preview/").status_code == 403
    assert PreviewRun.objects.count() == 1


def test_unknown_run_is_404(client, staff_auditor) -> None:
    client.force_login(staff_auditor)
    assert client.get("/console/previews/999999/").status_code == 404


def test_authoring_checks_beside_the_preview(
    client, staff_reviewer, celery_eager, django_capture_on_commit_callbacks
) -> None:
    contradictory = PolicyVersionFactory(
        status=PolicyVersion.Status.DRAFT,
        rule={
            "all": [
                {"fact": "industry", "op": "under", "value": ["65"]},
                {"fact": "employees", "op": "gte", "value": 500},
                {"fact": "employees", "op": "lte", "value": 100},
            ]
        },
    )
    software_enterprise(name="苏州软件二号示例有限公司")
    client.force_login(staff_reviewer)

    # The rule's contradiction is shown before any preview runs (it needs no data).
    page = client.get(f"/console/versions/{contradictory.pk}/").content.decode()
    alert = re.search(r'id="rule-contradictions".*?</div>', page, re.S).group(0)
    assert "不可能同时满足" in alert and "500" in alert and "100" in alert and "不影响提交审核" in alert

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/versions/{contradictory.pk}/preview/")
    html = client.get(response.url).content.decode()
    assert "编写检查" in html and 'id="checks-contradictions"' in html
    assert 'id="checks-clean"' not in html

    # A rule without problems says so: each condition excludes someone (software without the certificate,
    # a certified manufacturer).
    EnterpriseFactory(industry_code="6513")
    software_enterprise(industry_code="3311")
    clean = PolicyVersionFactory(status=PolicyVersion.Status.DRAFT, rule=RULE)
    assert 'id="rule-contradictions"' not in client.get(f"/console/versions/{clean.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/versions/{clean.pk}/preview/")
    assert 'id="checks-clean"' in client.get(response.url).content.decode()
