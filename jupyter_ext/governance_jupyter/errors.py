"""The client's errors. None of them ever holds the API key."""

from __future__ import annotations

from typing import Any


class GovernanceError(Exception):
    """Base class of every error the client raises."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows this one line instead of a traceback: the message says what is wrong."""
        return [f"{type(self).__name__}: {self}"]


class NotConfigured(GovernanceError):
    """No service URL or no API key was found in the environment or the config file."""


class ServiceUnreachable(GovernanceError):
    """The service did not answer (connection refused, DNS, timeout, TLS). Names the URL."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the governance service at {url}: {reason}")


class ServiceRefused(GovernanceError):
    """The service answered with an error (4xx/5xx), parsed from its one error format.

    `{"error": {"code", "message", "fields"}}`; `fields` maps a field path to its messages.
    """

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None, *, url: str = ""
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.url = url
        detail = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.fields.items())
        where = f" ({url})" if url else ""
        text = f"the governance service refused{where}: HTTP {status} {code}: {message}"
        super().__init__(f"{text} [{detail}]" if detail else text)

    @classmethod
    def from_response(cls, status: int, body: Any, *, url: str = "") -> ServiceRefused:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            fields = error.get("fields") or {}
            if not isinstance(fields, dict):
                fields = {}
            clean = {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in fields.items()}
            return cls(status, str(error.get("code") or "error"), str(error.get("message") or ""), clean, url=url)
        return cls(status, "error", _short(body), url=url)


class JobFailed(GovernanceError):
    """A background job of the service (an audit, a report, an erasure's execution) failed: its error, in the
    service's words, with the input fields it names."""

    def __init__(self, job: dict[str, Any]) -> None:
        error = job.get("error") or {}
        self.job = job
        self.code = str(error.get("code") or "error")
        self.message = str(error.get("message") or "")
        self.fields = {str(k): [str(m) for m in v] for k, v in (error.get("fields") or {}).items()}
        super().__init__(
            f"job {job.get('id')} ({job.get('title') or job.get('kind')}) failed: {self.code}: {self.message}"
        )


def _short(body: Any, limit: int = 200) -> str:
    text = body if isinstance(body, str) else repr(body)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
