"""jupyter_server extension: a proxy from the browser to the governance service, read-only but for the card.

Routes (relative to the server's base_url), every one behind Jupyter's own authentication:

    GET /governance/status       {"connected", "service_url", "message", "whoami", "project", "role"}
    GET /governance/api/<path>   forwards GET <service_url>/api/v1/<path>?<query> for allow-listed paths
    PATCH /governance/api/model-versions/<id>/   forwards the model card edit (its JSON body, nothing else)

The service URL and API key come only from the server's configuration (`c.Governance.service_url`,
`c.Governance.api_key`, `c.Governance.project`) or its environment (GOVERNANCE_URL, GOVERNANCE_API_KEY
or GOVERNANCE_API_KEY_FILE, GOVERNANCE_PROJECT); a request can never choose the upstream. The key is
sent upstream in the Authorization header only and never appears in a response, an error or a log line.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import parse_qsl

import httpx
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from traitlets import Float, Unicode
from traitlets.config import Configurable

from . import __version__
from .client import API_PREFIX
from .config import ENV_URL, MISSING, Settings, display_url, resolve
from .errors import NotConfigured
from .status import connected, not_configured, refused, unreachable

ALLOWED_PATHS = tuple(
    re.compile(pattern)
    for pattern in (
        r"whoami/",
        r"projects/",
        r"datasets/",
        r"data-versions/",
        r"data-versions/\d+/",
        r"runs/",
        r"runs/\d+/",
        r"models/",
        r"model-versions/",
        r"model-versions/\d+/",
        r"model-versions/\d+/gate/",
        r"lineage/",
        r"fairness-audits/",
        r"drift-reports/",
        r"performance-reports/",
        r"llm/prompts/",
    )
)
# The one write the sidebar makes: a model version's card (the service checks the role and the fields).
PATCH_PATHS = (re.compile(r"model-versions/\d+/"),)
REDACTED = "[redacted]"


def path_allowed(path: str, method: str = "GET") -> bool:
    patterns = PATCH_PATHS if method == "PATCH" else ALLOWED_PATHS if method == "GET" else ()
    return any(pattern.fullmatch(path) for pattern in patterns)


class Governance(Configurable):
    """Where the governance service is. Set in jupyter_server_config.py (`c.Governance.service_url = ...`)."""

    service_url = Unicode("", config=True, help="Base URL of the governance service, e.g. https://gov.example.com")
    api_key = Unicode("", config=True, help="API key (gk_<prefix>_<secret>) the server uses; never sent to the browser")
    project = Unicode("", config=True, help="Project slug shown as current when the key sees several")
    timeout = Float(15.0, config=True, help="Seconds to wait for the service")

    def settings(self) -> Settings:
        """Traitlets first, then the environment, then ~/.config/governance/config.json. Raises NotConfigured."""
        return resolve(self.service_url or None, self.api_key or None, self.project or None)


class GovernanceHandler(APIHandler):
    """Shared plumbing: the configuration, upstream calls, and error bodies that never hold the key."""

    @property
    def governance(self) -> Governance:
        return self.settings["governance_config"]

    def scrub(self, text: str, settings: Settings | None) -> str:
        if settings is not None:
            if settings.api_key:
                text = text.replace(settings.api_key, REDACTED)
            if settings.url != settings.display_url:
                text = text.replace(settings.url, settings.display_url)
        return text

    def send_json(self, status: int, body: Any, settings: Settings | None = None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(self.scrub(json.dumps(body), settings))

    def send_error_json(self, status: int, code: str, message: str, settings: Settings | None = None) -> None:
        self.send_json(
            status, {"error": {"code": code, "message": message, "fields": {}}, "message": message}, settings
        )

    async def upstream_get(self, settings: Settings, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        return await self.upstream(settings, "GET", path, params=params)

    async def upstream(
        self, settings: Settings, method: str, path: str, *, params: list | None = None, body: Any = None
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {settings.api_key}",
            "Accept": "application/json",
            "User-Agent": f"governance-jupyter-server/{__version__}",
        }
        async with httpx.AsyncClient(
            base_url=settings.url + API_PREFIX, timeout=self.governance.timeout, follow_redirects=False
        ) as client:
            return await client.request(method, path, params=params or [], json=body, headers=headers)


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class StatusHandler(GovernanceHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        settings: Settings | None = None
        try:
            settings = self.governance.settings()
        except NotConfigured as exc:
            # a missing setting: say where to set it on the server; anything else (bad URL, key file): say that
            detail = "" if str(exc).startswith(MISSING) else str(exc)
            self.send_json(200, not_configured(self._configured_url(), detail))
            return
        url = settings.display_url
        try:
            response = await self.upstream_get(settings, "whoami/", [])
        except httpx.HTTPError as exc:
            reason = self.scrub(_reason(exc), settings)
            self.log.warning("governance: cannot reach %s: %s", url, reason)
            self.send_json(200, unreachable(url, reason), settings)
            return
        except Exception as exc:  # noqa: BLE001 - say what went wrong, without a traceback that could hold the key
            self.log.warning("governance: status check failed: %s", type(exc).__name__)
            self.send_json(200, unreachable(url, type(exc).__name__), settings)
            return
        body = _json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):
            self.send_json(200, refused(url, response.status_code, _error_message(body, response)), settings)
            return
        self.send_json(200, connected(url, body, settings.project), settings)

    def _configured_url(self) -> str:
        raw = self.governance.service_url or os.environ.get(ENV_URL, "")
        return display_url(raw) if raw else ""


class ProxyHandler(GovernanceHandler):
    @tornado.web.authenticated
    async def get(self, path: str) -> None:
        # JupyterLab's ServerConnection adds a cache-busting `?<milliseconds>` to every GET: not a parameter of
        # the service (which refuses unknown ones), so it stays here
        params = [
            (name, value)
            for name, value in parse_qsl(self.request.query, keep_blank_values=True)
            if not (name.isdigit() and value == "")
        ]
        await self.forward("GET", path, params=params)

    @tornado.web.authenticated
    async def patch(self, path: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.send_error_json(400, "invalid", "the body is not JSON")
            return
        if not isinstance(body, dict):
            self.send_error_json(400, "invalid", "the body must be a JSON object")
            return
        await self.forward("PATCH", path, body=body)

    async def forward(self, method: str, path: str, *, params: list | None = None, body: Any = None) -> None:
        if not path_allowed(path, method):
            self.send_error_json(404, "not_found", f"{method} {path} is not forwarded to the governance service")
            return
        try:
            settings = self.governance.settings()
        except NotConfigured as exc:
            self.send_error_json(503, "not_configured", str(exc))
            return
        try:
            response = await self.upstream(settings, method, path, params=params, body=body)
        except httpx.HTTPError as exc:
            reason = self.scrub(_reason(exc), settings)
            self.log.warning("governance: cannot reach %s: %s", settings.display_url, reason)
            message = f"cannot reach the governance service at {settings.display_url}: {reason}"
            self.send_error_json(502, "upstream_unreachable", message, settings)
            return
        except Exception as exc:  # noqa: BLE001
            self.log.warning("governance: proxy failed: %s", type(exc).__name__)
            self.send_error_json(502, "upstream_error", f"proxy failed: {type(exc).__name__}", settings)
            return
        if 300 <= response.status_code < 400:
            self.send_error_json(
                502, "upstream_redirect", f"the governance service answered HTTP {response.status_code}", settings
            )
            return
        body = _json_or_none(response)
        if body is None and response.content:
            message = f"the governance service answered HTTP {response.status_code} without JSON"
            self.send_error_json(502 if response.status_code < 400 else response.status_code, "upstream_error", message)
            return
        self.send_json(response.status_code, body, settings)


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_message(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code") or "")
    return response.reason_phrase or f"HTTP {response.status_code}"


def setup_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    web_app.settings["governance_config"] = Governance(parent=server_app)
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base_url, "governance", "status"), StatusHandler),
            (url_path_join(base_url, "governance", "api", "(.*)"), ProxyHandler),
        ],
    )
