"""The audit trail: every security-relevant change names who, when, from where, what and before/after;
rows cannot be changed or deleted; only auditors read and export it."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction

from portal.accounts.roles import Role
from portal.accounts.services import api_key_create, user_set_roles
from portal.audit.models import AuditEvent
from portal.enterprises.models import Zone
from tests.enterprises.factories import StaffUserFactory, UserFactory
from tests.support.services import need_postgres

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_a_status_change_is_recorded_in_words(staff_editor) -> None:
    from policies import services
    from tests.policies.conftest import version_content

    draft = services.policy_create(by=staff_editor, key="audit-words", **version_content())
    services.policy_submit(version=draft, by=staff_editor)
    event = events("policyversion.status")[-1]
    assert event.actor_name == staff_editor.username
    assert event.before == {"status": "草稿"} and event.after == {"status": "审核中"}
    assert event.object_label == f"政策版本 #{draft.pk}"


def test_sign_ins_and_failures_are_recorded_with_the_address(client, alice) -> None:
    alice.set_password(PASSWORD)
    alice.save()
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    (failed,) = events("auth.login_failed")
    assert failed.object_label == "alice" and failed.actor_id is None and failed.ip == "198.51.100.7"
    (login,) = events("auth.login")
    assert login.actor_name == "alice" and login.ip == "198.51.100.7"
    assert PASSWORD not in str(failed.detail) + str(login.after)


def test_a_lockout_is_recorded(client, alice) -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="198.51.100.8")
    locked = events("auth.locked_out")
    assert locked and locked[-1].object_label == "alice" and "198.51.100.8" in locked[-1].detail


def test_role_changes_through_the_service_are_recorded() -> None:
    user = UserFactory(username="newstaff")
    user_set_roles(user=user, roles=[Role.REVIEWER])
    change = events("user.roles_changed")[-1]
    assert change.object_id == str(user.pk)
    assert change.after == {"roles": ["审核人"]}
    assert change.detail == "授予角色：审核人"


def test_an_api_key_is_recorded_without_its_secret(staff_data_officer) -> None:
    row, key = api_key_create(name="统计局接口", source="statistics", by=staff_data_officer)
    (created,) = events("departmentapikey.created")
    assert created.object_id == str(row.pk)
    assert "key_hash" not in created.after and key not in str(created.after)


def test_configuration_edits_keep_before_and_after() -> None:
    zone = Zone.objects.first()
    old = zone.name
    zone.name = old + "（示例改名）"
    zone.save()
    updated = events("zone.updated")[-1]
    assert updated.before == {"name": old} and updated.after == {"name": old + "（示例改名）"}


def test_audit_rows_cannot_be_changed_or_deleted() -> None:
    need_postgres()
    event = AuditEvent.objects.create(at="2026-12-07T10:00:00+08:00", action="auth.login")
    for statement in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "auth.login"


def test_a_staff_view_of_an_enterprise_is_recorded(client, staff_data_officer, enterprise_a) -> None:
    client.force_login(staff_data_officer)
    assert client.get(f"/api/v1/enterprises/{enterprise_a.credit_code}/").status_code == 200
    viewed = events("enterprise.viewed")[-1]
    assert viewed.actor_name == staff_data_officer.username and viewed.object_id == enterprise_a.credit_code


def test_a_two_factor_device_is_named_in_words(client) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    auditor = StaffUserFactory(username="shenji2", roles=[Role.AUDITOR])
    TOTPDevice.objects.create(user=auditor, name="x", confirmed=False)
    client.force_login(auditor)
    text = client.get("/console/audit/").content.decode()
    assert "两步验证：开始设置" in text and "TOTP" not in text


def test_only_auditors_read_the_trail(client, staff_reviewer, alice) -> None:
    for user in (staff_reviewer, alice):
        client.force_login(user)
        assert client.get("/console/audit/").status_code == 403
        assert client.get("/console/audit/export.csv").status_code == 403
    client.logout()
    assert client.get("/console/audit/").status_code == 302


def test_the_auditor_searches_and_exports_in_chinese(client) -> None:
    auditor = StaffUserFactory(username="shenji", roles=[Role.AUDITOR])
    zone = Zone.objects.first()
    zone.name = "=HYPERLINK(1)"
    zone.save()
    client.force_login(auditor)
    page = client.get("/console/audit/", {"action": "zone.updated"})
    text = page.content.decode()
    assert page.status_code == 200 and "修改" in text and "=HYPERLINK(1)" in text
    assert "zone.updated" not in text.split("<select")[0]  # codes stay in the form values, not in the words
    export = client.get("/console/audit/export.csv", {"action": "zone.updated"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["时间", "操作人", "角色", "来源地址", "操作"]
    assert rows[1][4].endswith("修改")
    assert "'=HYPERLINK(1)" in rows[1][6] or rows[1][5].startswith("'=")
