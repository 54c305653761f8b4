"""Prompt templates, immutable versions, movable labels, rendering and diffs."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from llmops.events import LLMEvent
from llmops.models import PromptLabel, PromptLabelMove, PromptTemplate, PromptVersion
from registry.actors import Actor
from registry.audit import audit_append, canonical_json
from registry.errors import Conflict, ServiceError, field_error
from registry.locks import for_update
from registry.models import Project
from registry.services.common import created_by, unique_or_conflict

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ROLES = ("system", "user", "assistant", "tool", "developer")


def prompt_create(*, actor: Actor, project: Project, name: str, description: str = "") -> PromptTemplate:
    with unique_or_conflict(f"prompt {name!r} already exists in {project.slug}", "name"):
        template = PromptTemplate.objects.create(
            project=project, name=name, description=description, **created_by(actor)
        )
        audit_append(actor=actor, event_type=LLMEvent.PROMPT_CREATED, target=template, after={"name": name})
    return template


def _placeholders(kind: str, messages: list, text: str) -> set[str]:
    if kind == PromptVersion.Kind.TEXT:
        return set(PLACEHOLDER.findall(text))
    return {name for message in messages for name in PLACEHOLDER.findall(message["content"])}


def _check_content(kind: str, messages: object, text: object, variables: object, parameters: object) -> None:
    if kind not in PromptVersion.Kind.values:
        raise field_error("kind", f"must be one of {', '.join(PromptVersion.Kind.values)}")
    if kind == PromptVersion.Kind.CHAT:
        if not isinstance(messages, list) or not messages:
            raise field_error("messages", "a chat prompt needs a non-empty list of messages")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or set(message) != {"role", "content"}:
                raise field_error(f"messages[{index}]", 'must be {"role": ..., "content": ...}')
            if message["role"] not in ROLES:
                raise field_error(f"messages[{index}].role", f"must be one of {', '.join(ROLES)}")
            if not isinstance(message["content"], str):
                raise field_error(f"messages[{index}].content", "must be a string")
        if text:
            raise field_error("text", "a chat prompt has messages, not text")
    else:
        if not isinstance(text, str) or not text.strip():
            raise field_error("text", "a text prompt needs a non-empty text")
        if messages:
            raise field_error("messages", "a text prompt has text, not messages")
    if not isinstance(variables, list) or not all(isinstance(v, str) and VARIABLE_NAME.match(v) for v in variables):
        raise field_error("variables", "must be a list of identifiers")
    if len(set(variables)) != len(variables):
        raise field_error("variables", "lists a variable twice")
    if not isinstance(parameters, dict):
        raise field_error("parameters", "must be an object")
    used = _placeholders(kind, messages or [], text or "")
    if undeclared := sorted(used - set(variables)):
        raise field_error("variables", f"the prompt uses undeclared variables: {', '.join(undeclared)}")
    if unused := sorted(set(variables) - used):
        raise field_error("variables", f"declared but never used: {', '.join(unused)}")


def prompt_content_sha256(
    *, kind: str, messages: list, text: str, variables: list, model: str, parameters: dict
) -> str:
    content = {
        "kind": kind,
        "messages": messages,
        "text": text,
        "variables": sorted(variables),
        "model": model,
        "parameters": parameters,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def prompt_version_create(
    *,
    actor: Actor,
    template: PromptTemplate,
    kind: str,
    messages: list | None = None,
    text: str = "",
    variables: list | None = None,
    model: str = "",
    parameters: dict | None = None,
    commit_message: str = "",
    labels: list[str] | None = None,
) -> PromptVersion:
    messages, variables, parameters = messages or [], variables or [], parameters or {}
    _check_content(kind, messages, text, variables, parameters)
    digest = prompt_content_sha256(
        kind=kind, messages=messages, text=text, variables=variables, model=model, parameters=parameters
    )
    with transaction.atomic():
        for_update(PromptTemplate.objects).filter(pk=template.pk).first()  # versions numbered one at a time
        latest = template.versions.order_by("-version").first()
        if latest is not None and latest.content_sha256 == digest:
            raise Conflict(
                f"identical to version {latest.version} of {template.name}", fields={"content": ["unchanged"]}
            )
        number = (template.versions.aggregate(n=Max("version"))["n"] or 0) + 1
        version = PromptVersion(
            template=template,
            project_id=template.project_id,
            version=number,
            kind=kind,
            messages=messages,
            text=text,
            variables=variables,
            model=model,
            parameters=parameters,
            content_sha256=digest,
            commit_message=commit_message,
            **created_by(actor),
        )
        version.save(force_insert=True)
        audit_append(
            actor=actor,
            event_type=LLMEvent.PROMPT_VERSION_CREATED,
            target=version,
            project_id=template.project_id,
            after={"prompt": template.name, "version": number, "content_sha256": digest, "commit": commit_message},
        )
        for label in labels or []:
            prompt_label_move(actor=actor, template=template, name=label, version=version)
    return version


def prompt_label_move(*, actor: Actor, template: PromptTemplate, name: str, version: PromptVersion) -> PromptLabel:
    """Point a label at a version (creating the label); recorded in its history and the audit trail."""
    if not isinstance(name, str) or not LABEL_NAME.match(name):
        raise field_error("label", "lowercase letters, digits, dot, dash and underscore; up to 64 characters")
    if version.template_id != template.pk:
        raise field_error("version", f"version {version.pk} is not a version of {template.name}")
    with transaction.atomic():
        label = for_update(PromptLabel.objects).filter(template=template, name=name).first()
        previous = label.version if label is not None else None
        if previous is not None and previous.pk == version.pk:
            return label
        if label is None:
            label = PromptLabel.objects.create(template=template, name=name, version=version)
        else:
            label.version = version
            label.save(update_fields=["version", "updated_at"])
        PromptLabelMove.objects.create(
            template=template,
            name=name,
            from_version=previous,
            to_version=version,
            moved_at=timezone.now(),
            moved_by=actor.label,
        )
        audit_append(
            actor=actor,
            event_type=LLMEvent.PROMPT_LABEL_MOVED,
            target=template,
            before={"label": name, "version": previous.version if previous is not None else None},
            after={"label": name, "version": version.version, "prompt_version_id": version.pk},
        )
    return label


def prompt_version_at(*, template: PromptTemplate, label: str, at: datetime | None = None) -> PromptVersion:
    """The version a label pointed at, now or at a past time (from the label's history)."""
    if at is None:
        current = PromptLabel.objects.filter(template=template, name=label).select_related("version").first()
        if current is None:
            raise field_error("label", f"prompt {template.name!r} has no label {label!r}")
        return current.version
    move = (
        PromptLabelMove.objects.filter(template=template, name=label, moved_at__lte=at)
        .select_related("to_version")
        .order_by("-moved_at", "-id")
        .first()
    )
    if move is None:
        raise field_error("label", f"prompt {template.name!r} had no label {label!r} at {at.isoformat()}")
    return move.to_version


def prompt_render(*, version: PromptVersion, variables: object) -> dict:
    """The prompt with its variables filled in; refuses missing and unknown variables."""
    if not isinstance(variables, dict):
        raise field_error("variables", "must be an object")
    declared = set(version.variables)
    errors: dict[str, list[str]] = {}
    for name in sorted(declared - set(variables)):
        errors[f"variables.{name}"] = ["is required by this prompt version"]
    for name in sorted(set(variables) - declared):
        errors[f"variables.{name}"] = ["is not a variable of this prompt version"]
    for name, value in variables.items():
        if name in declared and (not isinstance(value, (str, int, float)) or isinstance(value, bool)):
            errors[f"variables.{name}"] = ["must be a string or a number"]
    if errors:
        raise ServiceError("the variables do not match the prompt version", fields=errors)

    def fill(template: str) -> str:
        return PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), template)

    rendered: dict = {"prompt_version": version.pk, "model": version.model, "parameters": version.parameters}
    if version.kind == PromptVersion.Kind.TEXT:
        rendered["text"] = fill(version.text)
    else:
        rendered["messages"] = [{"role": m["role"], "content": fill(m["content"])} for m in version.messages]
    return rendered


def _as_lines(version: PromptVersion) -> list[str]:
    lines = [f"model: {version.model}", f"parameters: {json.dumps(version.parameters, sort_keys=True)}"]
    lines.append(f"variables: {', '.join(version.variables)}")
    if version.kind == PromptVersion.Kind.TEXT:
        lines += ["text:", *version.text.splitlines()]
    else:
        for message in version.messages:
            lines += [f"[{message['role']}]", *message["content"].splitlines()]
    return lines


def prompt_versions_diff(*, a: PromptVersion, b: PromptVersion) -> dict:
    """What changed from version a to version b: field by field, and a unified diff of the content."""
    if a.template_id != b.template_id:
        raise field_error("b", "both versions must belong to the same prompt")
    changes: dict[str, dict] = {}
    for field in ("kind", "model", "text", "messages"):
        if getattr(a, field) != getattr(b, field):
            changes[field] = {"from": getattr(a, field), "to": getattr(b, field)}
    added, removed = sorted(set(b.variables) - set(a.variables)), sorted(set(a.variables) - set(b.variables))
    if added or removed:
        changes["variables"] = {"added": added, "removed": removed}
    keys = set(a.parameters) | set(b.parameters)
    params = {k: {"from": a.parameters.get(k), "to": b.parameters.get(k)} for k in sorted(keys)}
    params = {k: v for k, v in params.items() if v["from"] != v["to"]}
    if params:
        changes["parameters"] = params
    unified = difflib.unified_diff(
        _as_lines(a), _as_lines(b), fromfile=f"v{a.version}", tofile=f"v{b.version}", lineterm=""
    )
    return {
        "from": a.version,
        "to": b.version,
        "identical": not changes,
        "changes": changes,
        "unified": "\n".join(unified),
    }
