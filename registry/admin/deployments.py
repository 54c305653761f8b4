"""Admin of deployments: created through deployment_create (the gate decides), ended by an action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from registry import services
from registry.admin.kit import ProjectFilter, ServiceCreateAdmin, admin_actor, when
from registry.errors import ServiceError
from registry.models import Deployment


class LiveFilter(admin.SimpleListFilter):
    title = "live now"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        live = Q(ended_at__isnull=True) | Q(ended_at__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(live)
        if self.value() == "no":
            return queryset.exclude(live)
        return queryset


class DeploymentForm(forms.ModelForm):
    class Meta:
        model = Deployment
        fields = ["model_version", "environment", "strategy", "traffic_percent", "started_at", "ended_at"]


@admin.register(Deployment)
class DeploymentAdmin(ServiceCreateAdmin):
    form = DeploymentForm
    list_display = ["model_version", "project", "environment", "strategy", "traffic", "started", "ended"]
    list_select_related = ["model_version__model", "project"]
    list_filter = [LiveFilter, "environment", "strategy", ("project", ProjectFilter)]
    search_fields = ["environment", "model_version__model__name"]
    date_hierarchy = "started_at"
    readonly_fields = ["created_at_utc", "created_by"]
    actions = ["end_now"]

    def get_fields(self, request, obj=None):
        fields = list(DeploymentForm._meta.fields)
        return fields if obj is None else [*fields, "project", "created_at_utc", "created_by"]

    @admin.display(description="traffic", ordering="traffic_percent")
    def traffic(self, obj):
        return f"{obj.traffic_percent.normalize():f}%"

    @admin.display(description="started (UTC)", ordering="started_at")
    def started(self, obj):
        return when(obj.started_at, suffix=False)

    @admin.display(description="ended (UTC)", ordering="ended_at")
    def ended(self, obj):
        return when(obj.ended_at, suffix=False)

    def get_changeform_initial_data(self, request):
        return {"started_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def service_create(self, request, data):
        return services.deployment_create(
            actor=admin_actor(request),
            model_version=data["model_version"],
            environment=data["environment"],
            strategy=data["strategy"],
            traffic_percent=data["traffic_percent"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
        )

    @admin.action(description="End selected deployments now", permissions=["change"])
    def end_now(self, request, queryset):
        actor = admin_actor(request)
        for deployment in queryset.select_related("model_version__model").filter(ended_at__isnull=True):
            if not actor.can(self.write_roles, deployment.project_id):
                messages.error(request, f"{deployment}: your role in this project may not end deployments.")
                continue
            try:
                services.deployment_end(actor=actor, deployment=deployment)
            except ServiceError as exc:
                messages.error(request, f"{deployment}: {exc.message}")
            else:
                messages.success(request, f"{deployment}: ended.")
