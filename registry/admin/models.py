"""Admin of models, model versions and their stage transitions. A version's page is read-only; its stage moves
by the transition action or the version's own "Change stage" page, both calling model_version_transition."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html
from django.utils.text import Truncator

from registry import hooks, services
from registry.admin.kit import (
    EMPTY,
    InProjectFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceCreateAdmin,
    VersionCountMixin,
    admin_actor,
    admin_url,
    apply_service_error,
    as_get,
    choice_badge,
    link,
    pretty_json,
    service_error_text,
    when,
)
from registry.errors import ServiceError
from registry.models import Model, ModelAlias, ModelAliasMove, ModelVersion, Stage, StageTransition
from registry.permissions import CARD_EDITORS, TRANSITIONERS


class ModelVersionInline(ReadOnlyInline):
    model = ModelVersion
    fk_name = "model"
    fields = ["version_link", "stage", "framework", "run", "created"]
    readonly_fields = fields
    verbose_name_plural = "versions"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model", "run")

    @admin.display(description="version")
    def version_link(self, obj):
        return link(obj, f"v{obj.version}")


class ModelAliasInline(ReadOnlyInline):
    model = ModelAlias
    fields = ["name", "version_link", "updated_at"]
    readonly_fields = fields
    verbose_name = "alias"
    verbose_name_plural = "aliases (where each points now)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model_version")

    @admin.display(description="version")
    def version_link(self, obj):
        return link(obj.model_version, f"v{obj.model_version.version}")


class ModelAliasMoveInline(ReadOnlyInline):
    model = ModelAliasMove
    fields = ["name", "from_v", "to_v", "protected", "transition_link", "created_by", "created"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    verbose_name = "alias move"
    verbose_name_plural = "alias history (newest first; a protected alias's move is a promotion through the gate)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("from_version", "to_version", "transition", "created_by_user", "created_by_key")
        )

    @admin.display(description="from")
    def from_v(self, obj):
        return link(obj.from_version, f"v{obj.from_version.version}") if obj.from_version_id else EMPTY

    @admin.display(description="to")
    def to_v(self, obj):
        return link(obj.to_version, f"v{obj.to_version.version}")

    @admin.display(description="stage transition")
    def transition_link(self, obj):
        return (
            link(obj.transition, f"{obj.transition.from_stage} → {obj.transition.to_stage}")
            if obj.transition_id
            else EMPTY
        )


@admin.register(ModelAliasMove)
class ModelAliasMoveAdmin(ReadOnlyAdmin):
    project_path = "model__project"
    list_display = ["model", "name", "from_version", "to_version", "protected", "transition", "created"]
    list_select_related = [
        "model__project",
        "from_version__model",
        "to_version__model",
        "transition__model_version__model",
    ]
    list_filter = ["protected", ("model__project", ProjectFilter)]
    search_fields = ["name", "model__name"]


class ModelForm(forms.ModelForm):
    class Meta:
        model = Model
        fields = ["project", "name", "risk_tier", "description"]


@admin.register(Model)
class ModelAdmin(VersionCountMixin, ServiceCreateAdmin):
    form = ModelForm
    list_display = ["name", "project", "risk_tier", "version_count", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter), "risk_tier"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at_utc", "created_by"]
    inlines = [ModelVersionInline, ModelAliasInline, ModelAliasMoveInline]

    def get_fields(self, request, obj=None):
        fields = ["project", "name", "risk_tier", "description"]
        return fields if obj is None else [*fields, "created_at_utc", "created_by"]

    def service_create(self, request, data):
        return services.model_create(
            actor=admin_actor(request),
            project=data["project"],
            name=data["name"],
            risk_tier=data["risk_tier"],
            description=data["description"],
        )


class StageTransitionForm(forms.Form):
    to_stage = forms.ChoiceField(label="New stage", choices=Stage.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="Recorded with the stage transition, under your name.",
    )

    def __init__(self, *args, stages: Iterable[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        offered = [(value, label) for value, label in Stage.choices if stages is None or value in stages]
        self.fields["to_stage"].choices = [("", "Choose a stage…"), *offered]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class StageTransitionInline(ReadOnlyInline):
    model = StageTransition
    fields = ["at", "from_stage", "to_stage", "reason", "requested_by", "approved_by"]
    readonly_fields = fields
    verbose_name_plural = "stage history"
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by_user", "created_by_key", "approved_by_user")

    @admin.display(description="when")
    def at(self, obj):
        return when(obj.created_at)

    @admin.display(description="requested by")
    def requested_by(self, obj):
        return obj.created_by_user or (f"key {obj.created_by_key.prefix}…" if obj.created_by_key_id else "system")

    @admin.display(description="approved by")
    def approved_by(self, obj):
        return obj.approved_by_user or EMPTY


class ModelCardForm(forms.Form):
    """The model card of a version page: what the promotion gate reads, editable until production."""

    intended_use = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="What the model is for, and for whom.",
    )
    limitations = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Where it must not be used, and what it was not tested on.",
    )
    risk_tier = forms.ChoiceField(
        choices=Model.RiskTier.choices, help_text="The model's: changing it changes it for every version."
    )


class ModelVersionForm(forms.ModelForm):
    class Meta:
        model = ModelVersion
        fields = ["model", "run", "artifact_uri", "artifact_sha256", "framework", "intended_use", "limitations"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ServiceCreateAdmin):
    """A version registered from a run. Its page is read-only; its stage moves by the transition action."""

    form = ModelVersionForm
    change_form_template = "admin/registry/modelversion/change_form.html"
    list_display = ["name", "model_project", "stage_display", "risk_tier", "run", "created"]
    list_select_related = ["model__project", "run"]
    list_filter = [
        "stage",
        ("project", ProjectFilter),
        ("model", InProjectFilter),
        "model__risk_tier",
        "framework",
    ]
    search_fields = ["model__name", "=artifact_sha256", "run__name", "framework"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "model_link",
        "run_link",
        "artifact",
        "artifact_hash",
        "stage_display",
        "risk_tier",
        "metrics_display",
        "signature_display",
        "created_by",
    ]
    inlines = [StageTransitionInline]
    actions = ["transition_stage"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ModelVersionForm._meta.fields})]
        return [
            (None, {"fields": ["model_link", "version", "stage_display", "risk_tier", "run_link", "framework"]}),
            ("Artifact", {"fields": ["artifact", "artifact_hash"]}),
            ("Model card", {"fields": ["intended_use", "limitations", "metrics_display", "signature_display"]}),
            ("Record", {"fields": ["project", "created_at_utc", "created_by"], "classes": ["collapse"]}),
        ]

    @admin.display(description="model version", ordering="model__name")
    def name(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj)

    @admin.display(description="project", ordering="model__project__slug")
    def model_project(self, obj):
        return obj.model.project.slug

    @admin.display(description="stage", ordering="stage")
    def stage_display(self, obj):
        return choice_badge(Stage, obj.stage)

    @admin.display(description="risk tier", ordering="model__risk_tier")
    def risk_tier(self, obj):
        return obj.model.risk_tier

    @admin.display(description="artifact URI")
    def artifact(self, obj):
        return obj.artifact_uri

    @admin.display(description="artifact SHA-256")
    def artifact_hash(self, obj):
        return format_html("<code>{}</code>", obj.artifact_sha256)

    @admin.display(description="model")
    def model_link(self, obj):
        return link(obj.model)

    @admin.display(description="run")
    def run_link(self, obj):
        return link(obj.run)

    @admin.display(description="metrics")
    def metrics_display(self, obj):
        return pretty_json(obj.metrics)

    @admin.display(description="input signature")
    def signature_display(self, obj):
        return pretty_json(obj.signature)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model__project", "run")

    def get_object(self, request, object_id, from_field=None):
        """Read once per request: the page's sections (card, gate, lineage) and the admin's form share it."""
        fetched = request.__dict__.setdefault("_model_version_objects", {})
        if (object_id, from_field) not in fetched:
            fetched[object_id, from_field] = super().get_object(request, object_id, from_field)
        return fetched[object_id, from_field]

    def service_create(self, request, data):
        return services.model_version_register(
            actor=admin_actor(request),
            model=data["model"],
            run=data["run"],
            artifact_uri=data["artifact_uri"],
            artifact_sha256=data["artifact_sha256"],
            framework=data["framework"],
            intended_use=data["intended_use"],
            limitations=data["limitations"],
        )

    # Stage transitions: an action with an intermediate page, and the same page for one version.

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            *super().get_urls(),
        ]

    def may_transition(self, request) -> bool:
        return self.has_change_permission(request) and admin_actor(request).has_any_role(TRANSITIONERS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_transition": self.may_transition(request), **(extra_context or {})}
        version = self.get_object(request, unquote(object_id))
        if version is not None:
            # frozen once it has been in production, or while an app above holds it (an open incident)
            refusals = hooks.change_refusals(admin_actor(request), version)
            extra["card_frozen"] = services.model_version_card_frozen(version) or "; ".join(refusals)
            if not extra["card_frozen"] and admin_actor(request).can(CARD_EDITORS, version.project_id):
                if request.method == "POST" and "_card" in request.POST:
                    form = ModelCardForm(request.POST, prefix="card")
                    if self._card_save(request, version, form):
                        return HttpResponseRedirect(admin_url(version))
                    request = as_get(request)  # the page again, with the refused card form
                else:
                    form = ModelCardForm(
                        prefix="card",
                        initial={
                            "intended_use": version.intended_use,
                            "limitations": version.limitations,
                            "risk_tier": version.model.risk_tier,
                        },
                    )
                extra["card_form"] = form
        return super().change_view(request, object_id, form_url, extra)

    def _card_save(self, request, version: ModelVersion, form: ModelCardForm) -> bool:
        if not form.is_valid():
            return False
        try:
            services.model_version_card_update(actor=admin_actor(request), model_version=version, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
            return False
        messages.success(request, f"{version}: model card saved.")
        return True

    @admin.action(description="Change stage of selected versions…", permissions=["change"])
    def transition_stage(self, request, queryset):
        versions = list(queryset.select_related("model__project").order_by("model__name", "-version"))
        if "apply" in request.POST:
            form = StageTransitionForm(request.POST)
            if form.is_valid():
                self._transition(request, versions, form.cleaned_data["to_stage"], form.cleaned_data["reason"])
                return None
        else:
            form = StageTransitionForm()
        return self._transition_page(request, versions, form, from_changelist=True)

    def transition_view(self, request, object_id):
        if not self.may_transition(request):
            raise PermissionDenied
        version = self.get_object(request, unquote(object_id))
        if version is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        stages = services.ALLOWED_TRANSITIONS[version.stage]
        if request.method == "POST":
            form = StageTransitionForm(request.POST, stages=stages)
            if form.is_valid():
                self._transition(request, [version], form.cleaned_data["to_stage"], form.cleaned_data["reason"])
                return HttpResponseRedirect(admin_url(version))
        else:
            form = StageTransitionForm(stages=stages)
        return self._transition_page(request, [version], form, from_changelist=False)

    def _transition_page(self, request, versions, form, *, from_changelist: bool):
        return self.render_page(
            request,
            "admin/registry/modelversion/transition.html",
            title="Change stage",
            form=form,
            versions=versions,
            rows=[
                (version, choice_badge(Stage, version.stage), sorted(services.ALLOWED_TRANSITIONS[version.stage]))
                for version in versions
            ],
            from_changelist=from_changelist,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )

    def _transition(self, request, versions, to_stage: str, reason: str) -> None:
        actor = admin_actor(request)
        for version in versions:
            if not actor.can(TRANSITIONERS, version.project_id):
                messages.error(request, f"{version}: your role in {version.model.project.slug} may not change stages.")
                continue
            before = version.stage
            try:
                services.model_version_transition(actor=actor, model_version=version, to_stage=to_stage, reason=reason)
            except ServiceError as exc:
                messages.error(request, f"{version}: {service_error_text(exc)}")
                continue
            messages.success(request, f"{version}: {before} → {version.stage}.")


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyAdmin):
    project_path = "model_version__project"
    list_display = ["model_version", "from_stage", "to_stage", "short_reason", "created_by", "created"]
    list_select_related = ["model_version__model", "created_by_user", "created_by_key__project"]
    list_filter = ["to_stage", "from_stage", ("model_version__model", InProjectFilter)]
    search_fields = ["model_version__model__name", "reason"]
    date_hierarchy = "created_at"
    fields = ["model_version", "from_stage", "to_stage", "reason", "checks_display", "created_at_utc", "created_by"]
    readonly_fields = ["checks_display", "created_by"]

    @admin.display(description="reason")
    def short_reason(self, obj):
        return Truncator(obj.reason).chars(80)

    @admin.display(description="gate checks")
    def checks_display(self, obj):
        return pretty_json(obj.checks)
