"""The feed pipeline changes no process-wide interpreter setting in a web process (the department API, a
console upload run inline); a worker task or a command applies its batch settings and restores them."""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from portal.accounts.services import api_key_create
from portal.enterprises import feeds, services
from portal.enterprises.models import EnterpriseChange, FeedImport
from portal.enterprises.tasks import feed_upload_task
from tests.enterprises.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, float]]:
    """(gc enabled?, switch interval) as each feed batch starts."""
    calls: list[tuple[bool, float]] = []
    original = feeds._feed_apply

    def spy(**kwargs: Any) -> Any:
        calls.append((gc.isenabled(), sys.getswitchinterval()))
        return original(**kwargs)

    monkeypatch.setattr(feeds, "_feed_apply", spy)
    return calls


def upload(by: Any, code: str) -> FeedImport:
    content = f"统一社会信用代码,从业人员\n{code},77\n".encode()
    return services.feed_upload_create(by=by, source="statistics", file=SimpleUploadedFile("s.csv", content))


def test_the_department_api_leaves_the_interpreter_settings_alone(seen) -> None:
    enterprise = EnterpriseFactory()
    interval = sys.getswitchinterval()
    key = api_key_create(name="统计局数据接口", source="statistics")[1]
    response = APIClient().post(
        "/api/v1/feeds/statistics/records/",
        {"records": [{"credit_code": enterprise.credit_code, "employees": 77}]},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 200
    assert seen == [(True, interval)]


def test_an_upload_run_inline_is_the_task_and_leaves_the_settings_alone(
    seen, celery_eager, staff_data_officer, django_capture_on_commit_callbacks
) -> None:
    enterprise = EnterpriseFactory()
    interval = sys.getswitchinterval()
    with django_capture_on_commit_callbacks(execute=True):
        feed_import = upload(staff_data_officer, enterprise.credit_code)
    feed_import.refresh_from_db()
    assert feed_import.status == FeedImport.Status.DONE and feed_import.accepted == 1
    assert seen == [(True, interval)]


def test_the_worker_task_applies_the_batch_settings_and_restores_them(seen, staff_data_officer) -> None:
    enterprise = EnterpriseFactory()
    interval = sys.getswitchinterval()
    feed_import = upload(staff_data_officer, enterprise.credit_code)

    feed_upload_task.run(feed_import.pk)  # as a worker calls it (not eager)

    assert seen == [(False, min(interval, 0.0005))]
    assert gc.isenabled() and sys.getswitchinterval() == interval
    enterprise.refresh_from_db()
    assert enterprise.employees == 77


def test_copy_rows_keep_backslashes_quotes_and_chinese_exactly() -> None:
    """psycopg's row writer escapes what the COPY text format needs (on PostgreSQL; the ORM path elsewhere)."""
    enterprise = EnterpriseFactory()
    name = '苏州\\高新"示例"\\N科技有限公司'
    result = feeds.feed_apply(
        source="market_regulation",
        records=[{"credit_code": enterprise.credit_code, "as_of": "2026-01-31", "name": name}],
        channel=FeedImport.Channel.COMMAND,
    )
    assert not result.rejected, result.rejected
    enterprise.refresh_from_db()
    assert enterprise.name == name
    assert enterprise.provenance["name"] == {"source": "market_regulation", "as_of": "2026-01-31"}
    change = EnterpriseChange.objects.get(enterprise=enterprise)
    assert {"field": "name", "old": change.changes[0]["old"], "new": name} in change.changes
