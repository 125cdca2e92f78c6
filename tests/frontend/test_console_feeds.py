"""Department data uploads in the console: data officers upload, staff watch progress and read the report."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.enterprises.models import FeedImport
from tests.enterprises.factories import EnterpriseFactory
from tests.enterprises.test_feed_import import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def post_file(client, rows, name="统计局年报.csv"):
    return client.post(
        "/console/feeds/",
        {"source": "statistics", "as_of": "", "file": SimpleUploadedFile(name, csv_bytes(rows))},
    )


def test_data_officer_uploads_and_reads_the_report(
    client, staff_data_officer, celery_eager, django_capture_on_commit_callbacks
) -> None:
    good, bad = EnterpriseFactory(), EnterpriseFactory()
    client.force_login(staff_data_officer)
    assert "上传并导入" in client.get("/console/feeds/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(
            client, [["统一社会信用代码", "从业人员"], [good.credit_code, "320"], [bad.credit_code, "很多"]]
        )

    fi = FeedImport.objects.get()
    assert response.status_code == 302 and response.url == f"/console/feeds/{fi.pk}/"
    html = client.get(response.url).content.decode()
    assert 'id="feed-changed">1<' in html and 'id="feed-rejected">1<' in html and 'id="feed-unchanged">0<' in html
    report = html[html.index('id="feed-report"') :]
    assert "<td>3</td>" in report and bad.credit_code in report and "从业人员" in report and "应为整数" in report
    assert good.credit_code not in report
    assert 'value="100"' in html and "hx-trigger" not in html.split('id="feed-status"')[1].split(">")[0]
    bad.refresh_from_db()
    assert bad.employees == 150

    download = client.get(f"/console/feeds/{fi.pk}/errors.csv")
    assert download["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "统一社会信用代码", "字段", "字段名称", "错误代码", "说明"]
    assert lines[1:] == [["3", bad.credit_code, "employees", "从业人员", "invalid_integer", "应为整数"]]


@pytest.mark.django_db(transaction=True)
def test_an_upload_already_imported_says_so_with_its_counts(client, staff_data_officer, celery_eager) -> None:
    # Tasks inline (make run without Redis): the upload commits, the import runs at once, before the redirect.
    good, bad = EnterpriseFactory(), EnterpriseFactory()
    client.force_login(staff_data_officer)

    response = post_file(
        client, [["统一社会信用代码", "从业人员"], [good.credit_code, "320"], [bad.credit_code, "很多"]]
    )

    assert FeedImport.objects.get().status == FeedImport.Status.DONE
    html = client.get(response.url).content.decode()
    assert "文件已上传并导入完成：接受 1 条，拒绝 1 条。" in html and "正在后台导入" not in html


def test_a_queued_upload_says_it_is_being_imported(client, staff_data_officer) -> None:
    # No worker and no eager mode: the upload stays queued.
    client.force_login(staff_data_officer)

    response = post_file(client, [["统一社会信用代码", "从业人员"], [EnterpriseFactory().credit_code, "320"]])

    assert FeedImport.objects.get().status == FeedImport.Status.QUEUED
    html = client.get(response.url).content.decode()
    assert "文件已上传，正在后台导入。" in html and "导入完成" not in html


def test_progress_while_running_is_polled(client, staff_auditor) -> None:
    fi = FeedImport.objects.create(
        source="statistics", channel="console", status="running", total=200, processed=50, filename="a.csv"
    )
    client.force_login(staff_auditor)

    html = client.get(f"/console/feeds/{fi.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert f'hx-get="/console/feeds/{fi.pk}/"' in html and 'hx-trigger="every 1s"' in html
    assert f'<progress id="feed-progress-{fi.pk}" max="100" value="25">' in html
    assert f'<label for="feed-progress-{fi.pk}"' in html
    assert '已处理 <span id="feed-processed">50</span> / 200 条记录' in html
    assert "<html" not in html


def test_a_bad_file_type_is_shown_on_the_field(client, staff_data_officer) -> None:
    client.force_login(staff_data_officer)

    response = client.post("/console/feeds/", {"source": "statistics", "file": SimpleUploadedFile("a.pdf", b"%PDF")})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["只支持CSV或XLSX文件"]
    assert not FeedImport.objects.exists()


def test_other_staff_view_but_do_not_upload(client, staff_auditor) -> None:
    fi = FeedImport.objects.create(source="tax", channel="api", total=3, accepted=3)
    client.force_login(staff_auditor)

    html = client.get("/console/feeds/").content.decode()
    assert "只有数据专员可以上传" in html and 'type="file"' not in html
    assert client.get(f"/console/feeds/{fi.pk}/").status_code == 200
    assert post_file(client, [["credit_code", "employees"]]).status_code == 403
    assert FeedImport.objects.count() == 1


def test_enterprise_users_and_anonymous_are_refused(client, alice) -> None:
    fi = FeedImport.objects.create(
        source="tax",
        channel="console",
        report=[{"row": 2, "credit_code": "x", "field": "", "code": "c", "message": "m"}],
    )
    for url in ("/console/feeds/", f"/console/feeds/{fi.pk}/", f"/console/feeds/{fi.pk}/errors.csv"):
        assert client.get(url).status_code == 302, url
    client.force_login(alice)
    for url in ("/console/feeds/", f"/console/feeds/{fi.pk}/", f"/console/feeds/{fi.pk}/errors.csv"):
        assert client.get(url).status_code == 403, url
    assert post_file(client, [["credit_code", "employees"]]).status_code == 403
    assert FeedImport.objects.count() == 1


def test_list_query_count(client, staff_auditor, django_assert_max_num_queries) -> None:
    for n in range(5):
        FeedImport.objects.create(source="tax", channel="console", filename=f"{n}.csv")
    client.force_login(staff_auditor)

    with django_assert_max_num_queries(6):
        assert client.get("/console/feeds/").status_code == 200
