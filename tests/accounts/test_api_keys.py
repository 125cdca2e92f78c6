"""Department API keys: one source each, only a hash stored, shown once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from portal.accounts.models import DepartmentApiKey, User
from portal.accounts.services import api_key_authenticate, api_key_create
from portal.api.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def test_only_the_hash_is_stored_and_the_key_authenticates() -> None:
    row, key = api_key_create(name="税务局", source="tax")
    assert key.startswith(row.prefix + ".")
    assert key not in row.key_hash and len(row.key_hash) == 64
    assert api_key_authenticate(key=key) == row
    assert api_key_authenticate(key=key + "x") is None
    assert api_key_authenticate(key="garbage") is None


def test_keys_are_for_departments_only() -> None:
    with pytest.raises(ApplicationError):
        api_key_create(name="企业", source="self_declared")


def test_a_disabled_key_no_longer_authenticates() -> None:
    row, key = api_key_create(name="信用办", source="credit")
    DepartmentApiKey.objects.filter(pk=row.pk).update(is_active=False)
    assert api_key_authenticate(key=key) is None


def test_use_is_recorded() -> None:
    row, key = api_key_create(name="统计局", source="statistics")
    assert row.last_used_at is None
    api_key_authenticate(key=key)
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_command_prints_the_key_once() -> None:
    out = io.StringIO()
    call_command("create_api_key", "--source", "science_tech", "--name", "科技局接口", stdout=out)
    key = out.getvalue().strip().rsplit(" ", 1)[-1]
    assert api_key_authenticate(key=key).source == "science_tech"


def test_admin_shows_a_new_key_once(client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    response = client.post(
        "/admin/accounts/departmentapikey/add/",
        {"name": "工信局", "source": "industry_info", "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    row = DepartmentApiKey.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "新密钥" in str(m)]
    key = message.rsplit("：", 1)[-1]
    assert api_key_authenticate(key=key) == row
