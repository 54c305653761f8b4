"""Where the client finds the service: environment first, then `~/.config/governance/config.json`.

Environment: `GOVERNANCE_URL`, `GOVERNANCE_API_KEY` (or `GOVERNANCE_API_KEY_FILE`, a file holding the
key), `GOVERNANCE_PROJECT` (a project slug, needed only when the key sees several projects),
`GOVERNANCE_CONFIG` (another config file). The file is JSON: `{"url", "api_key", "project"}`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import NotConfigured

ENV_URL = "GOVERNANCE_URL"
ENV_KEY = "GOVERNANCE_API_KEY"
ENV_KEY_FILE = "GOVERNANCE_API_KEY_FILE"
ENV_PROJECT = "GOVERNANCE_PROJECT"
ENV_CONFIG = "GOVERNANCE_CONFIG"
MISSING = "governance client not configured"


def default_config_path() -> Path:
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "governance" / "config.json"


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str = field(repr=False)  # never printed
    project: str | None = None

    @property
    def display_url(self) -> str:
        return display_url(self.url)


def display_url(url: str) -> str:
    """The URL without credentials (`http://user:pw@host` shows as `http://host`) or a trailing slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")


def _read_key_file(path: str) -> str:
    try:
        return Path(path).expanduser().read_text().strip()
    except OSError as exc:
        raise NotConfigured(f"cannot read the API key file named by {ENV_KEY_FILE}: {exc.strerror}") from None


def _read_config_file(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NotConfigured(f"cannot read the governance config file {path}: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise NotConfigured(f"the governance config file {path} must hold a JSON object")
    return data


def resolve(url: str | None = None, api_key: str | None = None, project: str | None = None) -> Settings:
    """Explicit arguments win, then the environment, then the config file."""
    file_data: dict | None = None

    def from_file(name: str) -> str | None:
        nonlocal file_data
        if file_data is None:
            file_data = _read_config_file(default_config_path())
        value = file_data.get(name)
        return str(value) if value else None

    url = url or os.environ.get(ENV_URL) or from_file("url")
    if api_key is None:
        if os.environ.get(ENV_KEY):
            api_key = os.environ[ENV_KEY].strip()
        elif os.environ.get(ENV_KEY_FILE):
            api_key = _read_key_file(os.environ[ENV_KEY_FILE])
        else:
            api_key = from_file("api_key")
    project = project or os.environ.get(ENV_PROJECT) or from_file("project")
    missing = [name for name, value in (("service URL", url), ("API key", api_key)) if not value]
    if missing:
        raise NotConfigured(
            f"{MISSING}: no {' and no '.join(missing)}. Set {ENV_URL} and {ENV_KEY} "
            f'(or {ENV_KEY_FILE}), or write {{"url", "api_key"}} to {default_config_path()}'
        )
    assert url is not None and api_key is not None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured(f"the governance service URL must be http(s)://host[:port], got {display_url(url)!r}")
    return Settings(url=url.rstrip("/"), api_key=api_key, project=project or None)
