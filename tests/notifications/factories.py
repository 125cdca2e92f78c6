"""Factories for notification models (enterprises and users come from tests/enterprises/factories.py)."""

from __future__ import annotations

import factory

from portal.notifications.models import ChannelPreference, Notification, WebhookEndpoint
from tests.enterprises.factories import EnterpriseFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = Notification.Kind.MAY_APPLY
    dedupe_key = factory.Sequence(lambda n: f"pv{n}:may_apply")
    title = factory.Sequence(lambda n: f"您的企业可申报示例政策{n}（示例）")
    body = "请在申报截止前提交材料。（示例数据）"
    link = "/policies/1/"


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    enterprise = factory.SubFactory(EnterpriseFactory)
    url = "https://hooks.example.com/huiqi"


class ChannelPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelPreference

    email_enabled = True
    sms_enabled = False
    phone = ""
