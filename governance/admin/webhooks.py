"""Webhooks and their deliveries, read-only (made through the API, sent by governance.services.alerts)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator

from governance.models import (
    Webhook,
    WebhookDelivery,
)
from registry.admin.kit import (
    EMPTY,
    ProjectFilter,
    ReadOnlyAdmin,
    choice_badge,
    link,
    pretty_json,
    when,
)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    """Webhooks, read-only here (made through the API). The secret is never shown: only the fields below."""

    list_display = ["url", "project", "event_list", "active", "created"]
    list_filter = ["active", ("project", ProjectFilter)]
    list_select_related = ["project"]
    fields = ["project", "url", "event_list", "active", "created_at_utc"]
    readonly_fields = ["event_list"]
    exclude = ["secret"]

    @admin.display(description="events")
    def event_list(self, obj):
        events = obj.events or []
        return "all" if "*" in events else ", ".join(str(e) for e in events) or EMPTY


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Alerts sent to webhooks, with the last attempt's outcome; read-only (governance.services.alerts sends them)."""

    project_path = "webhook__project"
    list_display = [
        "delivery",
        "webhook_url",
        "event_type",
        "status_badge",
        "attempts",
        "last_status_code",
        "last_error_short",
        "next_attempt",
        "delivered",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["webhook"]
    ordering = ["-created_at", "-id"]
    fields = [
        "webhook_link",
        "event_type",
        "status_badge",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt",
        "delivered",
        "created",
        "payload_display",
    ]
    readonly_fields = fields

    @admin.display(description="delivery", ordering="id")
    def delivery(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="webhook", ordering="webhook__url")
    def webhook_url(self, obj):
        return Truncator(obj.webhook.url).chars(60)

    @admin.display(description="webhook")
    def webhook_link(self, obj):
        return link(obj.webhook)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return choice_badge(WebhookDelivery.Status, obj.status)

    @admin.display(description="last error")
    def last_error_short(self, obj):
        return Truncator(obj.last_error).chars(80) if obj.last_error else EMPTY

    @admin.display(description="next attempt (UTC)", ordering="next_attempt_at")
    def next_attempt(self, obj):
        return when(obj.next_attempt_at, suffix=False) if obj.status == WebhookDelivery.Status.PENDING else EMPTY

    @admin.display(description="delivered (UTC)", ordering="delivered_at")
    def delivered(self, obj):
        return when(obj.delivered_at, suffix=False)

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, obj):
        return when(obj.created_at, suffix=False)

    @admin.display(description="payload")
    def payload_display(self, obj):
        return pretty_json(obj.payload)
