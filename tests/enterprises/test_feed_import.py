"""Department files (CSV, XLSX): the import_feed command and the admin upload page use the feed rules."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from portal.enterprises.models import EnterpriseChange, FeedImport
from tests.enterprises.factories import EnterpriseFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(r) for r in rows).encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def two() -> tuple:
    return EnterpriseFactory(), EnterpriseFactory()


def test_command_imports_a_csv_with_chinese_headers(tmp_path, two) -> None:
    a, b = two
    path = tmp_path / "统计局2025年报.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["统一社会信用代码", "数据日期", "从业人员", "营业收入"],
                [a.credit_code, "2026-01-31", "320", "45000"],
                [b.credit_code, "2026-01-31", "-1", "100"],
            ]
        )
    )
    out = io.StringIO()
    call_command("import_feed", "--source", "statistics", str(path), stdout=out)
    assert "2 records: 1 accepted (1 changed, 0 created), 1 rejected" in out.getvalue()
    assert "row 3" in out.getvalue() and "min_value" in out.getvalue()
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.employees, a.size) == (320, "medium")
    assert b.employees == 150
    fi = FeedImport.objects.get()
    assert (fi.channel, fi.filename, fi.accepted, fi.rejected) == ("command", path.name, 1, 1)


def test_command_reads_gb18030_csv_and_xlsx(tmp_path, two) -> None:
    a, b = two
    csv_path = tmp_path / "tax.csv"
    csv_path.write_bytes(csv_bytes([["信用代码", "纳税信用等级"], [a.credit_code, "B"]], encoding="gb18030"))
    call_command("import_feed", "--source", "tax", str(csv_path), stdout=io.StringIO())
    xlsx_path = tmp_path / "tax.xlsx"
    xlsx_path.write_bytes(
        xlsx_bytes([["credit_code", "as_of", "tax_credit_rating"], [b.credit_code, date(2026, 4, 30), "M"]])
    )
    call_command("import_feed", "--source", "tax", str(xlsx_path), stdout=io.StringIO())
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.tax_credit_rating, b.tax_credit_rating) == ("B", "M")
    assert b.provenance["tax_credit_rating"] == {"source": "tax", "as_of": "2026-04-30"}


def test_command_refuses_other_file_types(tmp_path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("x")
    with pytest.raises(CommandError):
        call_command("import_feed", "--source", "tax", str(path))


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path, two) -> None:
    a, _ = two
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([["credit_code", "as_of", "employees"], [a.credit_code, "2026-01-31", "20"]]))
    call_command("import_feed", "--source", "statistics", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_feed", "--source", "statistics", str(path), stdout=out)
    assert "0 changed" in out.getvalue()
    assert EnterpriseChange.objects.count() == 1


def test_admin_upload_page(client, two, celery_eager, django_capture_on_commit_callbacks) -> None:
    """The admin's upload is for administrators (data officers upload in the console, /console/feeds/).
    Like the console's, it is imported by the worker task (inline here), and the page then shows the result."""
    a, b = two
    administrator = StaffUserFactory(username="administrator", is_superuser=True, is_staff=True)
    client.force_login(administrator)
    page = client.get("/admin/enterprises/feedimport/upload/")
    assert page.status_code == 200 and "上传部门数据" in page.content.decode()
    upload = SimpleUploadedFile(
        "stats.xlsx",
        xlsx_bytes([["统一社会信用代码", "从业人员"], [a.credit_code, 35], [b.credit_code, "很多"]]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            "/admin/enterprises/feedimport/upload/", {"source": "statistics", "file": upload, "as_of": "2026-01-31"}
        )
    assert posted.status_code == 302
    response = client.get(posted.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "接受 1 条" in html and "拒绝 1 条" in html
    assert "invalid_integer" in html
    a.refresh_from_db()
    assert a.employees == 35 and a.provenance["employees"]["as_of"] == "2026-01-31"
    assert FeedImport.objects.get().submitted_by == administrator
    assert EnterpriseChange.objects.get(enterprise=a).changed_by == administrator


def test_admin_upload_needs_the_data_officer_role(client, staff_editor) -> None:
    staff_editor.is_staff = True
    staff_editor.save()
    client.force_login(staff_editor)
    # The admin is for administrators only: another role is sent to the admin's sign-in page.
    response = client.get("/admin/enterprises/feedimport/upload/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_bench_command_runs_and_cleans_up() -> None:
    out = io.StringIO()
    call_command("bench_feed", "--records", "30", stdout=out)
    import json

    result = json.loads(out.getvalue())
    assert result["records"] == 30
    assert result["first_pass"]["changed"] == 30
    assert result["second_pass_same_batch"]["changed"] == 0
    from portal.enterprises.models import Enterprise

    assert not Enterprise.objects.filter(name__startswith="BENCH").exists()
