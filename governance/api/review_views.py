"""Human review of decisions over REST: the queue, a verdict on one decision, reviews done elsewhere in bulk, and
the queue's summary with each model version's override rate."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api import serializers as s
from governance.models import Decision, ReviewItem
from governance.permissions import REVIEW_IMPORTERS, REVIEW_READERS, REVIEWERS
from governance.queries.reviews import review_queue_summary
from governance.services import reviews
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS


class ReviewItemFilter(django_filters.FilterSet):
    open = django_filters.BooleanFilter(method="filter_open", label="only the items still waiting for a person")

    class Meta:
        model = ReviewItem
        fields = ["status", "model_version", "request_id", "open"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=ReviewItem.OPEN) if value else queryset.exclude(status__in=ReviewItem.OPEN)


@extend_schema_view(
    list=extend_schema(summary="The review queue: contested first, then oldest first"),
    retrieve=extend_schema(
        summary="One queued decision, what the model decided and its reviews",
        responses={200: s.ReviewItemSerializer, **ERRORS},
    ),
)
class ReviewItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = ReviewItem.objects.select_related("project").prefetch_related(
        "reviews__reviewer_user", "reviews__reviewer_key"
    )
    serializer_class = s.ReviewItemSerializer
    filterset_class = ReviewItemFilter
    read_roles = REVIEW_READERS
    write_roles = REVIEWERS
    action_roles = {"review": REVIEWERS, "bulk": REVIEW_IMPORTERS}

    def _with_decisions(self, items) -> dict:
        """The items' decisions, read by (id, occurred_at): one query for a page."""
        items = list(items)
        ids = {item.decision_id for item in items}
        rows = Decision.objects.filter(pk__in=ids, occurred_at__in={item.decision_occurred_at for item in items})
        return {decision.pk: decision for decision in rows}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        items = page if page is not None else list(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "decisions": self._with_decisions(items)}
        data = s.ReviewItemSerializer(items, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        return self._answer(item)

    def _answer(self, item):
        item = self.get_queryset().get(pk=item.pk)
        context = {**self.get_serializer_context(), "decisions": self._with_decisions([item])}
        return Response(s.ReviewItemSerializer(item, context=context).data)

    @extend_schema(
        summary="Record a verdict: confirm, override (with the final decision) or escalate, with a reason",
        request=s.ReviewInputSerializer,
        responses={200: s.ReviewItemSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        item = self.get_object()
        payload = s.ReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        reviews.review_record(
            actor=self.actor,
            item=item,
            verdict=data["verdict"],
            reason=data["reason"],
            final_decision=data.get("final_decision"),
        )
        return self._answer(item)

    @extend_schema(
        summary="Import reviews done in another system (idempotent on external_id)",
        request=s.ReviewImportSerializer,
        responses={200: s.ReviewImportResultSerializer, **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        if not isinstance(request.data, dict) or "reviews" not in request.data:
            raise serializers.ValidationError({"reviews": ["is required"]})
        result = reviews.reviews_import(actor=self.actor, items=request.data["reviews"])
        return Response({"accepted": result.accepted, "duplicates": result.duplicates})

    @extend_schema(
        summary="The queue's size, its oldest item, and each model version's override rate",
        responses={200: s.ReviewQueueSummarySerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def summary(self, request):
        summary = review_queue_summary(project_ids=self.scope(), now=timezone.now())
        return Response(s.ReviewQueueSummarySerializer(summary).data)
