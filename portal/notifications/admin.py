"""Admin for notifications: read-mostly views of the inbox, the outbox and the SMS log; webhook endpoints."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from portal.api.exceptions import ApplicationError

from .models import ChannelPreference, Delivery, Notification, SmsMessage, WebhookEndpoint
from .services import webhook_url_validate


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "enterprise", "created_at")
    list_filter = ("kind",)
    search_fields = ("title", "dedupe_key", "enterprise__name", "enterprise__credit_code")
    raw_id_fields = ("enterprise",)
    readonly_fields = ("created_at",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "address", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("address", "provider_message_id")
    raw_id_fields = ("notification", "user", "endpoint", "retried_by")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:  # outbox rows are written by the services only
        return False


class WebhookEndpointForm(forms.ModelForm):
    # A URL typed without a scheme is read as https (Django 6's default), never plain http.
    url = forms.URLField(label="接收地址", max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("enterprise", "url", "description", "active")

    def clean_url(self) -> str:
        # The same check as the API and the pages: the admin is no way around it.
        try:
            return webhook_url_validate(self.cleaned_data.get("url", ""))
        except ApplicationError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "enterprise", "active", "created_at")
    list_filter = ("active",)
    raw_id_fields = ("enterprise",)


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_enabled", "sms_enabled", "phone")
    raw_id_fields = ("user",)


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("phone", "text", "delivery_id", "created_at")
    search_fields = ("phone",)
    readonly_fields = ("delivery_id", "phone", "text", "created_at")
