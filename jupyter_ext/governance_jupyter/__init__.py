"""JupyterLab extension, IPython magics and REST client for the ML governance service."""

from __future__ import annotations

try:
    from ._version import __version__
except ImportError:  # a source tree that was never built
    __version__ = "dev"

from .client import GovernanceClient
from .errors import GovernanceError, JobFailed, NotConfigured, ServiceRefused, ServiceUnreachable
from .register import RUN_MIME, register_dataset_version, register_model_version, register_run, register_training

__all__ = [
    "RUN_MIME",
    "GovernanceClient",
    "GovernanceError",
    "JobFailed",
    "NotConfigured",
    "ServiceRefused",
    "ServiceUnreachable",
    "__version__",
    "register_dataset_version",
    "register_model_version",
    "register_run",
    "register_training",
]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "governance-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "governance_jupyter"}]


def _load_jupyter_server_extension(server_app) -> None:  # noqa: ANN001 - jupyter_server's ServerApp
    from .handlers import setup_handlers

    setup_handlers(server_app)
    server_app.log.info("Registered governance_jupyter server extension")


def load_ipython_extension(ipython) -> None:  # noqa: ANN001 - IPython's InteractiveShell
    from .magics import GovernanceMagics

    ipython.register_magics(GovernanceMagics)
