"""A small synchronous REST client for the governance service (httpx; nothing from jupyter_server).

    client = GovernanceClient()                 # URL and key from the environment or the config file
    client.whoami()                             # {"kind", "name", "is_superuser", "memberships": [...]}
    client.get("runs/", params={"project": "acme"})
    client.fairness_audit(12, ["sex"], "approve")  # a long operation: its job followed to the audit

Errors: `ServiceUnreachable` (names the URL), `ServiceRefused` (status, code, message, fields from the
service's error format), `JobFailed` (a background job's error, same shape), `NotConfigured`. The API key
is sent only in the Authorization header and never appears in an error, a repr or a log line.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import __version__
from .config import Settings, resolve
from .errors import GovernanceError, JobFailed, ServiceRefused, ServiceUnreachable

API_PREFIX = "/api/v1/"
SUBJECT_BATCH = 50_000  # the service takes at most 100,000 ids per request


def is_private_transport(url: str) -> bool:
    """True when the URL is HTTPS or a loopback address: raw subject ids may travel over it."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class GovernanceClient:
    """One service URL and API key; `project` (a slug) scopes lookups when the key sees several projects."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        project: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings: Settings = resolve(url, api_key, project)
        self._http = httpx.Client(
            base_url=self.settings.url + API_PREFIX,
            headers={
                "Authorization": f"Bearer {self.settings.api_key}",
                "Accept": "application/json",
                "User-Agent": f"governance-jupyter/{__version__}",
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )
        self._whoami: dict | None = None

    def __repr__(self) -> str:
        return f"GovernanceClient(url={self.url!r}, project={self.settings.project!r})"

    def __enter__(self) -> GovernanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def url(self) -> str:
        return self.settings.display_url

    # -- HTTP ---------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict | None = None, json: Any = None) -> Any:
        """One call to `<url>/api/v1/<path>`; the decoded JSON body, or a GovernanceError."""
        path = path.lstrip("/")
        where = f"{method} {API_PREFIX}{path}"
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise ServiceUnreachable(self.url, f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise ServiceUnreachable(self.url, _reason(exc)) from None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise ServiceRefused.from_response(response.status_code, body, url=where)
        if response.is_redirect:
            raise ServiceRefused(response.status_code, "redirect", "unexpected redirect", url=where)
        return body

    def get(self, path: str, params: dict | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any) -> Any:
        return self.request("POST", path, json=json)

    # -- background jobs ------------------------------------------------------------------------------

    def follow_job(self, job: dict, *, timeout: float = 600.0, interval: float = 0.5) -> dict:
        """Wait until a background job (the 202 answer of a long operation) has finished; the job as it ended.
        Raises JobFailed when it failed, GovernanceError when it has not finished within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while job.get("state") not in ("succeeded", "failed"):
            if time.monotonic() > deadline:
                raise GovernanceError(f"job {job.get('id')} has not finished after {timeout:.0f} s: {job.get('url')}")
            time.sleep(interval)
            job = self.get(_api_path(job["url"]))
        if job["state"] == "failed":
            raise JobFailed(job)
        return job

    def run(self, path: str, json: Any, *, timeout: float = 600.0) -> dict:
        """POST a long operation and follow its job to the record it made (the job's result, read)."""
        job = self.follow_job(self.post(path, json), timeout=timeout)
        return self.get(_api_path(job["result"]["url"]))

    def fairness_audit(
        self,
        model_version: int,
        sensitive_features: Sequence[str],
        positive_label: Any,
        *,
        window_start: str | None = None,
        window_end: str | None = None,
        basis: str = "prediction",
    ) -> dict:
        """Audit a version's decisions by sensitive attributes (POST fairness-audits/, then its job): the audit."""
        body: dict[str, Any] = {
            "model_version": int(model_version),
            "sensitive_features": list(sensitive_features),
            "positive_label": positive_label,
            "basis": basis,
        }
        body.update({k: v for k, v in (("window_start", window_start), ("window_end", window_end)) if v})
        return self.run("fairness-audits/", body)

    def drift_report(self, model_version: int, window_start: str, window_end: str) -> dict:
        """A window's drift against the training profile (POST drift-reports/, then its job): the report."""
        return self.run(
            "drift-reports/",
            {"model_version": int(model_version), "window_start": window_start, "window_end": window_end},
        )

    def performance_report(
        self, model_version: int, window_start: str, window_end: str, *, bucket: str = "week", **extra: Any
    ) -> dict:
        """Live accuracy per bucket (POST performance-reports/, then its job): the report."""
        body = {"model_version": int(model_version), "window_start": window_start, "window_end": window_end}
        return self.run("performance-reports/", {**body, "bucket": bucket, **extra})

    def iterate(self, path: str, params: dict | None = None, *, page_size: int = 500) -> Iterator[dict]:
        """Every item of a paginated list."""
        page = 1
        while True:
            body = self.get(path, {**(params or {}), "page": page, "page_size": page_size})
            if isinstance(body, list):  # an unpaginated list
                yield from body
                return
            yield from body.get("results", [])
            if not body.get("next"):
                return
            page += 1

    # -- who and where ------------------------------------------------------------------------------

    def whoami(self, *, refresh: bool = False) -> dict:
        if self._whoami is None or refresh:
            self._whoami = self.get("whoami/")
        return self._whoami

    def project_and_role(self) -> tuple[str | None, str | None]:
        """The project this client writes to (configured, or the key's only one) and its role there."""
        me = self.whoami()
        memberships = me.get("memberships") or []
        if self.settings.project:
            for m in memberships:
                if m["project"] == self.settings.project:
                    return m["project"], m["role"]
            return self.settings.project, "superuser" if me.get("is_superuser") else None
        if len(memberships) == 1:
            return memberships[0]["project"], memberships[0]["role"]
        return None, "superuser" if me.get("is_superuser") else None

    def project(self) -> str:
        slug, _ = self.project_and_role()
        if slug is None:
            raise GovernanceError(
                "this API key sees several projects (or none): name one with project=... or GOVERNANCE_PROJECT"
            )
        return slug

    # -- registry records ---------------------------------------------------------------------------

    def find_one(self, path: str, params: dict) -> dict | None:
        body = self.get(path, {**params, "page_size": 2})
        results = body.get("results", []) if isinstance(body, dict) else body
        return results[0] if results else None

    def dataset(
        self,
        name: str,
        *,
        contains_personal_data: bool,
        legal_basis: str = "",
        description: str = "",
        project: str | None = None,
    ) -> dict:
        """The project's dataset of that name, created if it does not exist."""
        project = project or self.project()
        found = self.find_one("datasets/", {"project": project, "name": name})
        if found is not None:
            return found
        if contains_personal_data and not legal_basis.strip():
            raise GovernanceError(
                f"dataset {name!r} is new and holds personal data (it has a subject column): give its legal basis "
                "(legal_basis=..., --legal-basis, or the sidebar's legal basis field), e.g. 'consent', 'contract' "
                "or 'legitimate interest'"
            )
        return self.post(
            "datasets/",
            {
                "project": project,
                "name": name,
                "contains_personal_data": contains_personal_data,
                "legal_basis": legal_basis,
                "description": description,
            },
        )

    def model(
        self, name: str, *, risk_tier: str | None = None, description: str = "", project: str | None = None
    ) -> dict:
        """The project's model of that name, created if it does not exist."""
        project = project or self.project()
        found = self.find_one("models/", {"project": project, "name": name})
        if found is not None:
            return found
        body: dict[str, Any] = {"project": project, "name": name, "description": description}
        if risk_tier:
            body["risk_tier"] = risk_tier
        return self.post("models/", body)

    def model_version_card(
        self,
        version_id: int,
        *,
        intended_use: str | None = None,
        limitations: str | None = None,
        risk_tier: str | None = None,
    ) -> dict:
        """Edit a version's model card (PATCH model-versions/<id>/): only the fields given. The risk tier is the
        model's, so it changes for every version. Refused once the version has been in production, and while an
        open incident names it."""
        body = {
            name: value
            for name, value in (("intended_use", intended_use), ("limitations", limitations), ("risk_tier", risk_tier))
            if value is not None
        }
        if not body:
            raise GovernanceError("give at least one of intended_use, limitations, risk_tier")
        return self.request("PATCH", f"model-versions/{int(version_id)}/", json=body)

    def index_subjects(self, data_version_id: int, subject_ids: Sequence[str | int]) -> dict[str, int]:
        """Send raw subject ids to the service, which pseudonymises them on arrival.

        Only over HTTPS or to a loopback address; the ids are never logged or kept here.
        """
        if not is_private_transport(self.settings.url):
            raise GovernanceError(
                f"refusing to send raw subject ids over plain HTTP to {self.url}: use an https:// URL "
                "(or a loopback address)"
            )
        indexed = duplicates = 0
        for batch in _batches(subject_ids, SUBJECT_BATCH):
            result = self.post(f"data-versions/{int(data_version_id)}/subjects/", {"subject_ids": batch})
            indexed += int(result.get("indexed", 0))
            duplicates += int(result.get("duplicates", 0))
        return {"indexed": indexed, "duplicates": duplicates}


def _api_path(url: str) -> str:
    """A path the service answered (`/api/v1/jobs/7/`) relative to the API prefix, as `request` takes it."""
    return url[len(API_PREFIX) :] if url.startswith(API_PREFIX) else url.lstrip("/")


def _batches(items: Iterable[str | int], size: int) -> Iterator[list[str | int]]:
    batch: list[str | int] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
