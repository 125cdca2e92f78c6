"""The session's user is read with its staff-role flag and its enterprise's credit code in one query
(portal.accounts.backends), and authorization answers from that read. Nothing is kept between requests:
every change to who may see what — membership, a role, deactivation, an enterprise's code, made through
the ORM, the admin's save or a bare UPDATE — shows on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import Http404
from rest_framework.test import APIClient

from portal.accounts.backends import ModelBackend, own_enterprise
from portal.accounts.roles import Role, roles_of
from portal.accounts.services import user_set_roles
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import enterprise_id_for_user
from tests.enterprises.factories import random_credit_code

pytestmark = pytest.mark.django_db

User = get_user_model()


def matches_url(enterprise: Enterprise) -> str:
    return f"/api/v1/enterprises/{enterprise.credit_code}/matches/"


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_user_and_what_authorization_asks_are_one_query(alice, charlie, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        user = ModelBackend().get_user(alice.pk)
    assert user is not None
    with django_assert_num_queries(0):
        assert roles_of(user) == frozenset()
        assert enterprise_id_for_user(user=user, credit_code=alice.enterprise.credit_code) == alice.enterprise_id
        with pytest.raises(Http404):
            enterprise_id_for_user(user=user, credit_code=charlie.enterprise.credit_code)


def test_the_user_read_so_is_the_user_the_orm_reads(alice, staff_reviewer) -> None:
    for expected in (alice, staff_reviewer):
        user = ModelBackend().get_user(str(expected.pk))  # the session keeps the id as text
        plain = User.objects.get(pk=expected.pk)
        assert user is not None and user._state.db == "default" and not user._state.adding
        assert {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields} == {
            f.attname: getattr(plain, f.attname) for f in User._meta.concrete_fields
        }
    assert ModelBackend().get_user(999_999_999) is None


def test_a_deactivated_user_is_no_user(alice) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert ModelBackend().get_user(alice.pk) is None


def test_a_staff_user_still_reads_their_roles_and_sees_any_enterprise(staff_reviewer, alice) -> None:
    user = ModelBackend().get_user(staff_reviewer.pk)
    assert roles_of(user) == {Role.REVIEWER}
    assert enterprise_id_for_user(user=user, credit_code=alice.enterprise.credit_code) == alice.enterprise_id


def test_a_user_removed_from_the_enterprise_loses_it_on_the_next_request(alice) -> None:
    client = signed_in(alice)
    url = matches_url(alice.enterprise)
    assert client.get(url).status_code == 200

    User.objects.filter(pk=alice.pk).update(enterprise=None)  # no signal, no save(): nothing to invalidate

    assert client.get(url).status_code == 404


def test_a_user_moved_to_another_enterprise_sees_that_one_only(alice, charlie) -> None:
    client = signed_in(alice)
    old, new = alice.enterprise, charlie.enterprise
    assert client.get(matches_url(old)).status_code == 200
    assert client.get(matches_url(new)).status_code == 404

    alice.enterprise = new
    alice.save()

    assert client.get(matches_url(old)).status_code == 404
    assert client.get(matches_url(new)).status_code == 200


def test_a_changed_credit_code_is_seen_on_the_next_request(alice) -> None:
    client = signed_in(alice)
    enterprise = alice.enterprise
    old_url = matches_url(enterprise)
    assert client.get(old_url).status_code == 200

    enterprise.credit_code = random_credit_code()
    Enterprise.objects.filter(pk=enterprise.pk).update(credit_code=enterprise.credit_code)

    assert client.get(old_url).status_code == 404
    assert client.get(matches_url(enterprise)).status_code == 200


def test_a_role_given_or_taken_counts_on_the_next_request(alice, charlie) -> None:
    client = signed_in(alice)
    stranger = matches_url(charlie.enterprise)
    assert client.get(stranger).status_code == 404

    user_set_roles(user=alice, roles=[Role.REVIEWER])
    assert client.get(stranger).status_code == 200

    user_set_roles(user=alice, roles=[])
    assert client.get(stranger).status_code == 404


def test_the_code_read_with_the_user_is_used_only_for_that_enterprise(alice, charlie) -> None:
    user = ModelBackend().get_user(alice.pk)
    assert own_enterprise(user) == (alice.enterprise_id, alice.enterprise.credit_code)

    user.enterprise_id = charlie.enterprise_id  # changed in this request: the database is asked again
    assert own_enterprise(user) is None
    assert enterprise_id_for_user(user=user, credit_code=charlie.enterprise.credit_code) == charlie.enterprise_id
    with pytest.raises(Http404):
        enterprise_id_for_user(user=user, credit_code=alice.enterprise.credit_code)


def test_a_session_of_a_user_without_an_enterprise_sees_none(db, alice) -> None:
    loner = User.objects.create_user(username="loner", password="Correct-Horse-9")
    client = signed_in(loner)
    assert own_enterprise(ModelBackend().get_user(loner.pk)) is None
    assert client.get(matches_url(alice.enterprise)).status_code == 404
