"""One wording of the connection status, shared by `%governance status` and the server's /governance/status."""

from __future__ import annotations

from typing import Any, TypedDict


class Status(TypedDict):
    connected: bool
    service_url: str
    message: str
    whoami: dict[str, Any] | None
    project: str | None
    role: str | None


def pick_membership(whoami: dict[str, Any], project: str | None) -> tuple[str | None, str | None]:
    """(project slug, role): the configured project, else the key's only (or first) project."""
    memberships = whoami.get("memberships") or []
    if project:
        for m in memberships:
            if m.get("project") == project:
                return m["project"], m.get("role")
        return project, "superuser" if whoami.get("is_superuser") else None
    if memberships:
        return memberships[0].get("project"), memberships[0].get("role")
    return None, "superuser" if whoami.get("is_superuser") else None


def connected(url: str, whoami: dict[str, Any], project: str | None = None) -> Status:
    slug, role = pick_membership(whoami, project)
    if slug and role:
        message = f"connected to {url} as {role} of project {slug}"
    elif slug:
        message = f"connected to {url}, but {whoami.get('name', 'this key')} has no role in project {slug}"
    elif whoami.get("is_superuser"):
        message = f"connected to {url} as superuser {whoami.get('name', '')}".rstrip()
    else:
        message = f"connected to {url}, but this key has no role in any project"
    others = [m["project"] for m in whoami.get("memberships") or [] if m.get("project") != slug]
    if others:
        message += f" (also: {', '.join(others)})"
    return Status(connected=True, service_url=url, message=message, whoami=whoami, project=slug, role=role)


def failed(url: str, message: str) -> Status:
    return Status(connected=False, service_url=url, message=message, whoami=None, project=None, role=None)


def not_configured(url: str, detail: str = "") -> Status:
    message = detail or (
        "not configured: set c.Governance.service_url and c.Governance.api_key in the Jupyter server config, "
        "or GOVERNANCE_URL and GOVERNANCE_API_KEY (or GOVERNANCE_API_KEY_FILE) in the server's environment"
    )
    return failed(url, message)


def unreachable(url: str, reason: str) -> Status:
    return failed(url, f"cannot reach the governance service at {url}: {reason}")


def refused(url: str, status: int, message: str) -> Status:
    if status in (401, 403):
        return failed(url, f"the governance service at {url} refused the API key (HTTP {status}): {message}")
    return failed(url, f"the governance service at {url} answered HTTP {status}: {message}")
