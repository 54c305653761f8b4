"""LLM providers behind one small interface, used by evaluation runs and by the ``llm_judge`` evaluator.

Two implementations:

- ``LocalProvider``: deterministic and offline, so tests, CI and the demo can run evaluations with no key
  and no network. Its answers are derived from the messages in a reproducible way, so two prompt versions
  give different outputs that an evaluation can compare.
- ``OpenAICompatibleProvider``: POSTs to ``{base_url}/chat/completions`` (OpenAI, Azure-style gateways,
  vLLM, Ollama, LiteLLM all speak it). Used only when a key is configured.

Errors raise ``ProviderError``, whose text never carries the API key, even when a server echoes it back.

This module also holds the judge prompt's wire format and the small word and sentence helpers, because
the local provider must understand what the ``llm_judge`` evaluator sends, and the groundedness evaluator
must count words the same way the local provider does (``llmops.evaluators`` imports them from here).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from llmops import tokens

# ---------------------------------------------------------------------------------------------------------------------
# Words and sentences (shared with the groundedness evaluator)
# ---------------------------------------------------------------------------------------------------------------------

# A small English stop-word list: function words that say nothing about whether a claim is supported.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    """.split()
)

_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# A sentence ends at . ! or ? followed by white space, or at a line break.
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split at ``.``/``!``/``?`` plus white space and at line breaks; blanks dropped."""
    return [part.strip() for part in _SENTENCE_SPLIT_RE.split(text or "") if part and part.strip()]


def words(text: str) -> list[str]:
    """Lowercased words, with typographic apostrophes folded and a possessive ``'s`` removed."""
    found = _WORD_RE.findall((text or "").lower().replace("\u2019", "'"))
    return [w[:-2] if w.endswith("'s") else w for w in found]


def content_words(text: str) -> set[str]:
    """The words of a text that carry meaning: lowercased, stop words removed."""
    return {w for w in words(text) if w not in STOP_WORDS}


# ---------------------------------------------------------------------------------------------------------------------
# Judge prompt format (built by llmops.evaluators' llm_judge, recognised by LocalProvider)
# ---------------------------------------------------------------------------------------------------------------------

JUDGE_MARKER = "[llm_judge v1]"
JUDGE_SYSTEM_PROMPT = (
    f"{JUDGE_MARKER} You are a strict evaluation judge. Score the candidate output against the rubric, using "
    "the expected answer and the context when they are given. Reply with one JSON object and nothing else, no "
    'prose and no code fences: {"score": <number from 0 to 1>, "reason": "<one short sentence>"}'
)
_JUDGE_SECTION_RE = re.compile(r"<(rubric|variables|context|expected|candidate)>\n(.*?)\n</\1>", re.DOTALL)
CONTEXT_CHUNK_SEPARATOR = "\n---\n"


def judge_messages(
    *,
    rubric: str,
    candidate: str,
    expected: str | None = None,
    context: Sequence[str] = (),
    variables: Mapping[str, Any] | None = None,
) -> list[dict]:
    """The chat messages of one judge request; empty sections are left out so the judge is not misled."""
    sections = [("rubric", rubric)]
    if variables:
        sections.append(("variables", json.dumps(variables, ensure_ascii=False, sort_keys=True, default=str)))
    if context:
        sections.append(("context", CONTEXT_CHUNK_SEPARATOR.join(context)))
    if expected is not None:
        sections.append(("expected", expected))
    sections.append(("candidate", candidate))
    user = "\n".join(f"<{name}>\n{body}\n</{name}>" for name, body in sections)
    return [{"role": "system", "content": JUDGE_SYSTEM_PROMPT}, {"role": "user", "content": user}]


def judge_sections(messages: Sequence[Mapping]) -> dict[str, str] | None:
    """The sections of a judge request, or None when the messages are not one."""
    if not messages or not _message_text(messages[0]).startswith(JUDGE_MARKER):
        return None
    user = _last_user_text(messages)
    return {name: body for name, body in _JUDGE_SECTION_RE.findall(user)}


# ---------------------------------------------------------------------------------------------------------------------
# Interface
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """One model reply. ``usage`` is OpenAI-style (``prompt_tokens``, ``completion_tokens``, ...), or ``{}``
    when the provider gave none (the caller then counts with tiktoken and records that as the token source)."""

    text: str
    usage: dict = field(default_factory=dict)
    latency_ms: float = 0.0
    model: str = ""
    provider: str = ""


class ProviderError(Exception):
    """A provider call failed. The message is safe to log and to show: it never contains the API key."""

    def __init__(self, message: str, *, status: int | None = None, provider: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.provider = provider


@runtime_checkable
class Provider(Protocol):
    name: str

    def complete(self, messages: list[dict], *, model: str, params: dict | None = None) -> Completion: ...


def _message_text(message: Mapping) -> str:
    """A message's text; OpenAI's list-of-parts content is joined from its text parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def _last_user_text(messages: Sequence[Mapping]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _message_text(message)
    return ""


# ---------------------------------------------------------------------------------------------------------------------
# Local, deterministic provider
# ---------------------------------------------------------------------------------------------------------------------

# "Context:" opens a block that runs to the next "Label:" line (e.g. "Question:") or to the end.
_CONTEXT_BLOCK_RE = re.compile(r"^[ \t]*context:[ \t]*\n?(.*?)(?=^[ \t]*[A-Za-z][\w ]{0,30}:|\Z)", re.I | re.M | re.S)
_LABEL_RE = re.compile(r"^[ \t]*[A-Za-z][\w ]{0,30}:", re.M)
DEFAULT_LOCAL_MAX_WORDS = 200


def overlap_f1(candidate: str, reference: str) -> float:
    """F1 of the content words two texts share (as in SQuAD's token F1, on word sets)."""
    cand, ref = content_words(candidate), content_words(reference)
    common = len(cand & ref)
    if not common:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)


class LocalProvider:
    """Deterministic offline provider for tests and the demo.

    - A judge request (``judge_messages``) gets ``{"score", "reason"}`` with the score the word-overlap F1
      between the candidate and the expected answer (or the context when no answer is expected).
    - A user message with a ``Context:`` block gets the context sentence sharing most content words with
      the rest of the message (the question); ties go to the earlier sentence.
    - Anything else gets the last user message with white space collapsed (cut to ``max_tokens`` when set).
    """

    name = "local"

    def complete(self, messages: list[dict], *, model: str, params: dict | None = None) -> Completion:
        started = time.perf_counter()
        sections = judge_sections(messages)
        text = self._judge(sections) if sections is not None else self._answer(_last_user_text(messages))
        max_tokens = (params or {}).get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens >= 0 and sections is None:
            encoding, _ = tokens.encoding_for_model(model)
            text = encoding.decode(encoding.encode_ordinary(text)[:max_tokens])
        prompt_tokens, _ = tokens.count_messages(messages, model)
        completion_tokens, _ = tokens.count_text(text, model)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        latency_ms = (time.perf_counter() - started) * 1000
        return Completion(text=text, usage=usage, latency_ms=latency_ms, model=model, provider=self.name)

    @staticmethod
    def _judge(sections: dict[str, str]) -> str:
        candidate = sections.get("candidate", "")
        if "expected" in sections:
            reference, against = sections["expected"], "the expected answer"
        elif "context" in sections:
            reference, against = sections["context"].replace(CONTEXT_CHUNK_SEPARATOR, "\n"), "the context"
        else:
            return json.dumps({"score": 0.0, "reason": "No expected answer or context to compare with."})
        score = round(overlap_f1(candidate, reference), 4)
        return json.dumps({"score": score, "reason": f"Word overlap F1 with {against} is {score}."})

    @staticmethod
    def _answer(user: str) -> str:
        block = _CONTEXT_BLOCK_RE.search(user)
        if block is None:
            collapsed = " ".join(user.split())
            return " ".join(collapsed.split(" ")[:DEFAULT_LOCAL_MAX_WORDS])
        sentences = split_sentences(block.group(1))
        if not sentences:
            return ""
        question = content_words(_LABEL_RE.sub(" ", user[: block.start()] + " " + user[block.end() :]))
        best = max(range(len(sentences)), key=lambda i: (len(content_words(sentences[i]) & question), -i))
        return sentences[best]


# ---------------------------------------------------------------------------------------------------------------------
# OpenAI-compatible HTTP provider
# ---------------------------------------------------------------------------------------------------------------------

ERROR_SNIPPET_CHARS = 200


class OpenAICompatibleProvider:
    """Chat completions over HTTP, ``Authorization: Bearer <key>``; one request per call, no retries
    (an evaluation run records a failed item and goes on; retry policy belongs to the caller)."""

    name = "openai_compatible"

    def __init__(self, base_url: str, api_key: str, timeout: float = 30) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleProvider(base_url={self.base_url!r})"

    def complete(self, messages: list[dict], *, model: str, params: dict | None = None) -> Completion:
        params = dict(params or {})
        if params.get("stream"):
            raise ValueError("streaming is not supported")
        body = {**params, "model": model, "messages": messages}
        headers = {"Authorization": f"Bearer {self._api_key}", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            response = httpx.post(f"{self.base_url}/chat/completions", json=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise self._error(f"request timed out after {self.timeout}s")
        except httpx.HTTPError as exc:
            raise self._error(f"connection failed: {type(exc).__name__}: {exc}")
        latency_ms = (time.perf_counter() - started) * 1000
        if not response.is_success:
            raise self._error(
                f"HTTP {response.status_code}: {self._error_summary(response)}", status=response.status_code
            )
        text, usage, reply_model = self._parse(response)
        return Completion(text=text, usage=usage, latency_ms=latency_ms, model=reply_model or model, provider=self.name)

    def _parse(self, response: httpx.Response) -> tuple[str, dict, str]:
        try:
            payload = response.json()
        except ValueError:
            raise self._error("malformed response: body is not JSON", status=response.status_code)
        try:
            message = payload["choices"][0]["message"]
            content = message.get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._error("malformed response: no choices[0].message", status=response.status_code)
        if content is not None and not isinstance(content, str):
            raise self._error("malformed response: message content is not text", status=response.status_code)
        usage = payload.get("usage")
        reply_model = payload.get("model")
        return (
            content or "",
            usage if isinstance(usage, dict) else {},
            reply_model if isinstance(reply_model, str) else "",
        )

    @staticmethod
    def _error_summary(response: httpx.Response) -> str:
        """The server's own error message when it sends OpenAI's ``{"error": {"message"}}``, else the body's start."""
        try:
            payload = response.json()
            error = payload.get("error") if isinstance(payload, dict) else None
            message = error.get("message") if isinstance(error, dict) else error
            if isinstance(message, str) and message:
                return message[:ERROR_SNIPPET_CHARS]
        except ValueError:
            pass
        return response.text[:ERROR_SNIPPET_CHARS] or response.reason_phrase

    def _error(self, message: str, *, status: int | None = None) -> ProviderError:
        """A ProviderError with the key scrubbed out, in case the server or httpx echoed it."""
        if self._api_key:
            message = message.replace(self._api_key, "[redacted]")
        return ProviderError(message, status=status, provider=self.name)


# ---------------------------------------------------------------------------------------------------------------------
# Choosing a provider
# ---------------------------------------------------------------------------------------------------------------------

PROVIDER_NAMES = (LocalProvider.name, OpenAICompatibleProvider.name)


def provider_from_settings(name: str | None = None) -> Provider:
    """The configured provider: the OpenAI-compatible one when ``LLM_PROVIDER_BASE_URL`` and
    ``LLM_PROVIDER_API_KEY`` are both set, else the local one. ``name`` forces one of ``PROVIDER_NAMES``."""
    from django.conf import settings

    base_url = getattr(settings, "LLM_PROVIDER_BASE_URL", "") or ""
    api_key = getattr(settings, "LLM_PROVIDER_API_KEY", "") or ""
    timeout = getattr(settings, "LLM_PROVIDER_TIMEOUT", 30) or 30
    configured = bool(base_url and api_key)
    if name is None:
        name = OpenAICompatibleProvider.name if configured else LocalProvider.name
    if name == LocalProvider.name:
        return LocalProvider()
    if name == OpenAICompatibleProvider.name:
        if not configured:
            raise ProviderError(
                "provider openai_compatible needs LLM_PROVIDER_BASE_URL and LLM_PROVIDER_API_KEY", provider=name
            )
        return OpenAICompatibleProvider(base_url, api_key, timeout=float(timeout))
    raise ValueError(f"unknown provider {name!r}; known: {', '.join(PROVIDER_NAMES)}")
