"""The review queue: decisions waiting for a person (contested first, then oldest first) and, for each, a page of
its own where a reviewer confirms, overrides or escalates with a reason, from the keyboard, and goes on to the
next. Reviews themselves are append-only: listed read-only, never added, changed or deleted here."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from governance.models import Decision, Review, ReviewItem
from governance.presenters import reviews as presenters
from governance.presenters.common import choice_badge
from governance.services import reviews
from governance.templatetags import governance_admin as draw
from registry.admin.kit import EMPTY, ProjectFilter, ReadOnlyAdmin, admin_actor, json_scalar, link, when
from registry.errors import ServiceError


class OpenFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Waiting for a person"), ("no", "Reviewed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=ReviewItem.OPEN)
        if self.value() == "no":
            return queryset.exclude(status__in=ReviewItem.OPEN)
        return queryset


def parse_final(text: str) -> object:
    """A final decision as a person types it: JSON when it reads as a JSON scalar (1, true, "x"), else the text."""
    text = text.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (str, int, float, bool)) else text


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    """The queue. A reviewer opens an item, reads what the model decided and why it waits, and gives a verdict
    (governance.services.reviews.review_record, which checks the role, four eyes and the state again)."""

    list_display = ["item", "model_version", "prediction", "reasons_display", "status_display", "waiting"]
    list_display_links = ["item"]
    list_select_related = ["project", "model_version__model"]
    list_filter = [OpenFilter, "status", ("project", ProjectFilter)]
    search_fields = ["request_id"]
    search_help_text = "exact request id"
    ordering = ["-priority", "entered_at", "id"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(request_id=term), False) if term else (queryset, False)

    def changelist_view(self, request, extra_context=None):
        if not request.GET and not request.POST:  # the queue opens on what is waiting
            return HttpResponseRedirect(request.path + "?open=yes")
        self._predictions = {}
        return super().changelist_view(request, {**(extra_context or {}), "title": "Review queue"})

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        items = list(changelist.result_list)
        rows = Decision.objects.filter(
            pk__in={i.decision_id for i in items}, occurred_at__in={i.decision_occurred_at for i in items}
        ).values_list("pk", "prediction")
        self._predictions = dict(rows)  # one query for the page
        return changelist

    @admin.display(description="decision", ordering="-priority")
    def item(self, obj):
        if obj.priority:  # a contested decision heads the queue, and says so
            badge = format_html('<span class="badge badge-danger">{}</span>', "contested")
            return format_html('<span class="nowrap">{} {}</span>', obj.request_id, badge)
        return format_html('<span class="nowrap">{}</span>', obj.request_id)

    @admin.display(description="prediction")
    def prediction(self, obj):
        predictions = getattr(self, "_predictions", {})
        return json_scalar(predictions[obj.decision_id]) if obj.decision_id in predictions else EMPTY

    @admin.display(description="why")
    def reasons_display(self, obj):
        return ", ".join(presenters.REASON_LABELS.get(r, r) for r in obj.reasons)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return draw.badge(choice_badge(ReviewItem.Status, obj.status))

    @admin.display(description="waiting", ordering="entered_at")
    def waiting(self, obj):
        if not obj.is_open:
            return EMPTY
        return presenters.waiting(obj.entered_at, timezone.now())

    # The review page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self.get_object(request, unquote(object_id))
        if item is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, item):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        actor = admin_actor(request)
        error, reason, final_text = "", "", ""
        if request.method == "POST":
            reason = request.POST.get("reason", "")
            final_text = request.POST.get("final_decision", "")
            try:
                reviews.review_record(
                    actor=actor,
                    item=item,
                    verdict=request.POST.get("verdict", ""),
                    reason=reason,
                    final_decision=parse_final(final_text) if request.POST.get("verdict") == "overridden" else None,
                )
            except ServiceError as exc:
                details = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in (exc.fields or {}).items())
                error = f"{exc.message}{' (' + details + ')' if details else ''}"
            else:
                item.refresh_from_db()
                messages.success(request, f"{item}: recorded.")
                following = self._next(request, item)
                return HttpResponseRedirect(following or reverse("admin:governance_reviewitem_changelist"))
        decision = Decision.objects.filter(pk=item.decision_id, occurred_at=item.decision_occurred_at).first()
        history = list(
            Review.objects.filter(item=item).select_related("reviewer_user", "reviewer_key").order_by("reviewed_at")
        )
        page = presenters.review_page(item, decision, history, actor, timezone.now())
        return self.render_page(
            request,
            "admin/governance/reviewitem/review.html",
            title=f"Review of {item.request_id}",
            item=item,
            page=page,
            error=error,
            reason=reason,
            final_decision=final_text,
            needs_final=any(b["needs_final"] for b in page["buttons"]),
            model_version={"label": str(item.model_version), "url": self._url(item.model_version)},
            decision_url=reverse("admin:governance_decision_change", args=[item.decision_id]),
            next_url=self._next(request, item),
            open_count=self.get_queryset(request).filter(status__in=ReviewItem.OPEN).count(),
        )

    def _url(self, obj) -> str:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])

    def _next(self, request, item: ReviewItem) -> str | None:
        """The next open item of the queue after this one, in the queue's order."""
        following = (
            self.get_queryset(request)
            .filter(status__in=ReviewItem.OPEN)
            .exclude(pk=item.pk)
            .order_by("-priority", "entered_at", "id")
            .first()
        )
        return self._url(following) if following is not None else None


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    """Every review, append-only: who said what about which decision, and why."""

    list_display = ["review", "verdict", "final", "reviewer_display", "source", "reviewed"]
    list_select_related = ["item", "reviewer_user", "reviewer_key"]
    list_filter = ["verdict", "source", ("project", ProjectFilter)]
    ordering = ["-reviewed_at", "-id"]
    readonly_fields = [
        "item_link",
        "verdict",
        "final",
        "reason",
        "reviewer_display",
        "source",
        "external_id",
        "reviewed",
    ]
    fields = readonly_fields

    @admin.display(description="review")
    def review(self, obj):
        return str(obj)

    @admin.display(description="queue item")
    def item_link(self, obj):
        return link(obj.item)

    @admin.display(description="final decision")
    def final(self, obj):
        return json_scalar(obj.final_decision) if obj.final_decision is not None else EMPTY

    @admin.display(description="reviewer")
    def reviewer_display(self, obj):
        return obj.reviewer

    @admin.display(description="reviewed (UTC)", ordering="reviewed_at")
    def reviewed(self, obj):
        return when(obj.reviewed_at, suffix=False)
