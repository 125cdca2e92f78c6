"""Least privilege on 在线申报 (等保2.0 / ASVS L2): an applicant's personal data (contact, phone, the submitter's
name, file names) and its files reach only the enterprise itself and the roles that decide applications
(审核人、数据专员; superusers). A policy editor or an auditor sees 王** / 138****5678 and gets 403 on a file.
Enterprises never see a staff member's name, only the role (审核人)."""

from __future__ import annotations

import json

import pytest

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.applications import selectors, services
from portal.applications.models import Application
from portal.audit.models import AuditEvent
from tests.enterprises.factories import StaffUserFactory

from .support import PDF_BYTES, pdf, xlsx

pytestmark = pytest.mark.django_db

CONTACT = "王小明"
PHONE = "13812345678"
FILE_NAME = "王小明身份证.pdf"
SECRETS = (CONTACT, "小明", PHONE, "12345678", "王小明身份证", "周晓红", "晓红", "alice")


@pytest.fixture
def applicant(alice) -> User:
    alice.last_name, alice.first_name = "周", "晓红"
    alice.save(update_fields=["last_name", "first_name"])
    return alice


@pytest.fixture
def reviewer() -> User:
    return StaffUserFactory(username="li_reviewer", last_name="李", first_name="审核", roles=[Role.REVIEWER])


@pytest.fixture
def application(applicant, version, reviewer) -> Application:
    application = services.application_submit(
        enterprise=applicant.enterprise,
        version=version,
        by=applicant,
        contact_name=CONTACT,
        contact_phone=PHONE,
        statement="申请研发补助（示例）",
        files={1: [pdf(FILE_NAME)], 2: [xlsx()]},
    )
    return services.application_accept(application=application, by=reviewer, note="材料齐全")


@pytest.fixture(params=["editor", "auditor"])
def outsider(request, staff_editor, staff_auditor) -> User:
    """Staff who do not decide applications."""
    return {"editor": staff_editor, "auditor": staff_auditor}[request.param]


@pytest.fixture(params=["reviewer", "data_officer", "superuser"])
def decider(request, reviewer, staff_data_officer) -> User:
    if request.param == "superuser":
        return User.objects.create_superuser(username="root", password="pw-root-示例")
    return {"reviewer": reviewer, "data_officer": staff_data_officer}[request.param]


def assert_nothing_personal(body: str) -> None:
    for secret in SECRETS:
        assert secret not in body, secret
    assert PDF_BYTES.decode() not in body


def downloads() -> int:
    return AuditEvent.objects.filter(action="applicationattachment.downloaded").count()


def test_masks() -> None:
    assert selectors.mask_name("王小明") == "王**"
    assert selectors.mask_name("王伟") == "王*"
    assert selectors.mask_name("王") == "王*"
    assert selectors.mask_name("  ") == ""
    assert selectors.mask_phone("13812345678") == "138****5678"
    assert selectors.mask_phone("0512-66668888") == "051****8888"
    assert selectors.mask_phone("6666888") == "*******"
    assert selectors.mask_phone("") == ""
    assert selectors.mask_file_name("王小明身份证.pdf") == "***.pdf"
    assert selectors.mask_file_name("无扩展名") == "***"


def test_the_deciding_roles_are_the_ones_services_let_decide() -> None:
    assert services.STAFF_ROLES is selectors.DECIDING_ROLES
    assert set(selectors.DECIDING_ROLES) == {Role.REVIEWER, Role.DATA_OFFICER}


# --- Pages ---------------------------------------------------------------------------------------


def test_outsider_sees_the_console_page_masked_and_without_links_or_actions(client, outsider, application) -> None:
    client.force_login(outsider)
    response = client.get(f"/console/applications/{application.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert_nothing_personal(body)
    assert "王**" in body and "138****5678" in body and "周**" in body and "***.pdf" in body
    assert "已脱敏" in body and "只有审核人、数据专员和申报企业可以查看和下载" in body
    assert "/attachments/" not in body
    assert 'id="decide-heading"' not in body  # no form to decide what it may not read
    assert "李审核" not in body and "li_reviewer" not in body and "审核人" in body


def test_outsider_sees_the_enterprise_pages_masked(client, outsider, application, applicant) -> None:
    client.force_login(outsider)
    code = applicant.enterprise.credit_code
    for url in (f"/enterprises/{code}/applications/", f"/enterprises/{code}/applications/{application.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert_nothing_personal(body)
        assert "王**" in body
        assert "/attachments/" not in body


def test_outsider_gets_403_on_every_attachment_url_and_no_file(client, outsider, application, applicant) -> None:
    client.force_login(outsider)
    attachment = application.attachments.get(material="项目申报书")
    before = downloads()
    code = applicant.enterprise.credit_code
    for url in (
        f"/console/applications/{application.pk}/attachments/{attachment.pk}/",
        f"/enterprises/{code}/applications/{application.pk}/attachments/{attachment.pk}/",
        # an id that does not exist is refused the same way: existence is not revealed either
        f"/console/applications/{application.pk}/attachments/{attachment.pk + 1000}/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        body = response.content.decode()
        assert "只有审核人、数据专员和申报企业可以下载" in body
        assert_nothing_personal(body)
        assert "Content-Disposition" not in response.headers
    assert downloads() == before


def test_deciders_see_everything_on_the_console_page_and_download(client, decider, staff_auditor, application) -> None:
    client.force_login(decider)
    body = client.get(f"/console/applications/{application.pk}/").content.decode()
    assert CONTACT in body and PHONE in body and FILE_NAME in body and "周晓红" in body
    assert "已脱敏" not in body and 'id="decide-heading"' in body
    attachment = application.attachments.get(material="项目申报书")
    response = client.get(f"/console/applications/{application.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES

    # The download is audited by material, so the auditor's log does not carry the file's (personal) name.
    event = AuditEvent.objects.get(action="applicationattachment.downloaded")
    assert event.object_label == f"项目申报书（申报 #{application.pk}，材料 #{attachment.pk}）"
    client.force_login(staff_auditor)
    log = client.get("/console/audit/?action=applicationattachment.downloaded")
    assert log.status_code == 200
    assert "项目申报书" in log.content.decode()
    assert_nothing_personal(log.content.decode())


def test_the_enterprise_sees_its_own_data_and_only_the_role_of_staff(client, applicant, bob, application) -> None:
    for user in (applicant, bob):
        client.force_login(user)
        code = user.enterprise.credit_code
        body = client.get(f"/enterprises/{code}/applications/{application.pk}/").content.decode()
        assert CONTACT in body and PHONE in body and FILE_NAME in body and "周晓红" in body
        assert "已脱敏" not in body
        assert "审核人" in body and "李审核" not in body and "li_reviewer" not in body
        listing = client.get(f"/enterprises/{code}/applications/").content.decode()
        assert CONTACT in listing
        attachment = application.attachments.get(material="项目申报书")
        response = client.get(f"/enterprises/{code}/applications/{application.pk}/attachments/{attachment.pk}/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
        inbox = client.get(f"/enterprises/{code}/inbox/")
        assert inbox.status_code == 200
        text = inbox.content.decode()
        assert "已受理" in text and "李审核" not in text and "li_reviewer" not in text


# --- API -----------------------------------------------------------------------------------------


def test_outsider_gets_masked_json_everywhere(api_client, outsider, application, applicant) -> None:
    api_client.force_authenticate(outsider)
    code = applicant.enterprise.credit_code
    for url in (
        f"/api/v1/applications/{application.pk}/",
        "/api/v1/applications/?status=accepted",
        f"/api/v1/enterprises/{code}/applications/{application.pk}/",
        f"/api/v1/enterprises/{code}/applications/",
    ):
        response = api_client.get(url)
        assert response.status_code == 200, url
        text = json.dumps(response.json(), ensure_ascii=False)
        assert_nothing_personal(text)
        data = response.json()
        row = data if "id" in data else data["results"][0] if "results" in data else data[0]
        assert (row["contact_name"], row["contact_phone"], row["personal_data_masked"]) == (
            "王**",
            "138****5678",
            True,
        )
        assert {a["url"] for a in row["attachments"]} == {None}
        assert {a["original_name"] for a in row["attachments"]} == {"***.pdf", "***.xlsx"}
        assert [t["by"] for t in row["timeline"]] == ["周**", "审核人"]


def test_outsider_gets_403_json_on_downloads(api_client, outsider, application, applicant) -> None:
    api_client.force_authenticate(outsider)
    attachment = application.attachments.get(material="项目申报书")
    before = downloads()
    code = applicant.enterprise.credit_code
    for url in (
        f"/api/v1/applications/{application.pk}/attachments/{attachment.pk}/",
        f"/api/v1/enterprises/{code}/applications/{application.pk}/attachments/{attachment.pk}/",
    ):
        response = api_client.get(url)
        assert response.status_code == 403, url
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == "personal_data_restricted"
        assert_nothing_personal(response.content.decode())
    assert downloads() == before


def test_deciders_and_the_enterprise_get_full_json_and_files(api_client, decider, applicant, application) -> None:
    attachment = application.attachments.get(material="项目申报书")
    code = applicant.enterprise.credit_code
    for user, detail, download in (
        (decider, f"/api/v1/applications/{application.pk}/", f"/api/v1/applications/{application.pk}/attachments/"),
        (
            applicant,
            f"/api/v1/enterprises/{code}/applications/{application.pk}/",
            f"/api/v1/enterprises/{code}/applications/{application.pk}/attachments/",
        ),
    ):
        api_client.force_authenticate(user)
        data = api_client.get(detail).json()
        assert (data["contact_name"], data["contact_phone"], data["personal_data_masked"]) == (CONTACT, PHONE, False)
        assert FILE_NAME in [a["original_name"] for a in data["attachments"]]
        assert all(a["url"] for a in data["attachments"])
        # staff by role, the enterprise's own user by name; no staff member's name anywhere
        assert [t["by"] for t in data["timeline"]] == ["周晓红", "审核人"]
        assert "李审核" not in json.dumps(data, ensure_ascii=False) and "li_reviewer" not in json.dumps(data)
        response = api_client.get(f"{download}{attachment.pk}/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES


def test_enterprise_notifications_name_no_staff_member(api_client, applicant, application) -> None:
    api_client.force_authenticate(applicant)
    response = api_client.get("/api/v1/notifications/")
    assert response.status_code == 200
    text = json.dumps(response.json(), ensure_ascii=False)
    assert "已受理" in text
    assert "李审核" not in text and "li_reviewer" not in text
