"""Staff roles and the helpers every app uses to check them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from portal.accounts.roles import Role, has_any_role, has_role, is_enterprise_user, is_staff_user, roles_of
from portal.accounts.services import user_set_roles
from portal.api.exceptions import ApplicationError
from tests.enterprises.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_roles_are_groups_created_by_migration() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert Role.POLICY_EDITOR.label == "政策编辑"


def test_a_user_may_hold_several_roles() -> None:
    user = StaffUserFactory(roles=[Role.POLICY_EDITOR, Role.REVIEWER])
    assert has_role(user, Role.POLICY_EDITOR) and has_role(user, "reviewer")
    assert not has_role(user, Role.DATA_OFFICER)
    assert has_any_role(user, Role.AUDITOR, Role.REVIEWER)
    assert is_staff_user(user) and not is_enterprise_user(user)


def test_superusers_hold_every_role() -> None:
    admin = UserFactory(username="root", is_superuser=True)
    assert roles_of(admin) == frozenset(Role.values)
    assert is_staff_user(admin)


def test_enterprise_users_and_strangers(alice) -> None:
    assert is_enterprise_user(alice) and not is_staff_user(alice)
    assert not is_staff_user(AnonymousUser()) and not is_enterprise_user(AnonymousUser())
    plain = UserFactory()
    assert not is_staff_user(plain) and not is_enterprise_user(plain)


def test_inactive_users_hold_nothing() -> None:
    user = StaffUserFactory(roles=[Role.AUDITOR], is_active=False)
    assert not has_role(user, Role.AUDITOR)


def test_setting_roles_replaces_them_and_keeps_other_groups() -> None:
    user = StaffUserFactory(roles=[Role.POLICY_EDITOR])
    other = Group.objects.create(name="newsletter")
    user.groups.add(other)
    user_set_roles(user=user, roles=[Role.AUDITOR])
    assert roles_of(user) == {"auditor"}
    assert set(user.groups.values_list("name", flat=True)) == {"auditor", "newsletter"}
    with pytest.raises(ApplicationError):
        user_set_roles(user=user, roles=["king"])


def test_role_lookups_are_cached_per_user_object(django_assert_num_queries) -> None:
    user = StaffUserFactory(roles=[Role.REVIEWER])
    user = type(user).objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        for _ in range(5):
            has_role(user, Role.REVIEWER)
