"""The review workflow: each transition, who may make it, the audit trail and the publish hook."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from policies import services
from policies.models import PolicyTransition, PolicyVersion
from portal import events
from portal.api.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status


def actions(version: PolicyVersion) -> list[tuple[str, str, str, str]]:
    return [
        (t.action, t.from_status, t.to_status, t.by.username)
        for t in PolicyTransition.objects.filter(version=version).select_related("by").order_by("at", "id")
    ]


def test_it_runs_draft_to_published_and_records_each_step(make_draft, staff_editor, staff_reviewer):
    version = make_draft()
    assert version.status == Status.DRAFT and version.number == 1 and version.author == staff_editor

    services.policy_submit(version=version, by=staff_editor, comment="请审核")
    services.policy_approve(version=version, by=staff_reviewer, comment="同意")
    services.policy_publish(version=version, by=staff_reviewer)

    version.refresh_from_db()
    assert version.status == Status.PUBLISHED
    assert version.approved_by == staff_reviewer and version.published_at is not None
    assert actions(version) == [
        ("create", "", "draft", staff_editor.username),
        ("submit", "draft", "in_review", staff_editor.username),
        ("approve", "in_review", "in_review", staff_reviewer.username),
        ("publish", "in_review", "published", staff_reviewer.username),
    ]
    assert PolicyTransition.objects.get(version=version, action="submit").comment == "请审核"
    assert version.policy.current_published == version


def test_author_may_not_approve_their_own_version(make_draft, editor_reviewer):
    version = make_draft(by=editor_reviewer)
    services.policy_submit(version=version, by=editor_reviewer)

    with pytest.raises(ApplicationError) as caught:
        services.policy_approve(version=version, by=editor_reviewer)

    assert caught.value.code == "self_review_forbidden"
    version.refresh_from_db()
    assert version.approved_by is None


def test_submitter_may_not_approve_either(make_draft, staff_editor, editor_reviewer):
    version = make_draft(by=staff_editor)
    services.policy_submit(version=version, by=editor_reviewer)

    with pytest.raises(ApplicationError) as caught:
        services.policy_approve(version=version, by=editor_reviewer)

    assert caught.value.code == "self_review_forbidden"


def test_enterprise_user_may_do_nothing(make_draft, alice, staff_editor, staff_reviewer):
    with pytest.raises(ApplicationError) as caught:
        services.policy_create(by=alice, key="alice-policy", title="x")
    assert caught.value.code == "policy_editor_required" and caught.value.http_status == 403

    version = make_draft()
    for service in (services.policy_submit, services.policy_approve, services.policy_publish):
        with pytest.raises(ApplicationError) as caught:
            service(version=version, by=alice)
        assert caught.value.http_status == 403
    with pytest.raises(ApplicationError):
        services.policy_version_update(version=version, by=alice, title="改名")
    version.refresh_from_db()
    assert version.status == Status.DRAFT and version.title != "改名"


def test_editor_may_not_review_and_reviewer_may_not_write(make_draft, staff_editor, staff_reviewer):
    with pytest.raises(ApplicationError) as caught:
        make_draft(by=staff_reviewer)
    assert caught.value.code == "policy_editor_required"

    version = make_draft()
    with pytest.raises(ApplicationError) as caught:
        services.policy_submit(version=version, by=staff_reviewer)
    assert caught.value.code == "policy_editor_required"

    services.policy_submit(version=version, by=staff_editor)
    for service in (services.policy_approve, services.policy_publish):
        with pytest.raises(ApplicationError) as caught:
            service(version=version, by=staff_editor)
        assert caught.value.code == "reviewer_required"


def test_publish_needs_approval_first(make_draft, staff_editor, staff_reviewer):
    version = make_draft()
    with pytest.raises(ApplicationError) as caught:
        services.policy_publish(version=version, by=staff_reviewer)
    assert caught.value.code == "invalid_status"

    services.policy_submit(version=version, by=staff_editor)
    with pytest.raises(ApplicationError) as caught:
        services.policy_publish(version=version, by=staff_reviewer)
    assert caught.value.code == "not_approved"
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW


def test_reject_sends_back_to_draft_with_a_reason(make_draft, staff_editor, staff_reviewer):
    version = make_draft()
    services.policy_submit(version=version, by=staff_editor)
    services.policy_approve(version=version, by=staff_reviewer)

    with pytest.raises(ValidationError):
        services.policy_reject(version=version, by=staff_reviewer, comment=" ")
    services.policy_reject(version=version, by=staff_reviewer, comment="金额需注明示例")

    version.refresh_from_db()
    assert version.status == Status.DRAFT and version.approved_by is None
    assert actions(version)[-1] == ("reject", "in_review", "draft", staff_reviewer.username)
    # Back in draft it is editable again and goes through review again.
    services.policy_version_update(version=version, by=staff_editor, amount_note="示例金额")
    services.policy_submit(version=version, by=staff_editor)
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW and version.amount_note == "示例金额"


def test_submitted_versions_are_immutable(make_draft, staff_editor):
    version = make_draft()
    services.policy_submit(version=version, by=staff_editor)

    with pytest.raises(ApplicationError) as caught:
        services.policy_version_update(version=version, by=staff_editor, title="改名")
    assert caught.value.code == "version_locked"
    with pytest.raises(ApplicationError) as caught:
        services.golden_case_create(version=version, by=staff_editor, name="新案例", profile={}, expected="needs_info")
    assert caught.value.code == "version_locked"


def test_publish_requires_a_responsible_person(make_draft, staff_editor, staff_reviewer):
    version = make_draft(contact_phone="")
    with pytest.raises(ApplicationError) as caught:
        services.policy_submit(version=version, by=staff_editor)
    assert caught.value.code == "contact_required" and caught.value.field == "contact_phone"

    # Even a version that reached review without one (e.g. older data) is not published.
    PolicyVersion.objects.filter(pk=version.pk).update(status=Status.IN_REVIEW, approved_by=staff_reviewer)
    with pytest.raises(ApplicationError) as caught:
        services.policy_publish(version=version, by=staff_reviewer)
    assert caught.value.code == "contact_required"


def test_retire_takes_a_published_version_out(
    make_draft, publish, staff_reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    version = publish(make_draft())
    retired: list[int] = []
    monkeypatch.setitem(events.HANDLERS, events.POLICY_RETIRED.name, [lambda *, version_id: retired.append(version_id)])

    with pytest.raises(ValidationError):
        services.policy_retire(version=version, by=staff_reviewer, comment="")
    with django_capture_on_commit_callbacks(execute=True):
        services.policy_retire(version=version, by=staff_reviewer, comment="政策到期前停止执行")

    version.refresh_from_db()
    assert version.status == Status.RETIRED and version.retired_at is not None
    assert version.policy.current_published is None
    assert retired == [version.pk]
    with pytest.raises(ApplicationError) as caught:
        services.policy_retire(version=version, by=staff_reviewer, comment="再次停用")
    assert caught.value.code == "invalid_status"


def test_publish_calls_the_hook_once_after_commit(
    make_draft, staff_editor, staff_reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    version = make_draft()
    services.policy_submit(version=version, by=staff_editor)
    services.policy_approve(version=version, by=staff_reviewer)
    published: list[int] = []
    monkeypatch.setitem(
        events.HANDLERS, events.POLICY_PUBLISHED.name, [lambda *, version_id: published.append(version_id)]
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.policy_publish(version=version, by=staff_reviewer)
    assert published == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert published == [version.pk]


def test_refused_publish_calls_no_hook(make_draft, staff_reviewer, monkeypatch, django_capture_on_commit_callbacks):
    version = make_draft()
    published: list[int] = []
    monkeypatch.setitem(
        events.HANDLERS, events.POLICY_PUBLISHED.name, [lambda *, version_id: published.append(version_id)]
    )

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError):
        services.policy_publish(version=version, by=staff_reviewer)

    assert published == []


def test_create_refuses_an_invalid_rule_naming_the_node(staff_editor):
    from tests.policies.conftest import version_content

    bad = {"all": [{"fact": "industry", "op": "under", "value": ["65"]}, {"fact": "size", "op": "gte", "value": 3}]}
    with pytest.raises(ValidationError) as caught:
        services.policy_create(by=staff_editor, key="bad-rule", **version_content(rule=bad))

    assert "rule.all[1].op" in caught.value.error_dict
    assert caught.value.error_dict["rule.all[1].op"][0].code == "operator_not_allowed"
    assert not PolicyVersion.objects.filter(policy__key="bad-rule").exists()


def test_create_refuses_a_duplicate_key_and_unknown_chain(make_draft, staff_editor):
    from tests.policies.conftest import version_content

    version = make_draft()
    with pytest.raises(ValidationError) as caught:
        services.policy_create(by=staff_editor, key=version.policy.key, **version_content())
    assert caught.value.error_dict["key"][0].code == "unique"
    with pytest.raises(ValidationError) as caught:
        services.policy_create(by=staff_editor, key="new-key", **version_content(chains=["nonsense"]))
    assert "chains" in caught.value.error_dict
