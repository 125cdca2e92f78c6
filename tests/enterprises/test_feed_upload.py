"""Console uploads: stored, claimed once, applied chunk by chunk through feed_apply, with a per-record report."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.api.exceptions import ApplicationError
from portal.enterprises import services
from portal.enterprises.models import EnterpriseChange, FeedImport
from portal.enterprises.tasks import feed_upload_task
from tests.enterprises.factories import EnterpriseFactory
from tests.enterprises.test_feed_import import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def upload(user, rows, name="统计局.csv", source="statistics") -> FeedImport:
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows)
    return services.feed_upload_create(by=user, source=source, file=SimpleUploadedFile(name, data))


def rows_for(enterprises, bad_row_at: int | None = None) -> list[list[str]]:
    rows = [["统一社会信用代码", "数据日期", "从业人员"]]
    for n, enterprise in enumerate(enterprises):
        rows.append([enterprise.credit_code, "2026-01-31", "-5" if n == bad_row_at else str(300 + n)])
    return rows


def test_upload_is_stored_and_queued_then_the_task_applies_it(staff_data_officer) -> None:
    a, b, c = EnterpriseFactory(), EnterpriseFactory(), EnterpriseFactory()

    fi = upload(staff_data_officer, rows_for([a, b, c], bad_row_at=1))

    assert (fi.status, fi.channel, fi.submitted_by) == ("queued", "console", staff_data_officer)
    assert fi.file.name.startswith("feeds/") and fi.file.read().startswith("\ufeff统一社会信用代码".encode())
    feed_upload_task(fi.pk)
    fi.refresh_from_db()
    assert (fi.status, fi.total, fi.processed, fi.accepted, fi.changed, fi.rejected) == ("done", 3, 3, 2, 2, 1)
    assert fi.report == [
        {
            "row": 3,
            "credit_code": b.credit_code,
            "field": "employees",
            "field_label": "从业人员",
            "code": "min_value",
            "message": "不能小于0",
        }
    ]
    b.refresh_from_db()
    a.refresh_from_db()
    assert b.employees == 150 and a.employees == 300  # the rejected record changed nothing
    assert not EnterpriseChange.objects.filter(enterprise=b).exists()
    assert EnterpriseChange.objects.filter(enterprise=a, feed_import=fi).exists()  # history names this upload


def test_chunks_update_progress_and_the_report_numbers_file_rows(staff_data_officer, monkeypatch) -> None:
    enterprises = [EnterpriseFactory() for _ in range(5)]
    rows = rows_for(enterprises, bad_row_at=3)
    rows.insert(3, ["", "", ""])  # a blank line in the file: skipped, but the row numbers still count it
    fi = upload(staff_data_officer, rows)
    seen = []
    real = services._count_chunk

    def spy(row, result, part, start):
        real(row, result, part, start)
        seen.append(FeedImport.objects.get(pk=row.pk).processed)

    monkeypatch.setattr(services, "_count_chunk", spy)

    services.feed_upload_process(feed_import=services.feed_upload_claim(import_id=fi.pk), chunk=2)

    fi.refresh_from_db()
    assert seen == [2, 4, 5]
    assert (fi.status, fi.accepted, fi.rejected) == ("done", 4, 1)
    assert [line["row"] for line in fi.report] == [6]  # header 1, records 2-3, blank 4, records 5-7


def test_the_task_twice_applies_once(staff_data_officer) -> None:
    a = EnterpriseFactory()
    fi = upload(staff_data_officer, rows_for([a]))

    feed_upload_task(fi.pk)
    first = FeedImport.objects.get(pk=fi.pk)
    feed_upload_task(fi.pk)  # redelivered
    second = FeedImport.objects.get(pk=fi.pk)

    assert (second.accepted, second.changed, second.finished_at) == (first.accepted, first.changed, first.finished_at)
    assert EnterpriseChange.objects.filter(enterprise=a).count() == 1


def test_a_resumed_upload_continues_after_the_last_committed_chunk(staff_data_officer) -> None:
    enterprises = [EnterpriseFactory() for _ in range(4)]
    fi = upload(staff_data_officer, rows_for(enterprises))
    FeedImport.objects.filter(pk=fi.pk).update(processed=2, accepted=2, changed=2)  # as if a worker died after 2

    services.feed_upload_process(feed_import=services.feed_upload_claim(import_id=fi.pk), chunk=2)

    fi.refresh_from_db()
    assert (fi.processed, fi.accepted) == (4, 4)
    employees = sorted(e.employees for e in enterprises[:2])
    for enterprise in enterprises:
        enterprise.refresh_from_db()
    assert sorted(e.employees for e in enterprises[:2]) == employees  # not re-applied
    assert [e.employees for e in enterprises[2:]] == [302, 303]


def test_xlsx_upload(staff_data_officer) -> None:
    a = EnterpriseFactory()
    fi = upload(staff_data_officer, [["credit_code", "employees"], [a.credit_code, 410]], name="年报.xlsx")

    feed_upload_task(fi.pk)

    a.refresh_from_db()
    assert a.employees == 410 and FeedImport.objects.get(pk=fi.pk).status == "done"


def _zip(parts: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_unreadable_workbook_fails_with_a_reason(staff_data_officer) -> None:
    # A zip with the OOXML parts passes the content check; a broken workbook inside fails in the worker.
    broken = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"not xml"})
    fi = services.feed_upload_create(
        by=staff_data_officer, source="statistics", file=SimpleUploadedFile("坏.xlsx", broken)
    )

    feed_upload_task(fi.pk)

    fi.refresh_from_db()
    assert (fi.status, fi.error) == ("failed", "无法读取XLSX文件")


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("统计局.csv", PDF, "PDF文档"),  # a PDF renamed .csv: only text, GB18030 would decode it
        ("统计局.csv", b"credit_code,employees\n\x00\x01\x02,3\n", "二进制内容"),
        ("统计局.csv", _zip({"word/document.xml": b"x"}), "压缩包"),
        ("统计局.xlsx", PDF, "PDF文档"),
        ("统计局.xlsx", b"not a workbook", "不是XLSX工作簿"),
        ("统计局.xlsx", _zip({"word/document.xml": b"x", "[Content_Types].xml": b"x"}), "不是XLSX工作簿"),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_by_content_is_refused_and_nothing_is_written(
    staff_data_officer, settings, name, data, words
) -> None:
    from pathlib import Path

    with pytest.raises(ApplicationError) as error:
        services.feed_upload_create(by=staff_data_officer, source="statistics", file=SimpleUploadedFile(name, data))

    assert (error.value.code, error.value.field) == ("invalid_file_content", "file")
    assert f"文件“{name}”" in error.value.message and words in error.value.message
    assert not FeedImport.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]  # no stored file either


def test_a_gb18030_csv_is_accepted(staff_data_officer) -> None:
    a = EnterpriseFactory()
    data = f"统一社会信用代码,从业人员\n{a.credit_code},77\n".encode("gb18030")

    fi = services.feed_upload_create(
        by=staff_data_officer, source="statistics", file=SimpleUploadedFile("统计局.csv", data)
    )
    feed_upload_task(fi.pk)

    a.refresh_from_db()
    assert a.employees == 77


@pytest.mark.parametrize(
    ("name", "source", "code"),
    [("a.txt", "statistics", "invalid_file_type"), ("a.csv", "self_declared", "invalid_source")],
)
def test_bad_uploads_are_refused_before_storing(staff_data_officer, name, source, code) -> None:
    with pytest.raises(ApplicationError) as error:
        services.feed_upload_create(by=staff_data_officer, source=source, file=SimpleUploadedFile(name, b"x"))
    assert error.value.code == code
    assert not FeedImport.objects.exists()


def test_only_data_officers_upload(staff_editor, alice) -> None:
    for user in (staff_editor, alice):
        with pytest.raises(ApplicationError) as error:
            upload(user, [["credit_code", "employees"]])
        assert error.value.code == "data_officer_required"
    assert not FeedImport.objects.exists()


def test_sweep_sends_again_uploads_whose_task_was_lost(staff_data_officer, celery_eager) -> None:
    from datetime import timedelta

    from django.utils import timezone

    a = EnterpriseFactory()
    # Created outside a committed transaction's on_commit, so no task went out: as if the broker were down.
    lost, fresh = upload(staff_data_officer, rows_for([a])), upload(staff_data_officer, rows_for([a]))
    FeedImport.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(hours=1))

    assert services.feed_uploads_sweep() == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.status, lost.accepted) == ("done", 1)
    assert fresh.status == "queued"
    assert services.feed_uploads_sweep() == 0


def test_a_file_over_the_size_limit_is_refused_before_storing(staff_data_officer, settings) -> None:
    settings.FEED_UPLOAD_MAX_BYTES = 1024
    data = ("统一社会信用代码,从业人员\n" + "913205050000000000,1\n" * 200).encode()
    with pytest.raises(ApplicationError) as error:
        services.feed_upload_create(by=staff_data_officer, source="statistics", file=SimpleUploadedFile("大.csv", data))
    assert error.value.code == "invalid_file_content" and "过大" in error.value.message
    assert not FeedImport.objects.exists()


def test_an_xlsx_that_inflates_past_the_limit_is_refused(staff_data_officer, settings) -> None:
    # 2 MB of sheet XML that compresses to a few kilobytes: the declared inflated size decides.
    settings.FEED_UPLOAD_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    import zipfile

    rows = b"<row><c><v>1</v></c></row>" * 80_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>")
    bomb = buffer.getvalue()
    assert len(bomb) < 100_000
    with pytest.raises(ApplicationError) as error:
        services.feed_upload_create(
            by=staff_data_officer, source="statistics", file=SimpleUploadedFile("炸弹.xlsx", bomb)
        )
    assert "解压后过大" in error.value.message
    assert not FeedImport.objects.exists()


def test_rows_past_the_limit_stop_the_read_with_a_reason(staff_data_officer, settings) -> None:
    settings.FEED_UPLOAD_MAX_ROWS = 5
    a = EnterpriseFactory()
    data = ("统一社会信用代码,从业人员\n" + f"{a.credit_code},7\n" * 6).encode()
    fi = services.feed_upload_create(
        by=staff_data_officer, source="statistics", file=SimpleUploadedFile("多.csv", data)
    )
    feed_upload_task(fi.pk)
    fi.refresh_from_db()
    assert fi.status == "failed" and "超过 5 行" in fi.error
    a.refresh_from_db()
    assert a.employees != 7  # nothing applied from a file that was refused


def test_xlsx_is_parsed_with_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_an_upload_is_read_as_a_stream_never_as_one_list_of_records(staff_data_officer, monkeypatch) -> None:
    from portal.enterprises import feed_files, feeds

    firms = EnterpriseFactory.create_batch(5)
    data = (
        "统一社会信用代码,从业人员\n" + "".join(f"{f.credit_code},{40 + i}\n" for i, f in enumerate(firms))
    ).encode()
    upload = SimpleUploadedFile("流式.csv", data)
    fi = services.feed_upload_create(by=staff_data_officer, source="statistics", file=upload)

    def whole_list(*args, **kwargs):
        raise AssertionError("the worker must not build the whole list of records")

    monkeypatch.setattr(feed_files, "read_numbered_records", whole_list)
    sizes: list[int] = []
    original = feeds.feed_apply

    def spy(**kwargs):
        sizes.append(len(kwargs["records"]))
        return original(**kwargs)

    monkeypatch.setattr(feeds, "feed_apply", spy)
    services.feed_upload_process(feed_import=services.feed_upload_claim(import_id=fi.pk), chunk=2)

    fi.refresh_from_db()
    assert (fi.status, fi.total, fi.processed, fi.accepted) == ("done", 5, 5, 5)
    assert sizes == [2, 2, 1]
    for i, firm in enumerate(firms):
        firm.refresh_from_db()
        assert firm.employees == 40 + i
