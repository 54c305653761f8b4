"""Building blocks shared by every API view: project scoping and scoped related fields."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from registry.actors import Actor
from registry.api.query import StrictQueryMixin
from registry.models import Project
from registry.permissions import REGISTRY_WRITERS, actor_of, allowed_roles


class ScopedQuerysetMixin:
    """Limits the queryset to the projects where the caller holds a role allowed for this action.

    Objects of other projects are invisible: a detail request for one answers 404.
    """

    project_lookup = "project_id"

    def scope(self) -> set[int] | None:
        return actor_of(self.request).project_ids(allowed_roles(self, self.request))

    def scope_queryset(self, queryset):
        ids = self.scope()
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.project_lookup}__in": ids})

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())

    @property
    def actor(self) -> Actor:
        return actor_of(self.request)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["write_scope"] = actor_of(self.request).project_ids(getattr(self, "write_roles", REGISTRY_WRITERS))
        return context


class ScopedViewSet(StrictQueryMixin, ScopedQuerysetMixin, viewsets.GenericViewSet):
    pass


def _write_scope(field: serializers.Field) -> set[int] | None:
    return field.context.get("write_scope")


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key the caller may write to; others read as "does not exist"."""

    def __init__(self, *, project_lookup: str = "project_id", **kwargs):
        self.project_lookup = project_lookup
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        scope = _write_scope(self)
        if scope is not None:
            queryset = queryset.filter(**{f"{self.project_lookup}__in": scope})
        return queryset


class ProjectField(serializers.SlugRelatedField):
    """A project by slug, limited to the caller's projects; defaults to the caller's only project."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault("queryset", Project.objects.all())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        scope = _write_scope(self)
        if scope is not None:
            queryset = queryset.filter(pk__in=scope)
        return queryset

    def validate_empty_values(self, data):
        if data is serializers.empty or data is None:
            scope = _write_scope(self)
            if scope is not None and len(scope) == 1:
                return True, Project.objects.get(pk=next(iter(scope)))
            self.fail("required")
        return super().validate_empty_values(data)


class ErrorSerializer(serializers.Serializer):
    """The shape of every 4xx body (for the OpenAPI schema)."""

    class _Error(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))

    error = _Error()
