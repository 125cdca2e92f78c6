"""Lifecycle: accept, approve, reject, return and resubmit, withdraw and reopen; timeline and notices exactly once."""

from __future__ import annotations

import pytest

from portal.api.exceptions import ApplicationError
from portal.applications import services
from portal.applications.models import Application
from portal.notifications.models import Notification

from .conftest import stored_files
from .support import full_files, pdf, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(alice, version) -> Application:
    return services.application_submit(
        enterprise=alice.enterprise,
        version=version,
        by=alice,
        contact_name="张敏",
        contact_phone="0512-66668888",
        statement="示例",
        files=full_files(),
    )


def timeline(application: Application) -> list[tuple[str, str]]:
    return list(application.transitions.order_by("at", "id").values_list("from_status", "to_status"))


def notices(application: Application) -> list[str]:
    return list(
        Notification.objects.filter(enterprise=application.enterprise, kind="application_update")
        .order_by("id")
        .values_list("dedupe_key", flat=True)
    )


def test_accept_then_approve(application, staff_reviewer) -> None:
    services.application_accept(application=application, by=staff_reviewer)
    approved = services.application_approve(application=application, by=staff_reviewer, note="符合条件")

    assert approved.status == "approved"
    assert timeline(application) == [("", "submitted"), ("submitted", "accepted"), ("accepted", "approved")]
    assert application.transitions.last().note == "符合条件"
    pk = application.pk
    assert notices(application) == [f"app{pk}:1:submitted", f"app{pk}:2:accepted", f"app{pk}:3:approved"]


def test_an_invalid_step_changes_nothing_and_sends_nothing(application, staff_reviewer, alice) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.application_approve(application=application, by=staff_reviewer)  # not yet accepted
    assert (caught.value.code, caught.value.http_status) == ("invalid_transition", 409)

    services.application_accept(application=application, by=staff_reviewer)
    with pytest.raises(ApplicationError):
        services.application_accept(application=application, by=staff_reviewer)  # twice
    services.application_reject(application=application, by=staff_reviewer, reason="研发投入不足（示例）")
    with pytest.raises(ApplicationError):
        services.application_withdraw(application=application, by=alice)  # after the decision

    assert Application.objects.get(pk=application.pk).status == "rejected"
    assert len(notices(application)) == len(timeline(application)) == 3


def test_reject_and_return_need_a_reason(application, staff_reviewer) -> None:
    for act in (services.application_reject, services.application_return):
        with pytest.raises(ApplicationError) as caught:
            act(application=application, by=staff_reviewer, reason="  ")
        assert (caught.value.code, caught.value.field) == ("required", "reason")
    assert Application.objects.get(pk=application.pk).status == "submitted"
    assert len(timeline(application)) == 1


def test_only_reviewers_and_data_officers_decide(application, staff_editor, staff_auditor, alice) -> None:
    for user in (staff_editor, staff_auditor, alice):
        with pytest.raises(ApplicationError) as caught:
            services.application_accept(application=application, by=user)
        assert (caught.value.code, caught.value.http_status) == ("staff_role_required", 403)


def test_return_then_resubmit_replaces_only_the_material_given(
    application, staff_data_officer, alice, media_root, django_capture_on_commit_callbacks
) -> None:
    services.application_return(application=application, by=staff_data_officer, reason="财务报表缺少盖章页")
    application.refresh_from_db()
    assert (application.status, application.staff_note) == ("returned", "财务报表缺少盖章页")
    old_report = application.attachments.get(material="近一年财务报表")
    kept = application.attachments.get(material="项目申报书")

    with django_capture_on_commit_callbacks(execute=True):
        resubmitted = services.application_resubmit(
            application=application, by=alice, files={2: [xlsx("财务报表（盖章）.xlsx")]}, statement="已补盖章页"
        )

    assert resubmitted.status == "submitted" and resubmitted.statement == "已补盖章页"
    assert resubmitted.contact_phone == "0512-66668888"  # not given: kept
    names = sorted(application.attachments.values_list("original_name", flat=True))
    assert names == ["申报书.pdf", "财务报表（盖章）.xlsx"]
    assert application.attachments.filter(pk=kept.pk).exists()
    assert not (media_root / old_report.file.name).exists()  # the replaced file is gone after commit
    assert len(stored_files(media_root)) == 2
    assert timeline(application) == [("", "submitted"), ("submitted", "returned"), ("returned", "submitted")]
    pk = application.pk
    assert notices(application) == [f"app{pk}:1:submitted", f"app{pk}:2:returned", f"app{pk}:3:submitted"]


def test_resubmit_is_only_for_returned_and_checks_files(application, staff_reviewer, alice, media_root) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.application_resubmit(application=application, by=alice)
    assert caught.value.code == "invalid_transition"

    services.application_return(application=application, by=staff_reviewer, reason="请补充")
    before = stored_files(media_root)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as bad:
        services.application_resubmit(application=application, by=alice, files={1: [pdf("假.xlsx")]})
    assert bad.value.error_dict["material_1"][0].code == "file_content_mismatch"
    assert stored_files(media_root) == before
    assert Application.objects.get(pk=application.pk).status == "returned"


def test_withdraw_then_submit_again_reopens_the_same_application(application, alice, bob, version) -> None:
    services.application_withdraw(application=application, by=bob, reason="材料需要更新")

    reopened = services.application_submit(
        enterprise=alice.enterprise,
        version=version,
        by=alice,
        contact_name="李华",
        contact_phone="13800001111",
        statement="更新后重新申报",
        files={1: [pdf("新申报书.pdf")]},  # material 2 keeps the file from before
    )

    assert reopened.pk == application.pk and reopened.status == "submitted"
    assert reopened.contact_name == "李华" and Application.objects.count() == 1
    assert sorted(reopened.attachments.values_list("original_name", flat=True)) == ["新申报书.pdf", "财务报表.xlsx"]
    assert timeline(application) == [("", "submitted"), ("submitted", "withdrawn"), ("withdrawn", "submitted")]
    assert len(set(notices(application))) == 3


def test_a_stranger_cannot_withdraw(application, charlie) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.application_withdraw(application=application, by=charlie)
    assert caught.value.http_status == 403
    assert Application.objects.get(pk=application.pk).status == "submitted"
