"""The user who acts gets the page's message, not an unread item or an e-mail; colleagues get the notice."""

from __future__ import annotations

import pytest

from portal.applications import services
from portal.notifications.models import Delivery, Notification
from portal.notifications.selectors import notification_list, notification_unread_count

from .support import full_files

pytestmark = pytest.mark.django_db


def submit(user, version):
    return services.application_submit(
        enterprise=user.enterprise,
        version=version,
        by=user,
        contact_name="张敏",
        contact_phone="13912345678",
        files=full_files(),
    )


def test_the_submitter_has_no_unread_item_and_no_email_while_a_colleague_does(alice, bob, version) -> None:
    application = submit(alice, version)

    notice = Notification.objects.get(kind="application_update")
    assert notification_unread_count(user=alice) == 0
    assert notification_unread_count(user=bob) == 1
    # Alice still finds it in the enterprise's history, already read.
    assert [n.read_at is not None for n in notification_list(user=alice)] == [True]
    assert set(Delivery.objects.filter(notification=notice).values_list("user__username", flat=True)) == {"bob"}
    assert notice.link == f"/enterprises/{alice.enterprise.credit_code}/applications/{application.pk}/"
    assert notice.body == f"“{version.title}”的申报已提交，请等待受理。说明：企业在线提交申报。"

    services.application_withdraw(application=application, by=bob, reason="材料需要更新")

    withdrawn = Notification.objects.exclude(pk=notice.pk).get()
    assert withdrawn.body == f"“{version.title}”的申报已撤回。说明：材料需要更新。"
    assert notification_unread_count(user=bob) == 1  # only the submission: bob withdrew himself
    assert notification_unread_count(user=alice) == 1  # alice learns of bob's withdrawal


def test_staff_decisions_are_unread_for_every_user_of_the_enterprise(alice, bob, version, staff_reviewer) -> None:
    application = submit(alice, version)

    services.application_return(application=application, by=staff_reviewer, reason="请补充财务报表（示例）")

    returned = Notification.objects.get(dedupe_key__endswith=":returned")
    assert returned.body.endswith("说明：请补充财务报表（示例）。")
    assert returned.reads.count() == 0
    assert notification_unread_count(user=alice) == 1 and notification_unread_count(user=bob) == 2
