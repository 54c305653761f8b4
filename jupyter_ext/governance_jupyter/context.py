"""What a run records about where it came from: notebook path, git state, Python environment.

Plain module: imports nothing from jupyter_server; ipykernel only lazily, inside a running kernel.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

KERNEL_FILE = re.compile(r"kernel-(?P<id>[0-9a-fA-F-]+)\.json$")


# -- notebook path --------------------------------------------------------------------------------


def kernel_id_from_connection_file(path: str | None) -> str | None:
    if not path:
        return None
    match = KERNEL_FILE.search(os.path.basename(path))
    return match.group("id") if match else None


def _connection_file() -> str | None:
    if "ipykernel" not in sys.modules:  # not inside a kernel (plain python, a test's InteractiveShell)
        return None
    try:
        from ipykernel.connect import get_connection_file

        return get_connection_file()
    except Exception:  # noqa: BLE001 - no kernel app running
        return None


def _runtime_dir() -> Path:
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        return Path(jupyter_runtime_dir())
    except ImportError:  # pragma: no cover - jupyter_core comes with any kernel
        return Path.home() / ".local" / "share" / "jupyter" / "runtime"


def _server_infos(runtime_dir: Path) -> list[dict]:
    infos = []
    for path in sorted(runtime_dir.glob("jpserver-*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and info.get("url"):
            infos.append(info)
    return infos


def _session_path(info: dict, kernel_id: str, timeout: float) -> str | None:
    url = info["url"]  # the server's connection URL, base_url included
    headers = {"Authorization": f"token {info['token']}"} if info.get("token") else {}
    try:
        response = httpx.get(url.rstrip("/") + "/api/sessions", headers=headers, timeout=timeout)
        sessions = response.json() if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return None
    for session in sessions if isinstance(sessions, list) else []:
        if (session.get("kernel") or {}).get("id") == kernel_id:
            return session.get("path") or session.get("notebook", {}).get("path")
    return None


def notebook_path(
    *, connection_file: str | None = None, runtime_dir: str | Path | None = None, timeout: float = 2.0
) -> str | None:
    """The notebook's path (relative to the Jupyter server's root): `JPY_SESSION_NAME`, else the sessions API.

    For the sessions API the kernel id comes from the kernel's connection file (`kernel-<id>.json`)
    and the running servers from the runtime dir's `jpserver-*.json` files.
    """
    name = os.environ.get("JPY_SESSION_NAME")
    if name:
        return name
    kernel_id = kernel_id_from_connection_file(connection_file or _connection_file())
    if not kernel_id:
        return None
    for info in _server_infos(Path(runtime_dir) if runtime_dir else _runtime_dir()):
        path = _session_path(info, kernel_id, timeout)
        if path:
            return path
    return None


# -- git ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GitInfo:
    commit: str = ""
    branch: str = ""
    dirty: bool | None = None
    root: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _git(directory: Path, *args: str, strip: bool = True) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() if strip else result.stdout


def _changed_paths(porcelain_z: str) -> list[str]:
    """Paths (relative to the repository root) of `git status --porcelain -z` entries."""
    paths: list[str] = []
    entries = iter(porcelain_z.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # a rename or copy: its source path follows as its own entry
            next(entries, None)
    return paths


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def git_info(directory: str | Path | None = None, *, ignore: tuple[str | Path, ...] = ()) -> GitInfo:
    """Commit, branch and dirty flag of the repository holding `directory` (default: the working dir).

    Outside a repository (or without git) every field is empty. A repository without commits has no
    commit; a detached HEAD has branch "HEAD". Dirty means any tracked change or untracked file, except
    under the `ignore` directories (the model artifact directory: saving a model must not make the next
    run dirty).
    """
    directory = Path(directory or os.getcwd())
    if directory.is_file():
        directory = directory.parent
    root = _git(directory, "rev-parse", "--show-toplevel")
    if root is None:
        return GitInfo()
    commit = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD") or ""
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD") or _git(directory, "symbolic-ref", "--short", "HEAD")
    status = _git(directory, "status", "--porcelain", "-z", "--untracked-files=normal", strip=False)
    if status is None:
        return GitInfo(commit=commit, branch=branch or "", dirty=None, root=root)
    ignored = []
    for path in ignore:
        try:
            ignored.append(Path(path).resolve().relative_to(Path(root).resolve()).as_posix())
        except ValueError:  # outside the repository
            continue
    changed = [p for p in _changed_paths(status) if not _under(p, ignored)]
    return GitInfo(commit=commit, branch=branch or "", dirty=bool(changed), root=root)


# -- environment ----------------------------------------------------------------------------------

BASE_PACKAGES = ("scikit-learn", "pandas", "numpy", "joblib")
MODULE_DISTRIBUTIONS = {"sklearn": "scikit-learn", "sklego": "scikit-lego"}


def _version(module: str) -> str | None:
    dist = MODULE_DISTRIBUTIONS.get(module, module)
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        names = importlib.metadata.packages_distributions().get(module) or []
    except Exception:  # noqa: BLE001
        names = []
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    mod = sys.modules.get(module)
    return str(getattr(mod, "__version__", "")) or None


def _estimator_modules(estimator: Any) -> list[str]:
    """Top-level modules of the estimator and, for pipelines and wrappers, of its sub-estimators."""
    modules = {type(estimator).__module__.split(".")[0]}
    get_params = getattr(estimator, "get_params", None)
    if callable(get_params):
        try:
            params = get_params(deep=True)
        except Exception:  # noqa: BLE001
            params = {}
        for value in params.values():
            if hasattr(value, "get_params") and not isinstance(value, type):
                modules.add(type(value).__module__.split(".")[0])
    return sorted(m for m in modules if m not in ("builtins", "__main__"))


def environment(estimator: Any = None, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Python version, platform, and versions of sklearn, pandas, numpy, joblib and the estimator's packages."""
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "implementation": sys.implementation.name,
    }
    names = list(BASE_PACKAGES) + (_estimator_modules(estimator) if estimator is not None else []) + list(extra)
    for name in dict.fromkeys(names):
        dist = MODULE_DISTRIBUTIONS.get(name, name)
        version = _version(name)
        if version:
            env[dist] = version
    return env
