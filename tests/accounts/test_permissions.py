"""One permission class per role, and the guards services share (portal.accounts.permissions)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.accounts.permissions import (
    IsAuditor,
    IsDataOfficer,
    IsEnterpriseUser,
    IsPolicyEditor,
    IsReviewer,
    IsStaff,
    require_deciding_staff,
    require_enterprise_member,
    require_reason,
)
from portal.api.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

USERS = ("staff_editor", "staff_reviewer", "staff_data_officer", "staff_auditor", "alice")
ADMITS = {
    IsPolicyEditor: {"staff_editor"},
    IsReviewer: {"staff_reviewer"},
    IsDataOfficer: {"staff_data_officer"},
    IsAuditor: {"staff_auditor"},
    IsStaff: {"staff_editor", "staff_reviewer", "staff_data_officer", "staff_auditor"},
    IsEnterpriseUser: {"alice"},
}


@pytest.mark.parametrize("permission", list(ADMITS), ids=lambda p: p.__name__)
def test_each_permission_class_admits_its_role_only(permission, request) -> None:
    admitted = {
        name
        for name in USERS
        if permission().has_permission(SimpleNamespace(user=request.getfixturevalue(name)), view=None)
    }
    assert admitted == ADMITS[permission]


def test_deciding_staff_are_reviewers_and_data_officers(staff_reviewer, staff_data_officer, staff_editor) -> None:
    require_deciding_staff(staff_reviewer)
    require_deciding_staff(staff_data_officer)
    with pytest.raises(ApplicationError) as refused:
        require_deciding_staff(staff_editor)
    assert (refused.value.code, refused.value.http_status) == ("staff_role_required", 403)


def test_only_the_enterprises_own_users_act_on_its_case(alice, charlie, staff_data_officer) -> None:
    require_enterprise_member(alice, alice.enterprise_id)
    for stranger in (charlie, staff_data_officer):
        with pytest.raises(ApplicationError) as refused:
            require_enterprise_member(stranger, alice.enterprise_id, message="只有该企业的用户可以办理申报")
        assert (refused.value.code, refused.value.message) == ("not_enterprise_user", "只有该企业的用户可以办理申报")


def test_a_reason_is_required_and_bounded() -> None:
    assert require_reason("  材料不全 ") == "材料不全"
    with pytest.raises(ApplicationError, match="请填写理由"):
        require_reason("   ")
    with pytest.raises(ApplicationError, match="2000"):
        require_reason("长" * 2001, "note")
