"""Production keeps sessions in the shared cache in front of the database (`cached_db`): a request reads
its session from Redis, not PostgreSQL. That must not weaken signing out or the checks made on every
request: a signed-out session, a deactivated user and a changed password all end the session at once,
whatever the cache still holds."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.ops.test_deploy_check import PRODUCTION_ENV, run_manage
from tests.support.services import need_redis

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-9"


def test_production_keeps_sessions_in_the_cache_in_front_of_the_database() -> None:
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.SESSION_ENGINE)", env=PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def cached_sessions(settings) -> None:
    need_redis()
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def signed_in(user) -> tuple[Client, str]:
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    url = f"/api/v1/enterprises/{user.enterprise.credit_code}/matches/"
    assert client.get(url).status_code == 200
    assert Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()  # written through
    return client, url


def replay(client: Client, url: str) -> int:
    """The same session cookie, from another client (as a thief who copied it would send it)."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other.get(url).status_code


def test_signing_out_ends_the_session_in_cache_and_database(cached_sessions, alice) -> None:
    client, url = signed_in(alice)
    key = client.cookies["sessionid"].value
    assert replay(client, url) == 200

    client.post("/accounts/logout/")

    stolen = Client()
    stolen.cookies["sessionid"] = key
    assert stolen.get(url).status_code in (401, 403)
    assert not Session.objects.filter(session_key=key).exists()


def test_a_deactivated_user_or_a_new_password_ends_a_cached_session(cached_sessions, alice, bob) -> None:
    client, url = signed_in(alice)
    alice.is_active = False
    alice.save()
    assert replay(client, url) in (401, 403)

    client, url = signed_in(bob)
    bob.set_password("Another-Horse-10")
    bob.save()
    assert replay(client, url) in (401, 403)
