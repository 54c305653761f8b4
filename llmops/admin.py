"""Admin for LLMOps: prompts with their version history, label moves and diffs; LLM calls with their tokens
and cost; a cost dashboard; the price catalog; budgets with their state; evaluation datasets and runs, with
two runs compared item by item.

Every write goes through llmops.services: a prompt through prompt_create, a label move through
prompt_label_move (data scientists of the prompt's project), a budget through budget_create (compliance
officers), a price row through prices_import (superusers). Prompt versions, calls, prices once added and
evaluation runs are read-only for everyone, superusers included. As everywhere in admin, people see only the
records of the projects they are members of. Subject keys are never shown: whether a call is linked to a
subject is.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from llmops import charts, selectors
from llmops.models import (
    USAGE_CATEGORIES,
    Budget,
    BudgetAlert,
    CallScore,
    EvaluationDataset,
    EvaluationItem,
    EvaluationResult,
    EvaluationRun,
    LLMCall,
    Price,
    PromptLabel,
    PromptLabelMove,
    PromptTemplate,
    PromptVersion,
    RetrievedDocument,
)
from llmops.permissions import BUDGET_OFFICERS, PROMPT_AUTHORS
from llmops.services import budgets, evaluation, pricing, prompts
from registry.admin.kit import (
    EMPTY,
    SUPERUSERS_ONLY,
    ErasedFilter,
    InProjectFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceCreateAdmin,
    admin_actor,
    admin_url,
    apply_service_error,
    audit_trail_url,
    badge,
    choice_badge,
    count,
    link,
    member_scope,
    plural,
    pretty_json,
    short_hash,
    when,
)
from registry.errors import ServiceError
from registry.models import Project
from registry.tones import Tone

# Labels are free names: the two every team uses have tones of their own, any other is a plain dark grey.
LABEL_TONES = {"production": Tone.SUCCESS, "staging": Tone.WARNING}
# A budget's state (llmops.services.budgets.BudgetState.state) in the current period.
BUDGET_STATE_TONES = {"ok": Tone.SUCCESS, "warning": Tone.WARNING, "exceeded": Tone.DANGER}
CATEGORY_NAMES = {
    "input_uncached": "input (not cached)",
    "input_cache_read": "input read from the cache",
    "input_cache_write": "input written to the cache",
    "output": "output",
    "output_reasoning": "output: reasoning",
}
DASHBOARD_DAYS = 30
MAX_DASHBOARD_DAYS = 400


# Display helpers -----------------------------------------------------------------------------------


def label_badge(name: str, version: int | None = None):
    return badge(name if version is None else f"{name} → v{version}", LABEL_TONES.get(name, Tone.SECONDARY))


def labels_html(labels) -> str:
    return format_html_join(" ", "{}", ((label_badge(label.name, label.version.version),) for label in labels))


def money(value: Decimal | None, *, unpriced_badge: bool = True):
    """A cost with its exact value on hover, or a red "unpriced" badge (never $0)."""
    if value is None:
        return badge("unpriced", Tone.DANGER) if unpriced_badge else "unpriced"
    return format_html(
        '<span class="nowrap text-numeric" title="{}">{}</span>',
        charts.usd(value, exact=True),
        charts.usd(value),
    )


def price_text(value: Decimal) -> str:
    """A price per million tokens: $2.50, $0.075 (cents always shown, no trailing zeros past them)."""
    cents = value.quantize(Decimal("0.01"))
    return f"${cents:f}" if cents == value else f"${value.normalize():f}"


def per_million(value: Decimal | None, *, default: str = ""):
    if value is None:
        return format_html('<span class="text-muted">{}</span>', default) if default else EMPTY
    return format_html('<span class="text-numeric">{}</span>', price_text(value))


def highlighted(text: str):
    """Prompt text with its {{variables}} marked, every piece escaped."""
    pieces, last = [], 0
    for match in prompts.PLACEHOLDER.finditer(text):
        pieces.append(format_html("{}", text[last : match.start()]))
        pieces.append(format_html('<mark class="llm-var">{}</mark>', match.group(0)))
        last = match.end()
    pieces.append(format_html("{}", text[last:]))
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def content_text(content) -> str:
    """A chat message's content as text: a string as is, the text of a list of parts, else JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                kind = part.get("type", "part") if isinstance(part, dict) else "part"
                texts.append(f"[{kind}]")
        return "\n".join(texts)
    return json.dumps(content, ensure_ascii=False)


def messages_html(messages, *, highlight: bool = False):
    """Chat messages as a reader wants them: the role, then the text, line breaks kept."""
    rows = []
    for message in messages:
        role = str(message.get("role", "")) if isinstance(message, dict) else ""
        text = content_text(message.get("content") if isinstance(message, dict) else message)
        rows.append((role, highlighted(text) if highlight else text))
    body = format_html_join("", '<div class="llm-message"><span class="llm-role">{}</span><pre>{}</pre></div>', rows)
    return format_html('<div class="llm-messages">{}</div>', body)


def version_content(version: PromptVersion):
    if version.kind == PromptVersion.Kind.TEXT:
        return format_html('<div class="llm-messages"><pre>{}</pre></div>', highlighted(version.text))
    return messages_html(version.messages, highlight=True)


def variables_html(variables: dict, limit: int = 200):
    if not variables:
        return EMPTY
    return format_html_join(
        "",
        '<div class="llm-kv" title="{}"><strong>{}</strong>: {}</div>',
        (
            (Truncator(str(value)).chars(1000), name, Truncator(str(value)).chars(limit))
            for name, value in variables.items()
        ),
    )


def tags_html(tags) -> str:
    if not tags:
        return EMPTY
    return format_html_join(" ", '<span class="llm-tag">{}</span>', ((tag,) for tag in tags))


def score_cell(value: float | None, passed: bool | None, title: str = ""):
    if value is None:
        return EMPTY
    outcome = {True: " score-pass", False: " score-fail"}.get(passed, "")
    mark = {True: "✓", False: "✗"}.get(passed, "")
    return format_html(
        '<span class="score-cell{}" title="{}">{} {}</span>',
        outcome,
        title,
        f"{value:.2f}",
        mark,
    )


def percent(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.0%}"


# Prompts -------------------------------------------------------------------------------------------


def versions_url(template_id: int) -> str:
    return reverse("admin:llmops_promptversion_changelist") + f"?template__id__exact={template_id}"


def diff_url(template_id: int, a: int, b: int) -> str:
    return reverse("admin:llmops_prompttemplate_diff", args=[template_id]) + "?" + urlencode({"a": a, "b": b})


def prompt_history(template: PromptTemplate) -> dict:
    """What the prompt's page shows beneath its fields: every version with its content, and every label move."""
    versions = list(
        template.versions.select_related("created_by_user", "created_by_key__project")
        .prefetch_related(Prefetch("labels", queryset=PromptLabel.objects.select_related("version")))
        .order_by("-version")
    )
    numbers = {v.version for v in versions}
    rows = []
    for version in versions:
        previous = max((n for n in numbers if n < version.version), default=None)
        rows.append(
            {
                "number": version.version,
                "url": admin_url(version),
                "commit": version.commit_message,
                "author": version.created_by,
                "created": when(version.created_at),
                "hash": short_hash(version.content_sha256),
                "labels": format_html_join(" ", "{}", ((label_badge(label.name),) for label in version.labels.all())),
                "model": version.model,
                "parameters": json.dumps(version.parameters, sort_keys=True) if version.parameters else "",
                "variables": ", ".join(version.variables),
                "kind": version.get_kind_display(),
                "content": version_content(version),
                "diff_url": diff_url(template.pk, previous, version.version) if previous is not None else None,
                "previous": previous,
            }
        )
    moves = PromptLabelMove.objects.filter(template=template).select_related("from_version", "to_version")
    return {
        "versions": rows,
        "moves": [
            {
                "label": label_badge(move.name),
                "from": f"v{move.from_version.version}" if move.from_version_id else None,
                "to": f"v{move.to_version.version}",
                "to_url": admin_url(move.to_version),
                "by": move.moved_by,
                "when": when(move.moved_at),
            }
            for move in moves.order_by("-moved_at", "-id")
        ],
        "audit_trail_url": audit_trail_url(template),
        "diff_base_url": reverse("admin:llmops_prompttemplate_diff", args=[template.pk]),
        "latest": versions[0].version if versions else None,
        "before_latest": versions[1].version if len(versions) > 1 else None,
        "numbers": [v.version for v in versions],
    }


def diff_lines(unified: str) -> list[tuple[str, str]]:
    """The unified diff's lines, each with its kind: file, hunk, add, del or same."""
    lines = []
    for line in unified.splitlines():
        if line.startswith(("---", "+++")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append((kind, line))
    return lines


def _value_html(value):
    if value is None or value == "":
        return format_html('<span class="text-muted">{}</span>', "(none)")
    if isinstance(value, str):
        return format_html('<pre class="llm-pre">{}</pre>', value)
    return format_html('<pre class="llm-pre">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))


def diff_changes(changes: dict) -> list[dict]:
    """prompt_versions_diff's field changes as table rows (from and to already HTML)."""
    rows = []
    for field, change in changes.items():
        if field == "variables":
            rows.append(
                {
                    "field": "variables",
                    "from": _value_html(", ".join(change["removed"]) and "removed: " + ", ".join(change["removed"])),
                    "to": _value_html(", ".join(change["added"]) and "added: " + ", ".join(change["added"])),
                }
            )
        elif field == "parameters":
            for name, values in change.items():
                rows.append(
                    {
                        "field": f"parameters.{name}",
                        "from": _value_html(values["from"]),
                        "to": _value_html(values["to"]),
                    }
                )
        elif field == "messages":
            rows.append({"field": "messages", "from": messages_html(change["from"]), "to": messages_html(change["to"])})
        else:
            rows.append({"field": field, "from": _value_html(change["from"]), "to": _value_html(change["to"])})
    return rows


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
            diff = prompts.prompt_versions_diff(a=a, b=b)
            diff = {
                **diff,
                "a": a,
                "b": b,
                "a_url": admin_url(a),
                "b_url": admin_url(b),
                "rows": diff_changes(diff["changes"]),
                "lines": diff_lines(diff["unified"]),
                "added": sum(1 for kind, _ in diff_lines(diff["unified"]) if kind == "add"),
                "removed": sum(1 for kind, _ in diff_lines(diff["unified"]) if kind == "del"),
                "swap_url": diff_url(template.pk, b.version, a.version),
            }
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


# LLM calls ---------------------------------------------------------------------------------------


def _called(request) -> list[tuple[str, str]]:
    """(provider, model) pairs of the calls the person may see, read once per request for both filters."""
    cached = getattr(request, "_llm_called", None)
    if cached is None:
        calls = member_scope(LLMCall.objects.all(), request.user, "project")
        cached = request._llm_called = list(
            calls.order_by("provider", "model").values_list("provider", "model").distinct()
        )
    return cached


class CalledModelFilter(admin.SimpleListFilter):
    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted({model for _, model in _called(request)})]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


class CalledProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted({provider for provider, _ in _called(request)})]

    def queryset(self, request, queryset):
        return queryset.filter(provider=self.value()) if self.value() else queryset


class CallPromptVersionFilter(admin.SimpleListFilter):
    """Versions of the prompt chosen in the "prompt" filter (or of the version already chosen)."""

    title = "prompt version"
    parameter_name = "prompt_version"
    MAX_UNFILTERED = 20

    def lookups(self, request, model_admin):
        versions = member_scope(PromptVersion.objects.select_related("template"), request.user, "project")
        template_id = request.GET.get("prompt_version__template__id__exact", "")
        selected = self.value() or ""
        if template_id.isdigit():
            versions = versions.filter(template_id=template_id)
        elif selected.isdigit():
            versions = versions.filter(template__versions__pk=selected)
        versions = list(versions.order_by("template__name", "-version")[: self.MAX_UNFILTERED + 1])
        if len(versions) > self.MAX_UNFILTERED and not (template_id.isdigit() or selected.isdigit()):
            return []  # too many to list: choose a prompt first
        return [(str(v.pk), str(v)) for v in versions]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(prompt_version_id=value) if value and value.isdigit() else queryset


class RetrievedDocumentInline(ReadOnlyInline):
    model = RetrievedDocument
    fields = ["rank", "document", "source_display", "chunk", "score_display", "data_version_link", "subject"]
    readonly_fields = fields
    verbose_name_plural = "retrieved documents (the RAG context given to the model)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("data_version__dataset")

    @admin.display(description="document")
    def document(self, obj):
        return format_html('<code class="text-wrap-anywhere">{}</code>', obj.document_id)

    @admin.display(description="source")
    def source_display(self, obj):
        return Truncator(obj.source).chars(80) or EMPTY

    @admin.display(description="chunk hash")
    def chunk(self, obj):
        return short_hash(obj.chunk_sha256)

    @admin.display(description="score")
    def score_display(self, obj):
        return EMPTY if obj.score is None else f"{obj.score:.3f}"

    @admin.display(description="data version")
    def data_version_link(self, obj):
        return link(obj.data_version) if obj.data_version_id else EMPTY

    @admin.display(description="about a subject")
    def subject(self, obj):
        if obj.erased_at is not None:
            return format_html('<span class="text-warning">{}</span>', "erased")
        return "yes" if obj.subject_key else "no"


class CallScoreInline(ReadOnlyInline):
    model = CallScore
    fields = ["evaluator", "kind", "score", "detail_display", "scored"]
    readonly_fields = fields
    verbose_name_plural = "scores"

    @admin.display(description="score")
    def score(self, obj):
        return score_cell(obj.value, obj.passed)

    @admin.display(description="detail")
    def detail_display(self, obj):
        if not obj.detail:
            return EMPTY
        return Truncator(json.dumps(obj.detail, ensure_ascii=False, sort_keys=True)).chars(160)

    @admin.display(description="scored at")
    def scored(self, obj):
        return when(obj.scored_at)


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    """Recorded LLM calls, read-only for everyone (ingested through the API). The cost dashboard is a page
    of this admin. The subject key is never shown; whether a call is linked to a subject is."""

    change_list_template = "admin/llmops/llmcall/change_list.html"
    list_defer = ("input", "output", "error")  # the inputs and outputs (the large columns) stay in the database
    list_display = [
        "occurred_utc",
        "model_name",
        "prompt_version_name",
        "status_display",
        "tokens",
        "cost_display",
        "tags_display",
    ]
    list_display_links = ["occurred_utc"]
    list_select_related = ["prompt_version__template"]
    list_filter = [
        CalledModelFilter,
        CalledProviderFilter,
        "status",
        "cost_status",
        ("prompt_version__template", InProjectFilter),
        CallPromptVersionFilter,
        ErasedFilter,
        ("project", ProjectFilter),
    ]
    date_hierarchy = "occurred_at"
    search_fields = ["client_call_id"]
    search_help_text = "exact client call id or trace id"
    ordering = ["-occurred_at", "-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice would scan the whole table
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "client_call_id",
                    "project",
                    "occurred",
                    "model_display",
                    "prompt_version_link",
                    "status_display",
                    "error_display",
                    "latency",
                ]
            },
        ),
        ("Input and output", {"fields": ["input_display", "output_display"]}),
        ("Tokens and cost", {"fields": ["usage_display", "token_source", "cost_detail", "price_display"]}),
        ("Trace", {"fields": ["tags_display", "trace_id", "span_id"]}),
        ("Data subject", {"fields": ["has_subject", "erased_when"]}),
        ("Record", {"fields": ["created_at_utc", "created_by_key_display"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "occurred",
        "model_display",
        "prompt_version_link",
        "status_display",
        "error_display",
        "latency",
        "input_display",
        "output_display",
        "usage_display",
        "cost_detail",
        "price_display",
        "tags_display",
        "has_subject",
        "erased_when",
        "created_by_key_display",
    ]
    inlines = [RetrievedDocumentInline, CallScoreInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("prompt_version__template", "price", "project")

    def get_search_results(self, request, queryset, search_term):
        """Exact matches on the client call id or the trace id, so the indexes answer."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(client_call_id=term) | Q(trace_id=term)), False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("costs/", self.admin_site.admin_view(self.costs_view), name="{}_{}_costs".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"costs_url": reverse("admin:llmops_llmcall_costs"), **(extra_context or {})}
        )

    # Columns

    @admin.display(description="occurred (UTC)", ordering="occurred_at")
    def occurred_utc(self, obj):
        return when(obj.occurred_at, suffix=False)

    @admin.display(description="model", ordering="model")
    def model_name(self, obj):
        return format_html('<span class="nowrap" title="{}">{}</span>', obj.provider, obj.model)

    @admin.display(description="prompt version", ordering="prompt_version")
    def prompt_version_name(self, obj):
        if obj.prompt_version_id is None:
            return EMPTY
        return format_html('<span class="nowrap">{}</span>', obj.prompt_version)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        """The call's status, and an "erased" badge once an erasure request redacted it."""
        status = choice_badge(LLMCall.Status, obj.status)
        if obj.erased_at is None:
            return status
        return format_html("{} {}", status, badge("erased", Tone.WARNING))

    @admin.display(description="tokens in / out")
    def tokens(self, obj):
        """Input and output tokens; beneath, the cached share and reasoning, and "counted" when the service
        counted them (no usage from the provider)."""
        notes = []
        if obj.input_cache_read:
            notes.append(f"{obj.input_cache_read:,} cached")
        if obj.input_cache_write:
            notes.append(f"{obj.input_cache_write:,} to cache")
        if obj.output_reasoning:
            notes.append(f"{obj.output_reasoning:,} reasoning")
        if obj.token_source != "provider":
            notes.append("counted" + (", fallback" if "fallback" in obj.token_source else ""))
        figures = f"{obj.input_tokens:,} / {obj.output_tokens + obj.output_reasoning:,}"
        if not notes:
            return format_html('<span class="nowrap" title="{}">{}</span>', obj.token_source, figures)
        return format_html(
            '<span class="nowrap" title="{}">{}</span><br><span class="text-muted text-small nowrap">{}</span>',
            obj.token_source,
            figures,
            ", ".join(notes),
        )

    @admin.display(description="cost", ordering="cost")
    def cost_display(self, obj):
        return money(obj.cost)

    @admin.display(description="tags")
    def tags_display(self, obj):
        return tags_html(obj.tags)

    # Fields of a call's page

    @admin.display(description="occurred at")
    def occurred(self, obj):
        return when(obj.occurred_at)

    @admin.display(description="model")
    def model_display(self, obj):
        return format_html('{} <span class="text-muted">({})</span>', obj.model, obj.provider)

    @admin.display(description="prompt version")
    def prompt_version_link(self, obj):
        return link(obj.prompt_version) if obj.prompt_version_id else EMPTY

    @admin.display(description="error")
    def error_display(self, obj):
        return format_html('<pre class="llm-pre">{}</pre>', obj.error) if obj.error else EMPTY

    @admin.display(description="latency")
    def latency(self, obj):
        return EMPTY if obj.latency_ms is None else f"{obj.latency_ms:,.0f} ms"

    def _erased(self, obj):
        return format_html(
            '<span class="text-warning">{}</span> <span class="text-muted">{}</span>',
            "erased",
            f"(redacted on {obj.erased_at.astimezone(UTC):%Y-%m-%d} by an erasure request)",
        )

    @admin.display(description="input")
    def input_display(self, obj):
        if obj.erased_at is not None:
            return self._erased(obj)
        if obj.input is None:
            return EMPTY
        if isinstance(obj.input, list):
            return messages_html(obj.input)
        return format_html('<div class="llm-messages"><pre>{}</pre></div>', content_text(obj.input))

    @admin.display(description="output")
    def output_display(self, obj):
        if obj.erased_at is not None:
            return self._erased(obj)
        if not obj.output:
            return EMPTY
        return format_html('<div class="llm-messages llm-output"><pre>{}</pre></div>', obj.output)

    @admin.display(description="tokens by usage category")
    def usage_display(self, obj):
        price = obj.price
        rows = []
        for category in USAGE_CATEGORIES:
            tokens = getattr(obj, selectors.TOKEN_COLUMNS[category])
            rate = price.per_million(category) if price is not None else None
            cost = Decimal(tokens) * rate / Decimal(1_000_000) if rate is not None else None
            rows.append(
                (
                    CATEGORY_NAMES[category],
                    count(tokens),
                    per_million(rate) if rate is not None else EMPTY,
                    money(cost, unpriced_badge=False) if tokens and cost is not None else EMPTY,
                )
            )
        body = format_html_join(
            "", '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>', rows
        )
        return format_html(
            '<table class="llm-usage"><thead><tr><th>category</th><th class="num">tokens</th>'
            '<th class="num">price per million</th><th class="num">cost</th></tr></thead><tbody>{}</tbody>'
            '<tfoot><tr><td>total</td><td class="num">{}</td><td></td><td class="num">{}</td></tr></tfoot></table>',
            body,
            count(obj.total_tokens),
            money(obj.cost),
        )

    @admin.display(description="cost")
    def cost_detail(self, obj):
        if obj.cost is None:
            return format_html(
                '{} <span class="text-muted">{}</span>',
                badge("unpriced", Tone.DANGER),
                "No price for this model at the call's time: the cost is unknown, not zero. Add a price row "
                "in force then, and reprice.",
            )
        return format_html(
            '<strong>{}</strong> <span class="text-muted">(exactly {})</span>',
            charts.usd(obj.cost),
            charts.usd(obj.cost, exact=True),
        )

    @admin.display(description="price used")
    def price_display(self, obj):
        if obj.price is None:
            return EMPTY
        price = obj.price
        return format_html(
            '{} <span class="text-muted">· input {} · cached input {} · output {} per million tokens · {}</span>',
            link(price),
            price_text(price.input_uncached),
            price_text(price.per_million("input_cache_read")),
            price_text(price.output),
            Truncator(price.source).chars(60),
        )

    @admin.display(description="linked to a subject")
    def has_subject(self, obj):
        if obj.erased_at is not None:
            return "no longer (erased)"
        return "yes" if obj.subject_key else "no"

    @admin.display(description="erased at")
    def erased_when(self, obj):
        return when(obj.erased_at)

    @admin.display(description="ingested with key")
    def created_by_key_display(self, obj):
        return f"{obj.created_by_key.name} ({obj.created_by_key.prefix}…)" if obj.created_by_key_id else EMPTY

    # The cost dashboard

    def costs_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        projects = member_scope(Project.objects.order_by("slug"), request.user, "pk")
        form = CostsForm(request.GET or None, projects=projects)
        valid = form.is_valid() if form.is_bound else False
        data = form.cleaned_data if valid else {}
        project = data.get("project")
        if project is not None:
            scope: set[int] | None = {project.pk}
        elif request.user.is_superuser:
            scope = None
        else:
            scope = set(projects.values_list("pk", flat=True))
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            default_start, default_end = default_range(scope)
            start, end = start or default_start, end or default_end
            if start > end:
                start = end - timedelta(days=DASHBOARD_DAYS - 1)
        group_by = data.get("group_by") or "model"
        report = cost_dashboard(scope, start, end, group_by)
        if valid or not form.is_bound:  # the form shows the range and grouping used, defaults included
            shown = {"project": project.slug if project else "", "start": start, "end": end, "group_by": group_by}
            form = CostsForm(shown, projects=projects)
            form.is_valid()
        return self.render_page(
            request,
            "admin/llmops/costs.html",
            title="LLM costs",
            form=form,
            report=report,
            project=project,
            start=start,
            end=end,
            calls_url=reverse("admin:llmops_llmcall_changelist"),
            prices_url=reverse("admin:llmops_price_changelist"),
            price_add_url=reverse("admin:llmops_price_add") if request.user.is_superuser else None,
        )


# The cost dashboard ------------------------------------------------------------------------------


GROUPINGS = [("model", "model"), ("prompt_version", "prompt version"), ("tag", "tag"), ("day", "day")]


class CostsForm(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All my projects", to_field_name="slug"
    )
    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="From"
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Until"
    )
    group_by = forms.ChoiceField(choices=GROUPINGS, required=False, label="Table by")

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "Must be on or after the start.")
        elif start and end and (end - start).days >= MAX_DASHBOARD_DAYS:
            self.add_error("start", f"At most {MAX_DASHBOARD_DAYS} days at once.")
        return cleaned


def default_range(scope: set[int] | None) -> tuple[date, date]:
    """The last 30 days (UTC), or the last 30 days of the data when nothing was called in those."""
    today = timezone.now().astimezone(UTC).date()
    recent_start = today - timedelta(days=DASHBOARD_DAYS - 1)
    calls = selectors.calls_in(project_ids=scope, start=None, end=None)
    bounds = calls.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if bounds["last"] is None:
        return recent_start, today
    first, last = bounds["first"].astimezone(UTC).date(), bounds["last"].astimezone(UTC).date()
    if recent_start <= last <= today:
        return max(recent_start, first), today
    return max(last - timedelta(days=DASHBOARD_DAYS - 1), first), last


def cost_dashboard(scope: set[int] | None, start: date, end: date, group_by: str) -> dict:
    """Everything the dashboard shows, for [start, end] (UTC days, both included)."""
    start_at = datetime.combine(start, time(), UTC)
    end_at = datetime.combine(end + timedelta(days=1), time(), UTC)
    by_model = selectors.costs_rollup(project_ids=scope, group_by="model", start=start_at, end=end_at)
    table = (
        by_model
        if group_by == "model"
        else selectors.costs_rollup(project_ids=scope, group_by=group_by, start=start_at, end=end_at)
    )
    daily = selectors.daily_costs_by_model(project_ids=scope, start=start_at, end=end_at)
    models = sorted(by_model["rows"], key=lambda r: (-r["cost"], -r["calls"], r["key"]))
    names = [r["label"] for r in models]
    ambiguous = {name for name in names if names.count(name) > 1}  # one model name under two providers
    label_of = {r["key"]: (r["key"] if r["label"] in ambiguous else r["label"]) for r in models}
    priced = [r for r in models if r["cost"] > 0]
    if len(priced) > charts.MAX_SERIES:
        own, grouped = priced[: charts.MAX_SERIES - 1], priced[charts.MAX_SERIES - 1 :]
    else:
        own, grouped = priced, []
    colours = charts.series_colours([label_of[r["key"]] for r in own])
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    index = {day: i for i, day in enumerate(days)}
    series = {r["key"]: {"label": label_of[r["key"]], "colour": colours[label_of[r["key"]]]} for r in own}
    if grouped:
        series["*"] = {"label": f"{len(grouped)} other models", "colour": charts.OTHER}
    for s in series.values():
        s["values"], s["calls"] = [Decimal(0)] * len(days), [0] * len(days)
    unpriced = [0] * len(days)
    for row in daily:
        i = index.get(row["day"])
        if i is None:
            continue
        key = f"{row['provider']}/{row['model']}"
        unpriced[i] += row["unpriced"]
        target = series.get(key) or (series.get("*") if row["cost"] else None)
        if target is not None:
            target["values"][i] += row["cost"]
            target["calls"][i] += row["calls"] - row["unpriced"]
    model_rows = [
        {
            "label": label_of[r["key"]],
            "colour": colours.get(label_of[r["key"]], charts.OTHER),
            "cost": r["cost"],
            "calls": r["calls"],
            "unpriced": r["unpriced"],
        }
        for r in models
    ]
    model_rows.sort(key=lambda r: (r["calls"] == r["unpriced"], -r["cost"], -r["calls"]))
    totals = by_model["totals"]
    unpriced_models = [
        {
            "provider": r["key"].split("/", 1)[0],
            "model": r["label"],
            "calls": r["unpriced"],
            "all": r["unpriced"] == r["calls"],
            "url": reverse("admin:llmops_llmcall_changelist")
            + "?"
            + urlencode({"cost_status__exact": "unpriced", "model": r["label"]}),
        }
        for r in sorted(models, key=lambda r: -r["unpriced"])
        if r["unpriced"]
    ]
    rows = []
    for r in table["rows"]:
        label = r["label"]
        if group_by == "model":
            label = label_of.get(r["key"], label)
        rows.append({**counts_of(r), "label": label if label is not None else "(none)", "cost_html": table_cost(r)})
    return {
        "calls": totals["calls"],
        "calls_display": count(totals["calls"]),
        "cost": charts.usd(totals["cost"]),
        "cost_exact": charts.usd(totals["cost"], exact=True),
        "unpriced": totals["unpriced"],
        "unpriced_display": count(totals["unpriced"]),
        "tokens": count(totals["total_tokens"]),
        "per_call": charts.usd(totals["cost"] / (totals["calls"] - totals["unpriced"]))
        if totals["calls"] > totals["unpriced"]
        else EMPTY,
        "unpriced_models": unpriced_models,
        "day_chart": mark_safe(  # noqa: S308 - llmops.charts escapes every text it places
            charts.cost_by_day_svg(days, list(series.values()), unpriced)
        )
        if totals["calls"]
        else None,
        "model_chart": mark_safe(  # noqa: S308 - llmops.charts escapes every text it places
            charts.cost_by_model_svg(model_rows)
        )
        if model_rows
        else None,
        "group_by": group_by,
        "group_label": dict(GROUPINGS)[group_by],
        "rows": rows,
        "totals": {**counts_of(totals), "cost_html": table_cost(totals)},
        "days": len(days),
    }


def counts_of(row: dict) -> dict:
    """A roll-up row's counts with thousands separators (and whether it has unpriced calls)."""
    names = ("calls", "unpriced", *selectors.TOKEN_COLUMNS, "total_tokens")
    return {**{name: count(row[name]) for name in names}, "has_unpriced": bool(row["unpriced"])}


def table_cost(row: dict):
    """A roll-up row's cost: the priced cost, and the unpriced calls beside it (never counted as $0)."""
    if row["calls"] and row["unpriced"] == row["calls"]:
        return format_html('{} <span class="text-muted">({})</span>', badge("unpriced", Tone.DANGER), "cost unknown")
    if row["unpriced"]:
        return format_html(
            '{} <span class="text-danger nowrap">+ {} unpriced</span>',
            money(row["cost"]),
            count(row["unpriced"]),
        )
    return money(row["cost"])


# Prices ------------------------------------------------------------------------------------------


class PriceForm(forms.ModelForm):
    class Meta:
        model = Price
        fields = [
            "provider",
            "model",
            "model_pattern",
            "effective_from",
            "input_uncached",
            "input_cache_read",
            "input_cache_write",
            "output",
            "output_reasoning",
            "source",
            "source_date",
        ]
        labels = {
            "input_uncached": "Input",
            "input_cache_read": "Cached input (read)",
            "input_cache_write": "Cache write",
            "output": "Output",
            "output_reasoning": "Reasoning output",
        }
        help_texts = {
            "effective_from": "UTC. Calls from then on are priced with this row; a price is never edited: add a "
            "row with a later date.",
            "input_uncached": "USD per million tokens.",
            "input_cache_read": "Empty: the input price.",
            "input_cache_write": "Empty: the input price.",
            "output_reasoning": "Empty: the output price.",
            "source": "Where the price comes from (the provider's pricing page).",
        }

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("model")) == bool(cleaned.get("model_pattern")):
            self.add_error("model", "Give exactly one of a model name or a model pattern.")
        return cleaned


class PriceKindFilter(admin.SimpleListFilter):
    title = "matches"
    parameter_name = "matches"

    def lookups(self, request, model_admin):
        return [("model", "One model"), ("pattern", "A pattern")]

    def queryset(self, request, queryset):
        if self.value() == "model":
            return queryset.exclude(model="")
        if self.value() == "pattern":
            return queryset.filter(model="")
        return queryset


@admin.register(Price)
class PriceAdmin(ServiceCreateAdmin):
    """The price catalog, shared by every project. Rows are never changed or deleted (a new price is a new row
    with a later effective_from); superusers add one here through prices_import, which audits it."""

    write_roles = SUPERUSERS_ONLY
    form = PriceForm
    list_display = [
        "model_column",
        "effective",
        "input_price",
        "cached_price",
        "output_price",
        "source_display",
    ]  # cache write and reasoning prices on each row's page
    list_display_links = ["model_column"]
    list_filter = ["provider", PriceKindFilter]
    search_fields = ["model", "model_pattern"]
    readonly_fields = [
        "model_display",
        "effective",
        "input_price",
        "cached_price",
        "cache_write_price",
        "output_price",
        "reasoning_price",
        "source_display",
        "source_full",
        "source_day",
        "created_by",
    ]

    def get_queryset(self, request):
        return admin.ModelAdmin.get_queryset(self, request)  # the catalog belongs to no project

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def get_fields(self, request, obj=None):
        if obj is None:
            return PriceForm._meta.fields
        return [
            "provider",
            "model_display",
            "effective",
            "currency",
            "input_price",
            "cached_price",
            "cache_write_price",
            "output_price",
            "reasoning_price",
            "source_full",
            "source_day",
            "created_at_utc",
            "created_by",
        ]

    def service_create(self, request, data):
        entry = {
            name: (str(data[name]) if data.get(name) is not None else None)
            for name in ("input_uncached", "input_cache_read", "input_cache_write", "output", "output_reasoning")
        }
        entry.update(provider=data["provider"], model=data["model"], model_pattern=data["model_pattern"])
        return pricing.price_add(
            actor=admin_actor(request),
            where="admin",
            entry=entry,
            effective_from=data["effective_from"],
            source=data["source"],
            source_date=data.get("source_date"),
        )

    @admin.display(description="model", ordering="provider")
    def model_column(self, obj):
        """The model (or pattern), its provider beneath."""
        name = obj.model or obj.model_pattern
        kind = "" if obj.model else " · pattern"
        return format_html(
            '<span class="nowrap">{}</span><br><span class="text-muted text-small">{}{}</span>',
            name,
            obj.provider,
            kind,
        )

    @admin.display(description="source")
    def source_full(self, obj):
        if obj.source.startswith(("https://", "http://")):
            return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', obj.source, obj.source)
        return obj.source

    @admin.display(description="source read on")
    def source_day(self, obj):
        return obj.source_date.isoformat() if obj.source_date else EMPTY

    @admin.display(description="model or pattern", ordering="model")
    def model_display(self, obj):
        if obj.model:
            return obj.model
        return format_html('<code>{}</code> <span class="text-muted">(pattern)</span>', obj.model_pattern)

    @admin.display(description="from (UTC)", ordering="effective_from")
    def effective(self, obj):
        moment = obj.effective_from.astimezone(UTC)
        text = f"{moment:%Y-%m-%d}" if moment.time() == time() else f"{moment:%Y-%m-%d %H:%M}"
        return format_html('<span class="nowrap" title="{}">{}</span>', f"{moment:%Y-%m-%d %H:%M} UTC", text)

    @admin.display(description="input $/M", ordering="input_uncached")
    def input_price(self, obj):
        return per_million(obj.input_uncached)

    @admin.display(description="cached input $/M")
    def cached_price(self, obj):
        return per_million(obj.input_cache_read, default="= input")

    @admin.display(description="cache write $/M")
    def cache_write_price(self, obj):
        return per_million(obj.input_cache_write, default="= input")

    @admin.display(description="output $/M", ordering="output")
    def output_price(self, obj):
        return per_million(obj.output)

    @admin.display(description="reasoning $/M")
    def reasoning_price(self, obj):
        return per_million(obj.output_reasoning, default="= output")

    @admin.display(description="source")
    def source_display(self, obj):
        """The source's site, the whole address and the date it was read on hover."""
        title = obj.source + (f" (read {obj.source_date:%Y-%m-%d})" if obj.source_date else "")
        if obj.source.startswith(("https://", "http://")):
            site = obj.source.split("://", 1)[1].split("/", 1)[0].removeprefix("www.")
            return format_html('<a href="{}" rel="noopener noreferrer" title="{}">{}</a>', obj.source, title, site)
        return format_html('<span title="{}">{}</span>', title, Truncator(obj.source).chars(30))


# Budgets -----------------------------------------------------------------------------------------


def budget_state_of(budget: Budget) -> budgets.BudgetState:
    """The service's state of the budget now, computed once per row (several columns show it)."""
    state = getattr(budget, "_llm_state", None)
    if state is None:
        state = budget._llm_state = budgets.budget_state(budget, timezone.now())
    return state


def share_bar(state: budgets.BudgetState, thresholds) -> str:
    """The share of the limit spent as a bar 120 by 10 pixels (an SVG: its widths are attributes, its colours the
    stylesheet's), a tick at each alert threshold below 100 % overflowing the bar by 2 pixels, and the share in the
    state's tone beside it."""
    share = float(state.share)
    tone = BUDGET_STATE_TONES.get(state.state, Tone.NEUTRAL).value
    ticks = format_html_join(
        "",
        '<rect class="share-bar-tick" x="{}" y="-2" width="2" height="14"><title>alert at {}</title></rect>',
        ((f"{float(t) * 120:.1f}", f"{float(t):.0%}") for t in thresholds if 0 < float(t) < 1),
    )
    return format_html(
        '<span class="share-bar">'
        '<svg class="share-bar-track" width="120" height="10" viewBox="0 0 120 10" role="img">'
        "<title>{} of the limit spent</title>"
        '<rect class="share-bar-empty" x="0" y="0" width="120" height="10" rx="2"></rect>'
        '<rect class="share-bar-fill tone-{}" x="0" y="0" width="{}" height="10" rx="2"></rect>'
        "{}</svg>"
        '<span class="share-bar-figure tone-{}">{}</span></span>',
        f"{share:.1%}",
        tone,
        f"{min(share, 1.0) * 120:.1f}",
        ticks,
        tone,
        f"{share:.0%}",
    )


class BudgetForm(forms.ModelForm):
    thresholds = forms.CharField(
        initial="0.5, 0.8, 1",
        help_text="Shares of the limit that raise an alert (an audit event and the webhooks), once per period, "
        "separated by commas.",
    )

    class Meta:
        model = Budget
        fields = ["project", "name", "scope", "scope_value", "period", "limit", "thresholds"]

    def clean_thresholds(self) -> list[float]:
        try:
            return [float(part) for part in self.cleaned_data["thresholds"].split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("Numbers separated by commas, e.g. 0.5, 0.8, 1.") from None


class BudgetAlertInline(ReadOnlyInline):
    model = BudgetAlert
    fields = ["period", "threshold_display", "spent_display", "raised"]
    readonly_fields = fields
    verbose_name_plural = "alerts raised"
    ordering = ["-raised_at", "-id"]

    @admin.display(description="period from")
    def period(self, obj):
        return obj.period_start.isoformat()

    @admin.display(description="threshold crossed")
    def threshold_display(self, obj):
        return f"{float(obj.threshold):.0%} of the limit"

    @admin.display(description="spent then")
    def spent_display(self, obj):
        return money(obj.spent)

    @admin.display(description="raised at")
    def raised(self, obj):
        return when(obj.raised_at)


@admin.register(Budget)
class BudgetAdmin(ServiceCreateAdmin):
    """Budgets, set here through budget_create by compliance officers (of the budget's project); read-only
    once set. The state is the service's (budget_state) for the current UTC day or month."""

    write_roles = BUDGET_OFFICERS
    form = BudgetForm
    list_display = [
        "name",
        "project",
        "scope_display",
        "period",
        "spent_of_limit",
        "share_display",
        "state_display",
        "alert_count",
    ]
    list_select_related = ["project"]
    list_filter = ["period", "scope", ("project", ProjectFilter)]
    search_fields = ["name", "scope_value"]
    list_per_page = 100
    readonly_fields = [
        "scope_display",
        "limit_display",
        "thresholds_display",
        "period_display",
        "state_display",
        "spent_of_limit",
        "share_display",
        "unpriced_display",
        "links",
        "created_by",
    ]
    inlines = [BudgetAlertInline]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        states = budgets.budget_states(rows, timezone.now())  # the page's states in one query
        for budget in rows:
            budget._llm_state = states[budget.pk]
        return changelist

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": BudgetForm._meta.fields})]
        return [
            (None, {"fields": ["name", "project", "scope_display", "period", "limit_display", "thresholds_display"]}),
            (
                "This period",
                {"fields": ["period_display", "state_display", "spent_of_limit", "share_display", "unpriced_display"]},
            ),
            ("Record", {"fields": ["links", "created_at_utc", "created_by"]}),
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("project", "created_by_user", "created_by_key__project")
            .annotate(alerts_raised=Count("alerts"))
        )

    def service_create(self, request, data):
        return budgets.budget_create(
            actor=admin_actor(request),
            project=data["project"],
            name=data["name"],
            limit=data["limit"],
            period=data["period"],
            scope=data["scope"],
            scope_value=data["scope_value"],
            thresholds=data["thresholds"],
        )

    @admin.display(description="covers", ordering="scope")
    def scope_display(self, obj):
        if obj.scope == Budget.Scope.PROJECT:
            return "the whole project"
        return format_html("{} <code>{}</code>", obj.scope, obj.scope_value)

    @admin.display(description="limit")
    def limit_display(self, obj):
        return f"${obj.limit:,.2f} per {'day' if obj.period == Budget.Period.DAILY else 'month'} (UTC)"

    @admin.display(description="alert thresholds")
    def thresholds_display(self, obj):
        return ", ".join(f"{float(t):.0%}" for t in obj.thresholds) or EMPTY

    @admin.display(description="period")
    def period_display(self, obj):
        start = budget_state_of(obj).period_start
        if obj.period == Budget.Period.DAILY:
            return f"{start.isoformat()} (UTC day)"
        return f"{start:%B %Y} (UTC month from {start.isoformat()})"

    @admin.display(description="state")
    def state_display(self, obj):
        state = budget_state_of(obj)
        return badge(state.state, BUDGET_STATE_TONES.get(state.state, Tone.NEUTRAL))

    @admin.display(description="spent / limit")
    def spent_of_limit(self, obj):
        state = budget_state_of(obj)
        return format_html(
            '<span class="nowrap text-numeric">{} / {}</span>',
            money(state.spent),
            f"${obj.limit:,.2f}",
        )

    @admin.display(description="share of the limit")
    def share_display(self, obj):
        return share_bar(budget_state_of(obj), obj.thresholds)

    @admin.display(description="unpriced calls this period")
    def unpriced_display(self, obj):
        unpriced = budget_state_of(obj).unpriced_calls
        if not unpriced:
            return "none"
        return format_html(
            '<span class="text-danger">{}</span> {}',
            plural(unpriced, "call"),
            "without a price: the spend above leaves them out (their cost is unknown, not zero).",
        )

    @admin.display(description="alerts", ordering="alerts_raised")
    def alert_count(self, obj):
        return count(getattr(obj, "alerts_raised", 0))

    @admin.display(description="see also")
    def links(self, obj):
        costs = reverse("admin:llmops_llmcall_costs") + "?" + urlencode({"project": obj.project.slug})
        return format_html(
            '<a href="{}">Costs of {}</a> · <a href="{}">This budget in the audit trail</a>',
            costs,
            obj.project.slug,
            audit_trail_url(obj),
        )


# Evaluation --------------------------------------------------------------------------------------


def aggregates_summary(run: EvaluationRun):
    parts = []
    for name, values in (run.aggregates or {}).items():
        rate = values.get("pass_rate")
        mean = values.get("mean")
        if rate is None and mean is None:
            continue
        title = f"{name}: mean {mean:.3f}" if mean is not None else name
        text = f"{name} {percent(rate)}" if rate is not None else f"{name} {mean:.2f}"
        parts.append((title, text))
    if not parts:
        return EMPTY
    return format_html_join(" · ", '<span title="{}" class="nowrap">{}</span>', parts)


def compare_url(a: int, b: int) -> str:
    return reverse("admin:llmops_evaluationrun_compare") + "?" + urlencode({"a": a, "b": b})


def run_label(run: EvaluationRun) -> str:
    return f"run #{run.pk} · {run.prompt_version} · {run.model}"


def evaluation_run_view(run: EvaluationRun, others) -> dict:
    """What a run's page shows beneath its fields: the scores per evaluator, the results item by item and the
    other runs over the same dataset to compare with."""
    names = [e["name"] for e in run.evaluators]
    aggregates = []
    for name in names:
        values = (run.aggregates or {}).get(name, {})
        aggregates.append(
            {
                "name": name,
                "kind": values.get("kind", ""),
                "mean": EMPTY if values.get("mean") is None else f"{values['mean']:.3f}",
                "pass_rate": percent(values.get("pass_rate")),
                "pass_width": f"{(values.get('pass_rate') or 0) * 100:.0f}",
                "count": count(values.get("count", 0)),
                "errors": values.get("errors", 0),
            }
        )
    results = []
    for result in run.results.select_related("item").order_by("item__position"):
        cells = []
        for name in names:
            score = result.scores.get(name)
            if score is None or score.get("value") is None:
                continue
            detail = json.dumps(score.get("detail") or {}, ensure_ascii=False, sort_keys=True)
            cells.append(
                {
                    "name": name,
                    "value": f"{score['value']:.2f}",
                    "outcome": {True: "win", False: "loss"}.get(score.get("passed"), ""),
                    "mark": {True: "✓", False: "✗"}.get(score.get("passed"), ""),
                    "detail": Truncator(detail).chars(300),
                }
            )
        results.append(
            {
                "position": result.item.position,
                "variables": variables_html(result.item.variables, limit=90),
                "expected": result.item.expected,
                "output": result.output,
                "error": result.error,
                "cells": cells,
                "tokens": f"{result.input_tokens:,} / {result.output_tokens:,}",
                "latency": EMPTY if result.latency_ms is None else f"{result.latency_ms:,.0f} ms",
            }
        )
    return {
        "names": names,
        "aggregates": aggregates,
        "results": results,
        "others": [
            {
                "label": run_label(other),
                "url": admin_url(other),
                "compare_url": compare_url(*[r.pk for r in sorted([run, other], key=lambda r: (r.created_at, r.pk))]),
                "summary": aggregates_summary(other),
            }
            for other in others
        ],
        "audit_trail_url": audit_trail_url(run),
    }


def comparison_view(a: EvaluationRun, b: EvaluationRun, compared: dict) -> dict:
    """evaluation_runs_compare's result as the compare page shows it, with each item's question and expected
    answer (from the results already loaded with their items)."""
    items = {r.item_id: r.item for r in a.results.all()}
    kinds = {e["name"]: e.get("kind", "") for e in a.evaluators}
    evaluators = []
    for name, stats in compared["evaluators"].items():
        delta = stats["mean_delta"]
        evaluators.append(
            {
                "name": name,
                "kind": kinds.get(name, ""),
                "mean_a": EMPTY if stats["mean_a"] is None else f"{stats['mean_a']:.3f}",
                "mean_b": EMPTY if stats["mean_b"] is None else f"{stats['mean_b']:.3f}",
                "delta": EMPTY if delta is None else f"{delta:+.3f}",
                "direction": "" if delta is None or abs(delta) < 1e-12 else ("better" if delta > 0 else "worse"),
                "wins": stats["wins"],
                "ties": stats["ties"],
                "losses": stats["losses"],
            }
        )
    names = list(compared["evaluators"])
    rows = []
    for row in compared["items"]:
        item = items.get(row["item"])
        cells = []
        for name in names:
            score = row["scores"].get(name)
            if score is None:
                cells.append(None)
                continue
            cells.append(
                {"name": name, "a": f"{score['a']:.2f}", "b": f"{score['b']:.2f}", "outcome": score["outcome"]}
            )
        outcomes = {c["outcome"] for c in cells if c}
        rows.append(
            {
                "position": row["position"],
                "variables": variables_html(item.variables if item else {}, limit=90),
                "expected": item.expected if item else "",
                "output_a": row["output_a"],
                "output_b": row["output_b"],
                "same_output": row["output_a"] == row["output_b"],
                "cells": cells,
                "overall": "mixed"
                if {"win", "loss"} <= outcomes
                else "win"
                if "win" in outcomes
                else "loss"
                if "loss" in outcomes
                else "tie",
            }
        )
    return {
        "a": a,
        "b": b,
        "a_url": admin_url(a),
        "b_url": admin_url(b),
        "a_version_url": admin_url(a.prompt_version),
        "b_version_url": admin_url(b.prompt_version),
        "a_summary": aggregates_summary(a),
        "b_summary": aggregates_summary(b),
        "same_version": a.prompt_version_id == b.prompt_version_id,
        "version_diff_url": diff_url(a.prompt_version.template_id, a.prompt_version.version, b.prompt_version.version)
        if a.prompt_version.template_id == b.prompt_version.template_id and a.prompt_version_id != b.prompt_version_id
        else None,
        "evaluators": evaluators,
        "names": names,
        "rows": rows,
        "chart": mark_safe(  # noqa: S308 - llmops.charts escapes every text it places
            charts.comparison_svg(
                compared["evaluators"],
                label_a=f"run #{a.pk}, {a.prompt_version}",
                label_b=f"run #{b.pk}, {b.prompt_version}",
            )
        ),
        "swap_url": compare_url(b.pk, a.pk),
        "item_count": len(rows),
    }


class CompareForm(forms.Form):
    a = forms.ModelChoiceField(queryset=EvaluationRun.objects.none(), label="Run A (baseline)")
    b = forms.ModelChoiceField(queryset=EvaluationRun.objects.none(), label="Run B (candidate)")

    def __init__(self, *args, runs, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].queryset = runs
            self.fields[name].label_from_instance = lambda run: f"{run_label(run)} · dataset {run.dataset.name}"

    def clean(self):
        cleaned = super().clean()
        a, b = cleaned.get("a"), cleaned.get("b")
        if a and b and a.dataset_id != b.dataset_id:
            self.add_error("b", "Runs are compared item by item: choose two runs over the same dataset.")
        elif a and b and a.pk == b.pk:
            self.add_error("b", "Choose two different runs.")
        return cleaned


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    """Evaluation runs, read-only for everyone (run through the API). Two runs over the same dataset are
    compared item by item on a page of their own (evaluation_runs_compare)."""

    change_form_template = "admin/llmops/evaluationrun/change_form.html"
    list_defer = ("evaluators",)
    list_display = ["run", "prompt_version", "dataset", "model_name", "summary", "status_display", "created_day"]
    list_display_links = ["run"]
    list_select_related = ["prompt_version__template", "dataset"]
    list_filter = [
        "status",
        ("dataset", InProjectFilter),
        ("prompt_version__template", InProjectFilter),
        ("project", ProjectFilter),
    ]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["compare_runs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "prompt_version_link",
                    "dataset_link",
                    "model_display",
                    "status_display",
                    "error",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
        ("Evaluators", {"fields": ["evaluators_display"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "prompt_version_link",
        "dataset_link",
        "model_display",
        "status_display",
        "evaluators_display",
        "created_by",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "prompt_version__template", "dataset", "project", "created_by_user", "created_by_key__project"
            )
        )

    @admin.display(description="run", ordering="id")
    def run(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="model", ordering="model")
    def model_display(self, obj):
        return format_html(
            '<span class="nowrap">{} <span class="text-muted">({})</span></span>', obj.model, obj.provider
        )

    @admin.display(description="model", ordering="model")
    def model_name(self, obj):
        return format_html('<span class="nowrap" title="{}">{}</span>', obj.provider, obj.model)

    @admin.display(description="scores (pass rate)")
    def summary(self, obj):
        return format_html('<span class="text-small">{}</span>', aggregates_summary(obj))

    @admin.display(description="created (UTC)", ordering="created_at")
    def created_day(self, obj):
        moment = obj.created_at.astimezone(UTC)
        return format_html('<span class="nowrap" title="{}">{}</span>', f"{moment:%H:%M} UTC", f"{moment:%Y-%m-%d}")

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return choice_badge(EvaluationRun.Status, obj.status)

    @admin.display(description="prompt version")
    def prompt_version_link(self, obj):
        return link(obj.prompt_version)

    @admin.display(description="dataset")
    def dataset_link(self, obj):
        return link(obj.dataset)

    @admin.display(description="evaluators")
    def evaluators_display(self, obj):
        return pretty_json(obj.evaluators)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("compare/", self.admin_site.admin_view(self.compare_view), name="{}_{}_compare".format(*info)),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        run = self.get_object(request, unquote(object_id))
        if run is not None and self.has_view_or_change_permission(request, run):
            others = (
                self.get_queryset(request)
                .filter(dataset_id=run.dataset_id)
                .exclude(pk=run.pk)
                .order_by("-created_at", "-id")[:20]
            )
            extra["evaluation"] = evaluation_run_view(run, others)
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description="Compare the two selected runs", permissions=["view"])
    def compare_runs(self, request, queryset):
        runs = list(queryset.order_by("created_at", "id")[:3])
        if len(runs) != 2:
            messages.warning(request, "Select exactly two runs to compare them.")
            return None
        if runs[0].dataset_id != runs[1].dataset_id:
            messages.error(request, "Runs are compared item by item: select two runs over the same dataset.")
            return None
        return HttpResponseRedirect(compare_url(runs[0].pk, runs[1].pk))

    def compare_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        runs = self.get_queryset(request).order_by("-created_at", "-id")
        form = CompareForm(request.GET if "a" in request.GET or "b" in request.GET else None, runs=runs)
        comparison = None
        if form.is_bound and form.is_valid():
            with_results = Prefetch("results", queryset=EvaluationResult.objects.select_related("item"))
            loaded = {
                r.pk: r
                for r in runs.filter(pk__in=[form.cleaned_data["a"].pk, form.cleaned_data["b"].pk]).prefetch_related(
                    with_results
                )
            }
            a, b = loaded[form.cleaned_data["a"].pk], loaded[form.cleaned_data["b"].pk]
            try:
                compared = evaluation.evaluation_runs_compare(a=a, b=b)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                comparison = comparison_view(a, b, compared)
        return self.render_page(
            request,
            "admin/llmops/evaluationrun/compare.html",
            title="Compare evaluation runs",
            form=form,
            comparison=comparison,
        )


class EvaluationItemInline(ReadOnlyInline):
    model = EvaluationItem
    fields = ["position", "variables_display", "expected", "context_display"]
    readonly_fields = fields
    verbose_name_plural = "items"

    @admin.display(description="variables")
    def variables_display(self, obj):
        return variables_html(obj.variables)

    @admin.display(description="context passages")
    def context_display(self, obj):
        if not obj.context:
            return EMPTY
        return format_html_join(
            "", '<div class="llm-kv">{}</div>', ((Truncator(str(passage)).chars(160),) for passage in obj.context)
        )


@admin.register(EvaluationDataset)
class EvaluationDatasetAdmin(ReadOnlyAdmin):
    """Evaluation datasets and their items, read-only (made through the API)."""

    list_display = ["name", "project", "item_count", "run_count", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    search_fields = ["name", "description"]
    fields = ["name", "project", "description", "runs_display", "created_at_utc", "created_by"]
    readonly_fields = ["runs_display", "created_by"]
    inlines = [EvaluationItemInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("project", "created_by_user", "created_by_key__project")
            .annotate(items_count=Count("items", distinct=True), runs_count=Count("runs", distinct=True))
        )

    @admin.display(description="items", ordering="items_count")
    def item_count(self, obj):
        return count(obj.items_count)

    @admin.display(description="evaluation runs", ordering="runs_count")
    def run_count(self, obj):
        return count(obj.runs_count)

    @admin.display(description="evaluation runs")
    def runs_display(self, obj):
        runs = obj.runs.select_related("prompt_version__template").order_by("-created_at", "-id")
        rows = [(admin_url(run), run_label(run), aggregates_summary(run)) for run in runs]
        if not rows:
            return EMPTY
        return format_html_join("", '<div><a href="{}">{}</a> <span class="text-muted">{}</span></div>', rows)
