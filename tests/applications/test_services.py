"""application_submit and its refusals: every refusal has a code and a field, and nothing is half-written."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from policies.models import Mode, PolicyVersion
from portal.api.exceptions import ApplicationError
from portal.applications import services
from portal.applications.models import Application, ApplicationAttachment, ApplicationTransition
from portal.applications.requirements import is_valid_phone
from portal.notifications.models import Notification

from .conftest import stored_files
from .support import PDF_BYTES, apply_policy, decide, docx, full_files, pdf, png, xlsx

pytestmark = pytest.mark.django_db


def submit(user, version, **overrides):
    kwargs = {
        "enterprise": user.enterprise,
        "version": version,
        "by": user,
        "contact_name": "张敏",
        "contact_phone": "13912345678",
        "statement": "申请研发项目补助（示例）",
        "files": full_files(),
    }
    kwargs.update(overrides)
    return services.application_submit(**kwargs)


def assert_nothing_written(media_root) -> None:
    assert Application.objects.count() == 0
    assert ApplicationAttachment.objects.count() == 0
    assert ApplicationTransition.objects.count() == 0
    assert not Notification.objects.filter(kind="application_update").exists()
    assert stored_files(media_root) == []


def refusal(user, version, **overrides) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        submit(user, version, **overrides)
    return caught.value


def field_errors(user, version, **overrides) -> dict[str, list[str]]:
    """{field: [codes]} of the ValidationError the submission raised."""
    with pytest.raises(ValidationError) as caught:
        submit(user, version, **overrides)
    return {name: [e.code for e in errors] for name, errors in caught.value.error_dict.items()}


def test_a_complete_submission_is_stored_with_its_files_timeline_and_notice(alice, version, media_root) -> None:
    application = submit(alice, version, files={1: [pdf("项目申报书（盖章）.pdf")], 2: [xlsx(), docx("附表.docx")]})

    assert application.status == "submitted"
    assert (application.contact_name, application.contact_phone) == ("张敏", "13912345678")
    rows = list(application.attachments.order_by("id"))
    assert [(a.material, a.original_name, a.content_type) for a in rows] == [
        ("项目申报书", "项目申报书（盖章）.pdf", "application/pdf"),
        ("近一年财务报表", "财务报表.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("近一年财务报表", "附表.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ]
    assert rows[0].size == len(PDF_BYTES)
    # Stored under MEDIA_ROOT with a random name: nothing of the uploaded name, 256 random bits.
    for row in rows:
        assert re.fullmatch(r"applications/[0-9a-f]{2}/[0-9a-f]{64}\.(pdf|xlsx|docx)", row.file.name), row.file.name
    assert len(stored_files(media_root)) == 3
    assert (media_root / rows[0].file.name).read_bytes() == PDF_BYTES
    steps = list(application.transitions.values_list("from_status", "to_status", "by"))
    assert steps == [("", "submitted", alice.pk)]
    notices = Notification.objects.filter(enterprise=alice.enterprise, kind="application_update")
    assert [(n.title, n.link) for n in notices] == [
        ("申报进度：已提交", f"/enterprises/{alice.enterprise.credit_code}/applications/{application.pk}/")
    ]


def test_only_the_enterprises_own_users_may_submit(alice, charlie, staff_reviewer, version, media_root) -> None:
    for user in (charlie, staff_reviewer):
        with pytest.raises(ApplicationError) as caught:
            submit(alice, version, by=user)
        assert (caught.value.code, caught.value.http_status) == ("not_enterprise_user", 403)
    assert_nothing_written(media_root)


def test_an_exempt_policy_takes_no_application(alice, media_root) -> None:
    exempt = apply_policy(mode=Mode.EXEMPT)
    decide(alice.enterprise, exempt)

    error = refusal(alice, exempt)

    assert (error.code, error.field) == ("not_apply_mode", "policy_version")
    assert_nothing_written(media_root)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": PolicyVersion.Status.DRAFT, "published_at": None},
        {"status": PolicyVersion.Status.RETIRED},
        {"effective_from": dt.date(2020, 1, 1), "effective_to": dt.date(2021, 1, 1)},
    ],
)
def test_a_policy_not_published_or_not_in_effect_is_refused(alice, media_root, fields) -> None:
    version = apply_policy(**fields)
    decide(alice.enterprise, version)

    error = refusal(alice, version)

    assert (error.code, error.field) == ("policy_not_in_effect", "policy_version")
    assert_nothing_written(media_root)


def test_outside_the_window_the_message_names_the_dates(alice, media_root) -> None:
    today = timezone.localdate()
    early = apply_policy(application_start=today + dt.timedelta(days=5), application_end=today + dt.timedelta(days=40))
    late = apply_policy(application_start=today - dt.timedelta(days=40), application_end=today - dt.timedelta(days=1))
    for version in (early, late):
        decide(alice.enterprise, version)

    not_yet = refusal(alice, early)
    closed = refusal(alice, late)

    start, end = early.application_start, early.application_end
    assert (not_yet.code, not_yet.field) == ("outside_window", "policy_version")
    assert not_yet.message == (
        f"申报尚未开始：本政策申报时间为{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日。"
    )
    assert closed.code == "outside_window" and closed.message.startswith("申报已截止")
    last = late.application_end
    assert f"{last.year}年{last.month}月{last.day}日" in closed.message
    assert_nothing_written(media_root)


def test_the_last_day_of_the_window_is_still_open(alice) -> None:
    version = apply_policy(application_end=timezone.localdate())
    decide(alice.enterprise, version)

    assert submit(alice, version).status == "submitted"


def test_an_ineligible_enterprise_is_refused_and_no_record_means_ineligible(alice, media_root) -> None:
    decided = apply_policy()
    decide(alice.enterprise, decided, outcome="ineligible")
    undecided = apply_policy()

    for version in (decided, undecided):
        error = refusal(alice, version)
        assert (error.code, error.field) == ("ineligible", "policy_version")
    assert_nothing_written(media_root)


def test_needs_info_may_still_apply_the_materials_show_the_rest(alice) -> None:
    version = apply_policy()
    decide(alice.enterprise, version, outcome="needs_info")

    assert submit(alice, version).status == "submitted"


def test_a_second_live_application_is_a_duplicate(alice, bob, version, media_root) -> None:
    first = submit(alice, version)
    files_before = stored_files(media_root)

    error = refusal(bob, version)

    assert (error.code, error.field, error.http_status) == ("duplicate_application", "policy_version", 409)
    assert error.extra == {"application_id": first.pk}
    assert Application.objects.count() == 1 and ApplicationAttachment.objects.count() == 2
    assert stored_files(media_root) == files_before


def test_contact_fields_are_required_and_the_phone_checked(alice, version, media_root) -> None:
    assert field_errors(alice, version, contact_name=" ", contact_phone="") == {
        "contact_name": ["required"],
        "contact_phone": ["required"],
    }
    assert field_errors(alice, version, contact_phone="12345") == {"contact_phone": ["invalid_phone"]}
    assert field_errors(alice, version, statement="长" * 5001) == {"statement": ["max_length"]}
    assert_nothing_written(media_root)


@pytest.mark.parametrize(
    "phone", ["13912345678", "+86 139 1234 5678", "0512-66668888", "051266668888", "010-12345678-123"]
)
def test_mobile_and_landline_numbers_are_valid(phone) -> None:
    assert is_valid_phone(phone)


@pytest.mark.parametrize("phone", ["12345678901", "1391234567", "66668888", "0512-666", "电话", "13912345678x"])
def test_other_numbers_are_not(phone) -> None:
    assert not is_valid_phone(phone)


def test_every_required_material_needs_a_file(alice, version, media_root) -> None:
    # Material 0 is fetched by the system; 1 and 2 need files. Only material 1 given.
    assert field_errors(alice, version, files={1: [pdf()]}) == {"material_2": ["required"]}
    assert field_errors(alice, version, files={}) == {"material_1": ["required"], "material_2": ["required"]}
    assert_nothing_written(media_root)


def test_a_file_whose_extension_lies_about_its_content_is_refused(alice, version, media_root) -> None:
    # A PDF renamed to .png, a PNG renamed to .pdf, text called .docx, a PDF called .xlsx.
    lying = {
        1: [pdf("照片.png")],
        2: [png("报表.pdf")],
    }
    assert field_errors(alice, version, files=lying) == {
        "material_1": ["file_content_mismatch"],
        "material_2": ["file_content_mismatch"],
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = SimpleUploadedFile("申报书.docx", b"just text, not a zip")
    fake_zip = SimpleUploadedFile("报表.xlsx", PDF_BYTES)
    word_as_excel = docx("报表.xlsx")  # a real Word file called .xlsx
    errors = field_errors(alice, version, files={1: [text], 2: [fake_zip, word_as_excel]})
    assert errors == {"material_1": ["file_content_mismatch"], "material_2": ["file_content_mismatch"] * 2}
    assert_nothing_written(media_root)


def test_types_sizes_and_counts_are_limited(alice, version, media_root, settings) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    exe = SimpleUploadedFile("setup.exe", b"MZ\x90\x00")
    empty = SimpleUploadedFile("空.pdf", b"")
    assert field_errors(alice, version, files={1: [exe], 2: [empty]}) == {
        "material_1": ["file_type"],
        "material_2": ["empty_file"],
    }
    settings.APPLICATION_ATTACHMENT_MAX_BYTES = 50
    big = pdf("大文件.pdf", PDF_BYTES + b"0" * 100)
    with pytest.raises(ValidationError) as caught:
        submit(alice, version, files={1: [big], 2: [xlsx()]})
    (error,) = caught.value.error_dict["material_1"]
    assert error.code == "file_too_large" and "上限" in error.message
    settings.APPLICATION_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    assert field_errors(alice, version, files={1: [pdf() for _ in range(6)], 2: [xlsx()]}) == {
        "material_1": ["too_many_files"]
    }
    assert field_errors(alice, version, files={**full_files(), 0: [pdf()], 7: [pdf()]}) == {
        "material_0": ["upload_not_needed"],
        "material_7": ["unknown_material"],
    }
    assert_nothing_written(media_root)


def test_a_failure_after_files_were_written_leaves_no_row_and_no_file(alice, version, media_root, monkeypatch) -> None:
    original = ApplicationAttachment.save
    calls = {"n": 0}

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the first file is on disk and its row written by now
            raise RuntimeError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ApplicationAttachment, "save", failing_save)

    with pytest.raises(RuntimeError):
        submit(alice, version)

    assert calls["n"] == 2
    assert_nothing_written(media_root)
