"""Two-factor sign-in: staff must set up and give a TOTP code where required; enterprise users may opt in."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from portal.accounts.two_factor import PENDING_KEY

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9"


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits) + offset:06d}"[-6:]


def sign_in(client, user) -> None:
    user.set_password(PASSWORD)
    user.save()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def required(settings):
    settings.STAFF_REQUIRE_TWO_FACTOR = True


def test_staff_without_a_device_must_set_one_up_before_the_console(client, staff_reviewer, required) -> None:
    sign_in(client, staff_reviewer)
    console = client.get("/console/")
    assert console.status_code == 302 and console["Location"].startswith("/accounts/two-factor/setup/")
    page = client.get(console["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "工作人员账号须开启两步验证" in text and 'id="totp-secret"' in text
    device = TOTPDevice.objects.get(user=staff_reviewer, confirmed=False)

    wrong = client.post("/accounts/two-factor/setup/", {"code": "12345", "next": "/console/"})
    assert "请输入身份验证器上显示的6位数字" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    done = client.post("/accounts/two-factor/setup/", {"code": code_for(device), "next": "/console/"})
    assert done.status_code == 302 and done["Location"] == "/console/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert PENDING_KEY not in client.session
    assert client.get("/console/").status_code == 200


def test_the_api_refuses_a_session_that_owes_its_second_factor(client, staff_reviewer, required) -> None:
    sign_in(client, staff_reviewer)
    response = client.get("/api/v1/staff/policies/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


def test_staff_with_a_device_give_its_code_after_the_password(client, staff_reviewer, required) -> None:
    device = TOTPDevice.objects.create(user=staff_reviewer, name="x", confirmed=True)
    sign_in(client, staff_reviewer)
    console = client.get("/console/")
    assert console["Location"].startswith("/accounts/two-factor/?")
    wrong_code = code_for(device, offset=1)
    refused = client.post("/accounts/two-factor/", {"code": wrong_code, "next": "/console/"})
    assert "验证码不正确或已过期" in refused.content.decode()
    assert client.get("/console/").status_code == 302
    time.sleep(1.1)  # django-otp makes the next try wait 1 s after one wrong code
    accepted = client.post("/accounts/two-factor/", {"code": code_for(device), "next": "https://evil.example/"})
    assert accepted.status_code == 302 and accepted["Location"] == "/"  # never an open redirect
    assert client.get("/console/").status_code == 200


def test_repeated_wrong_codes_are_throttled(client, staff_reviewer, required) -> None:
    device = TOTPDevice.objects.create(user=staff_reviewer, name="x", confirmed=True)
    sign_in(client, staff_reviewer)
    for _ in range(3):
        client.post("/accounts/two-factor/", {"code": code_for(device, offset=1)})
    # django-otp's throttle now refuses even the right code for a while.
    response = client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert response.status_code == 429 and "错误次数过多" in response.content.decode()
    assert client.get("/console/").status_code == 302


def test_enterprise_users_are_not_asked_unless_they_opted_in(client, alice, required) -> None:
    sign_in(client, alice)
    assert PENDING_KEY not in client.session
    assert client.get("/workspace/").status_code in (200, 302)
    assert not client.get("/workspace/").get("Location", "").startswith("/accounts/two-factor")


def test_an_enterprise_user_who_opted_in_is_asked(client, alice) -> None:
    TOTPDevice.objects.create(user=alice, name="x", confirmed=True)
    sign_in(client, alice)
    assert client.session.get(PENDING_KEY) is True
    assert client.get("/workspace/")["Location"].startswith("/accounts/two-factor/")


def test_without_the_requirement_staff_sign_in_with_the_password_alone(client, staff_reviewer) -> None:
    sign_in(client, staff_reviewer)
    assert client.get("/console/").status_code == 200


def test_production_requires_two_factor_for_staff() -> None:
    import subprocess
    import sys

    from tests.support.services import ROOT

    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "huiqi.example.cn",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.STAFF_REQUIRE_TWO_FACTOR)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def test_the_setup_page_needs_a_signed_in_user() -> None:
    response = APIClient().get("/accounts/two-factor/setup/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
