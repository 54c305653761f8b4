"""Prompts: templates (added through prompt_create, labels moved through prompt_label_move) with their version
history and the diff of two versions; versions, immutable and read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Prefetch
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from llmops.admin.display import label_badge, labels_html, version_content
from llmops.models import (
    PromptLabel,
    PromptTemplate,
    PromptVersion,
)
from llmops.permissions import PROMPT_AUTHORS
from llmops.presenters.content import diff_url, versions_url
from llmops.presenters.prompts import prompt_diff, prompt_history
from llmops.services import prompts
from registry.admin.kit import (
    EMPTY,
    InProjectFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    ServiceCreateAdmin,
    admin_actor,
    admin_url,
    apply_service_error,
    link,
    plural,
    pretty_json,
    short_hash,
)
from registry.errors import ServiceError


class PromptTemplateForm(forms.ModelForm):
    class Meta:
        model = PromptTemplate
        fields = ["project", "name", "description"]


class DiffForm(forms.Form):
    a = forms.TypedChoiceField(label="From version", coerce=int)
    b = forms.TypedChoiceField(label="To version", coerce=int)

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (v.version, f"v{v.version}" + (f" · {Truncator(v.commit_message).chars(60)}" if v.commit_message else ""))
            for v in versions
        ]
        self.fields["a"].choices = self.fields["b"].choices = choices


class LabelMoveForm(forms.Form):
    label = forms.CharField(
        max_length=64,
        widget=forms.TextInput(attrs={"list": "label-names", "autocomplete": "off", "size": 24}),
        help_text="production, staging or any name: lowercase letters, digits, dot, dash and underscore. "
        "A new name creates the label.",
    )
    version = forms.TypedChoiceField(label="Point it at", coerce=int)

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [
            (v.version, f"v{v.version}" + (f" · {Truncator(v.commit_message).chars(60)}" if v.commit_message else ""))
            for v in versions
        ]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(ServiceCreateAdmin):
    """Prompt templates. Added here through prompt_create (data scientists); an existing prompt's page shows
    its versions (immutable, registered through the API), its labels and every move of them. Labels are moved
    on a page of their own through prompt_label_move, by data scientists of the prompt's project."""

    write_roles = PROMPT_AUTHORS
    form = PromptTemplateForm
    change_form_template = "admin/llmops/prompttemplate/change_form.html"
    list_display = ["name", "project", "latest", "labels_display", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at_utc", "created_by", "labels_display", "latest"]
    actions = ["move_label"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "name", "description"]
        return ["name", "project", "description", "latest", "labels_display", "created_at_utc", "created_by"]

    def get_queryset(self, request):
        labels = PromptLabel.objects.select_related("version").order_by("name")
        return (
            super()
            .get_queryset(request)
            .select_related("project", "created_by_user", "created_by_key__project")
            .annotate(latest_version=Max("versions__version"), version_count=Count("versions"))
            .prefetch_related(Prefetch("labels", queryset=labels))
        )

    def service_create(self, request, data):
        return prompts.prompt_create(
            actor=admin_actor(request), project=data["project"], name=data["name"], description=data["description"]
        )

    @admin.display(description="latest version", ordering="latest_version")
    def latest(self, obj):
        if not getattr(obj, "latest_version", None):
            return format_html('<span class="text-muted">{}</span>', "no version yet")
        return format_html(
            '<a href="{}">v{}</a> <span class="text-muted">({})</span>',
            versions_url(obj.pk),
            obj.latest_version,
            plural(obj.version_count, "version"),
        )

    @admin.display(description="labels")
    def labels_display(self, obj):
        return labels_html(obj.labels.all()) or EMPTY

    # Who may move labels: data scientists of the prompt's project, as in the API

    def may_move_label(self, request, obj: PromptTemplate | None = None) -> bool:
        if not self.has_view_permission(request, obj):
            return False
        actor = admin_actor(request)
        return actor.can(PROMPT_AUTHORS, obj.project_id) if obj is not None else actor.has_any_role(PROMPT_AUTHORS)

    def has_move_label_permission(self, request) -> bool:
        return self.may_move_label(request)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/diff/", self.admin_site.admin_view(self.diff_view), name="{}_{}_diff".format(*info)),
            path(
                "<path:object_id>/move-label/",
                self.admin_site.admin_view(self.move_label_view),
                name="{}_{}_move_label".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        template = self.get_object(request, unquote(object_id))
        if template is not None and self.has_view_or_change_permission(request, template):
            extra["prompt"] = prompt_history(template)
            extra["move_label_url"] = (
                reverse("admin:llmops_prompttemplate_move_label", args=[template.pk])
                if self.may_move_label(request, template)
                else None
            )
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description="Move a label of the selected prompt…", permissions=["move_label"])
    def move_label(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            messages.warning(request, "Select one prompt: labels are moved one prompt at a time.")
            return None
        return HttpResponseRedirect(reverse("admin:llmops_prompttemplate_move_label", args=[chosen[0].pk]))

    def _page(self, request, template: PromptTemplate, name: str, title: str, context: dict):
        return self.render_page(
            request,
            f"admin/llmops/prompttemplate/{name}.html",
            title=title,
            original=template,
            change_url=admin_url(template),
            **context,
        )

    def diff_view(self, request, object_id):
        template = self.get_object(request, unquote(object_id))
        if template is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, template):
            raise PermissionDenied
        versions = list(template.versions.order_by("-version"))
        by_number = {v.version: v for v in versions}
        data = request.GET if "a" in request.GET or "b" in request.GET else None
        initial = {}
        if versions:
            initial = {"a": versions[1].version if len(versions) > 1 else versions[0].version, "b": versions[0].version}
        form = DiffForm(data or initial, versions=versions)
        diff = None
        if versions and form.is_valid():
            a, b = by_number[form.cleaned_data["a"]], by_number[form.cleaned_data["b"]]
            diff = prompt_diff(a, b)
        return self._page(
            request,
            template,
            "diff",
            f"Compare versions of {template.name}",
            {"form": form, "diff": diff, "has_versions": bool(versions)},
        )

    def move_label_view(self, request, object_id):
        template = self.get_object(request, unquote(object_id))
        if template is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may_move_label(request, template):
            raise PermissionDenied
        versions = list(template.versions.order_by("-version"))
        labels = list(template.labels.all())
        initial = {"version": versions[0].version} if versions else {}
        if request.GET.get("version", "").isdigit():
            initial["version"] = int(request.GET["version"])
        if request.GET.get("label"):
            initial["label"] = request.GET["label"]
        form = LabelMoveForm(request.POST if request.method == "POST" else None, versions=versions, initial=initial)
        if form.is_bound and form.is_valid():
            name = form.cleaned_data["label"].strip()
            version = next(v for v in versions if v.version == form.cleaned_data["version"])
            before = next((label.version.version for label in labels if label.name == name), None)
            try:
                prompts.prompt_label_move(actor=admin_actor(request), template=template, name=name, version=version)
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                if before == version.version:
                    messages.info(request, f"{template.name}: {name} already points at v{version.version}.")
                elif before is None:
                    messages.success(request, f"{template.name}: new label {name} points at v{version.version}.")
                else:
                    messages.success(request, f"{template.name}: {name} moved from v{before} to v{version.version}.")
                return HttpResponseRedirect(admin_url(template))
        return self._page(
            request,
            template,
            "move_label",
            f"Move a label of {template.name}",
            {"form": form, "labels": labels, "has_versions": bool(versions)},
        )


@admin.register(PromptVersion)
class PromptVersionAdmin(ReadOnlyAdmin):
    """Prompt versions are immutable (the database refuses updates): never added, changed or deleted here,
    superusers included. They are registered through the API."""

    list_display = ["name", "project", "kind", "model", "commit", "labels_display", "hash", "created", "author"]
    list_display_links = ["name"]
    list_select_related = ["template", "project", "created_by_user", "created_by_key__project"]
    list_filter = [("template", InProjectFilter), "kind", ("project", ProjectFilter)]
    search_fields = ["template__name", "commit_message", "=content_sha256"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {"fields": ["template_link", "version", "labels_display", "commit_message", "author", "created_at_utc"]},
        ),
        ("Content", {"fields": ["kind", "model", "content_display", "variables_display", "parameters_display"]}),
        ("Use", {"fields": ["compare", "calls_link", "runs_display"]}),
        ("Record", {"fields": ["project", "content_hash"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "template_link",
        "labels_display",
        "author",
        "content_display",
        "variables_display",
        "parameters_display",
        "compare",
        "calls_link",
        "runs_display",
        "content_hash",
    ]

    def get_queryset(self, request):
        labels = PromptLabel.objects.select_related("version").order_by("name")
        return (
            super()
            .get_queryset(request)
            .select_related("template", "project", "created_by_user", "created_by_key__project")
            .prefetch_related(Prefetch("labels", queryset=labels))
        )

    @admin.display(description="prompt version", ordering="template__name")
    def name(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj)

    @admin.display(description="commit message")
    def commit(self, obj):
        return Truncator(obj.commit_message).chars(70) or EMPTY

    @admin.display(description="labels")
    def labels_display(self, obj):
        return format_html_join(" ", "{}", ((label_badge(label.name),) for label in obj.labels.all())) or EMPTY

    @admin.display(description="content hash")
    def hash(self, obj):
        return short_hash(obj.content_sha256)

    @admin.display(description="content SHA-256")
    def content_hash(self, obj):
        return format_html("<code>{}</code>", obj.content_sha256)

    @admin.display(description="author")
    def author(self, obj):
        return obj.created_by

    @admin.display(description="prompt")
    def template_link(self, obj):
        return link(obj.template)

    @admin.display(description="content")
    def content_display(self, obj):
        return version_content(obj)

    @admin.display(description="variables")
    def variables_display(self, obj):
        return format_html_join(", ", "<code>{}</code>", ((name,) for name in obj.variables)) or EMPTY

    @admin.display(description="model parameters")
    def parameters_display(self, obj):
        return pretty_json(obj.parameters)

    @admin.display(description="changes")
    def compare(self, obj):
        previous = obj.template.versions.filter(version__lt=obj.version).order_by("-version").first()
        if previous is None:
            return "the first version"
        return format_html(
            '<a href="{}">Diff from v{} to v{}</a>',
            diff_url(obj.template_id, previous.version, obj.version),
            previous.version,
            obj.version,
        )

    @admin.display(description="LLM calls")
    def calls_link(self, obj):
        url = (
            reverse("admin:llmops_llmcall_changelist")
            + "?"
            + urlencode({"prompt_version__template__id__exact": obj.template_id, "prompt_version": obj.pk})
        )
        return format_html('<a href="{}">{}</a>', url, plural(obj.calls.count(), "call"))

    @admin.display(description="evaluation runs")
    def runs_display(self, obj):
        runs = obj.evaluation_runs.select_related("dataset").order_by("-created_at")
        return (
            format_html_join(
                ", ", '<a href="{}">run #{}</a> on {}', ((admin_url(run), run.pk, run.dataset.name) for run in runs)
            )
            or EMPTY
        )
