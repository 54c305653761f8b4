"""Contests of automated decisions over REST (compliance officers): receive one, read them soonest due first,
extend a deadline. The review of the contested decision decides the contest."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api import serializers as s
from governance.models import Contest
from governance.permissions import CONTEST_OFFICERS
from governance.services import contests
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS


@extend_schema_view(
    list=extend_schema(summary="Contests of automated decisions, soonest due first"),
    retrieve=extend_schema(summary="One contest", responses={200: s.ContestSerializer, **ERRORS}),
)
class ContestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Contest.objects.select_related("project", "review_item").order_by("due_at", "id")
    serializer_class = s.ContestSerializer
    filterset_fields = ["status", "reference", "model_version"]
    read_roles = CONTEST_OFFICERS
    write_roles = CONTEST_OFFICERS

    def _answer(self, contest, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=contest.pk)).data, status=code)

    @extend_schema(
        summary="Receive a contest (GDPR Art. 22(3)): the decision heads the review queue; due in one month",
        request=s.ContestCreateSerializer,
        responses={201: s.ContestSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        payload = s.ContestCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        created = contests.contest_receive(actor=self.actor, **payload.validated_data)
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Extend the deadline by one or two further months, with the reason (GDPR Art. 12(3))",
        request=s.ErasureExtendSerializer,
        responses={200: s.ContestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        payload = s.ErasureExtendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        contest = contests.contest_extend(actor=self.actor, contest=self.get_object(), **payload.validated_data)
        return self._answer(contest)
