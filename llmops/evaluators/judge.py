"""LLM as judge: a model scores the output against a rubric through the configured provider, on the operator's
key, so the model, the token cap and the number of replies are the operator's choice (settings), never the config's."""

from __future__ import annotations

import json

from llmops.evaluators.base import SHARE, EvalInput, Evaluator, EvaluatorConfigError, Score, error_score, object_schema
from llmops.providers import Provider, ProviderError, judge_messages

RAW_REPLY_ECHO_CHARS = 500


def judge_reply_parse(text: str) -> tuple[float, str]:
    """(score, reason) from a judge reply that must be exactly ``{"score": 0..1, "reason": "..."}``.

    Strict on purpose: a judge that wraps its JSON in prose or code fences is not following the rubric format,
    and guessing at its number would make scores silently unreliable. Raises ValueError saying what is wrong.
    """
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"judge reply is not JSON: {exc.msg}")
    if not isinstance(payload, dict):
        raise ValueError("judge reply is not a JSON object")
    if set(payload) != {"score", "reason"}:
        raise ValueError(f"judge reply must have exactly the keys score and reason, got {sorted(payload)}")
    score, reason = payload["score"], payload["reason"]
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError("judge score must be a number from 0 to 1")
    if not isinstance(reason, str):
        raise ValueError("judge reason must be a string")
    return float(score), reason


# What a judge config may send to the provider, which runs on the operator's key: a model the operator allows
# (settings.LLM_JUDGE_MODELS), at most settings.LLM_JUDGE_MAX_TOKENS tokens, one choice, and sampling knobs.
JUDGE_PARAMS = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "seed": {"type": "integer"},
    "max_tokens": {"type": "integer", "minimum": 1, "description": "At most settings.LLM_JUDGE_MAX_TOKENS."},
    "n": {"const": 1, "description": "Always 1 (one reply per item)."},
}


DEFAULT_JUDGE_MAX_TOKENS = 256


def judge_limits() -> tuple[list[str], int, bool]:
    """(allowed judge models, max_tokens cap, whether the HTTP provider, on the operator's key, is configured)."""
    from django.conf import settings

    models = list(getattr(settings, "LLM_JUDGE_MODELS", []) or [])
    cap = int(getattr(settings, "LLM_JUDGE_MAX_TOKENS", DEFAULT_JUDGE_MAX_TOKENS) or DEFAULT_JUDGE_MAX_TOKENS)
    keyed = bool(getattr(settings, "LLM_PROVIDER_BASE_URL", "") and getattr(settings, "LLM_PROVIDER_API_KEY", ""))
    return models, cap, keyed


class LlmJudge(Evaluator):
    kind = "llm_judge"
    description = (
        "Asks a model (through the configured provider) to score the output against a rubric; the reply must be "
        'JSON {"score": 0..1, "reason": "..."}; passes when score >= pass_threshold. The model must be one the '
        "operator allows (LLM_JUDGE_MODELS), max_tokens is capped (LLM_JUDGE_MAX_TOKENS) and n is 1."
    )
    needs = ("provider",)
    config_schema = object_schema(
        {
            "rubric": {"type": "string", "minLength": 1, "description": "What a good output is."},
            "model": {"type": "string", "minLength": 1, "description": "The judge model (one of LLM_JUDGE_MODELS)."},
            "pass_threshold": {**SHARE, "default": 0.5},
            "params": {
                "type": "object",
                "properties": JUDGE_PARAMS,
                "additionalProperties": False,
                "default": {},
                "description": "Request parameters: " + ", ".join(JUDGE_PARAMS) + ".",
            },
        },
        required=("rubric", "model"),
    )

    @classmethod
    def check_config(cls, config: dict) -> None:
        models, cap, keyed = judge_limits()
        if models and config["model"] not in models:
            raise EvaluatorConfigError("config.model", f"not an allowed judge model; allowed: {', '.join(models)}")
        if not models and keyed:
            raise EvaluatorConfigError(
                "config.model", "no judge model is allowed: the operator sets LLM_JUDGE_MODELS to enable llm_judge"
            )
        max_tokens = config["params"].get("max_tokens")
        if max_tokens is not None and max_tokens > cap:
            raise EvaluatorConfigError("config.params.max_tokens", f"must be at most {cap}")

    def request_params(self) -> dict:
        """The parameters sent: the validated ones, ``n`` forced to 1 and ``max_tokens`` always set and capped."""
        _, cap, _ = judge_limits()
        params = {key: value for key, value in self.config["params"].items() if key in JUDGE_PARAMS}
        params["n"] = 1
        params["max_tokens"] = min(params.get("max_tokens") or cap, cap)
        return params

    def __init__(self, config: dict, provider: Provider | None = None) -> None:
        super().__init__(config)
        if provider is None:
            from llmops.providers import provider_from_settings

            provider = provider_from_settings()
        self.provider = provider

    def score(self, item: EvalInput) -> Score:
        messages = judge_messages(
            rubric=self.config["rubric"],
            candidate=item.output,
            expected=item.expected,
            context=item.context,
            variables=item.variables,
        )
        try:
            completion = self.provider.complete(messages, model=self.config["model"], params=self.request_params())
        except ProviderError as exc:
            return error_score(f"judge call failed: {exc.message}", provider=self.provider.name, status=exc.status)
        call = {
            "judge_model": completion.model,
            "provider": completion.provider,
            "usage": completion.usage,
            "latency_ms": round(completion.latency_ms, 3),
        }
        try:
            value, reason = judge_reply_parse(completion.text.strip())
        except ValueError as exc:
            return error_score(str(exc), raw_reply=completion.text[:RAW_REPLY_ECHO_CHARS], **call)
        return Score(value=value, passed=value >= self.config["pass_threshold"], detail={"reason": reason, **call})
