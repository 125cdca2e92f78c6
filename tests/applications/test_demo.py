"""Sample applications (示例) for the demo enterprise: created once, marked 示例, files readable as PDF."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from devtools.demo.applications import load_sample_applications
from portal.accounts.roles import Role
from portal.applications.files import check_file
from portal.applications.models import Application, ApplicationAttachment, ApplicationTransition
from tests.enterprises.factories import EnterpriseUserFactory, StaffUserFactory

from .conftest import stored_files
from .support import apply_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users(enterprise_a):
    StaffUserFactory(username="reviewer", roles=[Role.REVIEWER])
    return EnterpriseUserFactory(username="qiye_a", enterprise=enterprise_a)


def test_two_samples_once_then_nothing(demo_users, media_root) -> None:
    apply_policy(title="甲政策（示例）")
    apply_policy(title="乙政策（示例）")
    apply_policy(title="无材料政策（示例）", materials=[])

    assert load_sample_applications() == 2
    assert load_sample_applications() == 0

    rows = list(Application.objects.filter(enterprise=demo_users.enterprise).order_by("id"))
    assert sorted(a.status for a in rows) == ["accepted", "returned"]
    assert all("示例" in a.statement and "示例" in a.contact_name for a in rows)
    assert "无材料政策（示例）" not in [a.policy_version.title for a in rows]
    returned = next(a for a in rows if a.status == "returned")
    assert "示例" in returned.staff_note
    assert list(returned.transitions.values_list("from_status", "to_status")) == [
        ("", "submitted"),
        ("submitted", "returned"),
    ]
    # Two materials need files in each sample (the first is fetched by the system).
    attachments = list(ApplicationAttachment.objects.all())
    assert len(attachments) == 4 and len(stored_files(media_root)) == 4
    for attachment in attachments:
        with attachment.file.open("rb") as handle:
            data = handle.read()
        assert len(data) == attachment.size
        upload = SimpleUploadedFile(attachment.original_name, data)
        assert check_file(upload).content_type == "application/pdf"  # a real PDF, not just a name


def test_without_the_catalogue_load_demo_reports_no_change(demo_users) -> None:
    out = io.StringIO()
    call_command("load_demo", stdout=out)  # enterprises and logins; no 申报 policies yet: no samples
    assert not ApplicationTransition.objects.exists()

    apply_policy(title="后载入的政策（示例）")
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "示例申报 1 件" in again.getvalue()
    third = io.StringIO()
    call_command("load_demo", stdout=third)
    assert "未作任何修改" in third.getvalue()
