"""OTLP trace ingest: the same LLM spans through our /v1/traces, through our calls/bulk/, and into Arize Phoenix.

    .venv/bin/python bench/otlp.py [--spans 10000] [--batch 512] [--rounds 3] [--clients 2] [--workers 2]

1. Spans: --spans chat spans as the official openai-v2 instrumentation (2.4b0) emits them (GenAI semconv: operation,
   provider, request and response model, usage, input and output messages as JSON strings, finish reasons,
   response id, service tier), in traces of 1-4 spans, made as SDK ReadableSpans and encoded by the SDK's own OTLP
   encoder (`encode_spans`) into ExportTraceServiceRequest bodies of --batch spans (the BatchSpanProcessor's
   default export size): the bytes an exporter sends. The spans are cut into --clients streams, one per exporter
   (an app process), each with traces of its own. The same calls as calls/bulk/ JSON bodies of --batch items.
   Every body of every round (fresh trace and span ids each round) is built before any clock starts.
2. Ours: the database `governance_bench_otlp` recreated and migrated, a project, an `ingest` key and the price
   catalog; `gunicorn config.wsgi -w <workers>` (sync) on a free loopback port.
3. Phoenix: `arize-phoenix[pg]==PHOENIX_VERSION` in a venv of its own (--peer-venv, made with pip the first time,
   reused while it holds that version), `phoenix serve` on a free loopback port (its gRPC collector on another free
   port), on the database `governance_bench_otlp_phoenix` (recreated) of the same PostgreSQL server, telemetry and
   external resources off, its access log off (ours writes none).
4. --rounds rounds, all servers up throughout, the paths' order alternating from round to round. Before each path
   its tables are emptied (ours: calls, spans, documents; Phoenix: traces and spans) and the server checkpointed.
   Each path posts its bodies from --clients threads, one per stream (a requests.Session each), each sending its
   stream's bodies in order and one at a time, as the SDK's BatchSpanProcessor exports; the clock runs from the
   first post to the last response. Ours answers after its commit: then its calls, and those with their span's
   fields, are counted (exactly --spans each, or the bench fails). Phoenix answers before it writes (a background
   task queues the spans for its bulk inserter), so its spans table is then polled until it holds --spans rows:
   "accepted" is the clock to the last response, "stored" the clock to that count.

Prints spans/s per path (medians of the rounds, and each round), the p50/p95 of one request, and the ratios
ours OTLP / ours bulk (target >= 0.8) and ours OTLP / Phoenix accepted and stored (target > 1). The bench process
imports neither Django nor Phoenix.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
from common import (
    ROOT,
    checkpoint,
    free_port,
    percentile,
    recreate_database,
    start_gunicorn,
    stop,
    venv_bin,
    wait_until_answering,
    with_database,
)
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

OURS_DB = "governance_bench_otlp"
PEER_DB = "governance_bench_otlp_phoenix"
PHOENIX_VERSION = "20.26.1"
PEER_VENV = ROOT / "var" / "bench" / "phoenix-venv"
REQUEST_TIMEOUT = 120
STORED_TIMEOUT = 600  # seconds Phoenix gets to write what it accepted
POLL = 0.05  # seconds between counts of Phoenix's spans table
OUR_TABLES = ("llmops_retrieveddocument", "llmops_tracespan", "llmops_llmcall")
PEER_TABLES = ("spans", "traces")

SETUP = """
import json
from llmops.services.pricing import prices_seed
from registry import services
from registry.actors import Actor
from registry.models import Role
system = Actor.system()
prices_seed(actor=system)
project = services.project_create(actor=system, slug="bench-otlp", name="OTLP benchmark")
_, key = services.api_key_create(actor=system, project=project, role=Role.INGEST, name="bench otlp")
print(json.dumps({"key": key}))
"""

WORDS = (
    "account card payment transfer fee limit loan rate statement balance interest branch customer support IBAN "
    "SEPA instant abroad cash withdrawal blocked lost stolen app login fingerprint PIN overdraft mortgage savings "
    "deposit refund dispute merchant contactless chargeback verification address passport appointment"
).split()
SYSTEM = (
    "You are Acme Bank's support assistant. Answer briefly and politely, from the bank's policies only. "
    "If you are not sure, say so and offer to connect the customer with an agent."
)
# what openai-v2 puts on the resource and the scope (tests/interop/otlp/samples/otlp_proto__openai-v2-2.4b0__*)
RESOURCE = {
    "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.version": "1.45.1",
    "service.instance.id": "7d1f0c52-3e0b-4a51-9d55-bench0000001",
    "service.name": "support-assistant",
    "deployment.environment": "prod",
}
SCOPE = ("opentelemetry.util.genai.handler", "1.1b0")
START_NS = 1_795_701_665_000_000_000  # 2026-11-25


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=10_000, help="LLM spans (= calls) per path and round")
    parser.add_argument("--batch", type=int, default=512, help="spans per export (the SDK's default batch size)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running every path once")
    parser.add_argument("--clients", type=int, default=2, help="posting threads, the same for every path")
    parser.add_argument("--workers", type=int, default=2, help="our gunicorn (sync) worker processes")
    parser.add_argument(
        "--peer-venv", type=Path, default=PEER_VENV, help=f"the venv of arize-phoenix=={PHOENIX_VERSION}"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own two databases on it",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-phoenix",
        action="store_true",
        help="ours only, for quicker iterations while developing (a recorded figure comes from a full run)",
    )
    args = parser.parse_args()
    if min(args.spans, args.rounds, args.clients, args.workers) < 1 or not 1 <= args.batch <= 5_000:
        parser.error("--spans, --rounds, --clients and --workers must be >= 1 and --batch between 1 and 5000")
    return args


def _text(rng: random.Random, words: int) -> str:
    sentences, left = [], words
    while left > 0:
        n = min(left, rng.randint(6, 16))
        sentence = " ".join(rng.choice(WORDS) for _ in range(n))
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice([".", ".", "?", "!"]))
        left -= n
    return " ".join(sentences)


def make_calls(count: int, seed: int, streams: int) -> list[dict]:
    """The calls' content, the same every round: a system prompt, sometimes an earlier turn, the question, the
    answer, usage as the provider reported it, times; which trace each belongs to (traces of 1-4 calls) and which
    exporter (`stream`) sends it: the calls are cut into `streams` runs, each of its own traces."""
    rng = random.Random(seed)
    calls, trace, left = [], 0, 0
    at = START_NS
    for n in range(count):
        stream = n * streams // count
        if left == 0 or (n and stream != calls[-1]["stream"]):
            trace, left = trace + 1, rng.randint(1, 4)
            at += rng.randint(1, 20) * 10**9
        left -= 1
        messages = [("system", SYSTEM)]
        if rng.random() < 0.3:
            messages += [("user", _text(rng, rng.randint(8, 30))), ("assistant", _text(rng, rng.randint(15, 50)))]
        messages.append(("user", _text(rng, rng.randint(8, 40))))
        answer = _text(rng, rng.randint(15, 80))
        words_in = sum(len(text.split()) for _, text in messages)
        latency = rng.randint(300, 3000) * 10**6
        calls.append(
            {
                "stream": stream,
                "trace": trace,
                "messages": messages,
                "answer": answer,
                "input_tokens": int(words_in * 1.4) + 4 * len(messages),
                "output_tokens": int(len(answer.split()) * 1.4),
                "start": at,
                "end": at + latency,
                "response_id": f"chatcmpl-{rng.getrandbits(96):024x}",
            }
        )
        at += latency + rng.randint(5, 50) * 10**6
    return calls


def _ids(calls: list[dict], rng: random.Random) -> list[tuple[int, int, int]]:
    """(trace id, span id, parent span id) of each call: fresh random ids; a trace's calls share a parent, the
    app's request span (exported by other instrumentation, not part of these exports)."""
    traces: dict[int, tuple[int, int]] = {}
    out = []
    for call in calls:
        trace_id, parent = traces.setdefault(call["trace"], (rng.getrandbits(128) or 1, rng.getrandbits(64) or 1))
        out.append((trace_id, rng.getrandbits(64) or 1, parent))
    return out


def batches(calls: list, batch: int) -> list[tuple[int, int]]:
    """(start, stop) of each export: every stream's calls in exports of `batch`, in order."""
    out, start = [], 0
    while start < len(calls):
        stop = start
        while stop < len(calls) and stop - start < batch and calls[stop]["stream"] == calls[start]["stream"]:
            stop += 1
        out.append((start, stop))
        start = stop
    return out


def otlp_bodies(calls: list[dict], ids: list[tuple[int, int, int]], batch: int) -> list[bytes]:
    resource = Resource(RESOURCE)
    scope = InstrumentationScope(*SCOPE)
    spans = []
    for call, (trace_id, span_id, parent) in zip(calls, ids, strict=True):
        inputs = [{"role": role, "parts": [{"content": text, "type": "text"}]} for role, text in call["messages"]]
        output = [
            {"role": "assistant", "parts": [{"content": call["answer"], "type": "text"}], "finish_reason": "stop"}
        ]
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 400,
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.id": call["response_id"],
            "gen_ai.usage.input_tokens": call["input_tokens"],
            "gen_ai.usage.output_tokens": call["output_tokens"],
            "gen_ai.input.messages": json.dumps(inputs, separators=(",", ":")),
            "gen_ai.output.messages": json.dumps(output, separators=(",", ":")),
            "openai.response.service_tier": "default",
            "openai.response.system_fingerprint": "fp_bench01",
        }
        flags = TraceFlags(TraceFlags.SAMPLED)
        spans.append(
            ReadableSpan(
                name="chat gpt-4o-mini",
                context=SpanContext(trace_id, span_id, is_remote=False, trace_flags=flags),
                parent=SpanContext(trace_id, parent, is_remote=False, trace_flags=flags),
                resource=resource,
                attributes=attributes,
                kind=SpanKind.CLIENT,
                instrumentation_scope=scope,
                start_time=call["start"],
                end_time=call["end"],
            )
        )
    return [encode_spans(spans[start:stop]).SerializeToString() for start, stop in batches(calls, batch)]


def bulk_bodies(calls: list[dict], ids: list[tuple[int, int, int]], batch: int, prefix: str) -> list[bytes]:
    """The same calls as a client of calls/bulk/ sends them: the messages, the answer, OpenAI's usage, latency,
    W3C trace context, the service as a tag (as the OTLP path tags them)."""
    from datetime import UTC, datetime

    items = []
    for n, (call, (trace_id, span_id, _)) in enumerate(zip(calls, ids, strict=True)):
        items.append(
            {
                "client_call_id": f"{prefix}-{n}",
                "provider": "openai",
                "model": "gpt-4o-mini-2024-07-18",
                "input": [{"role": role, "content": text} for role, text in call["messages"]],
                "output": call["answer"],
                "usage": {
                    "prompt_tokens": call["input_tokens"],
                    "completion_tokens": call["output_tokens"],
                    "total_tokens": call["input_tokens"] + call["output_tokens"],
                },
                "latency_ms": (call["end"] - call["start"]) / 1e6,
                "status": "ok",
                "trace_id": f"{trace_id:032x}",
                "span_id": f"{span_id:016x}",
                "occurred_at": datetime.fromtimestamp(call["start"] / 1e9, UTC).isoformat(),
                "tags": [f"service:{RESOURCE['service.name']}"],
            }
        )
    return [json.dumps({"calls": items[start:stop]}).encode() for start, stop in batches(calls, batch)]


def run_checked(argv: list, *, env: dict[str, str], cwd: Path, timeout: float, what: str) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def peer_venv(path: Path) -> Path:
    """Phoenix's venv, made (or remade) unless it already holds arize-phoenix==PHOENIX_VERSION and asyncpg."""
    python = path / "bin" / "python"
    probe = "from importlib.metadata import version; import asyncpg; print(version('arize-phoenix'))"
    if python.exists():
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode == 0 and done.stdout.strip() == PHOENIX_VERSION:
            return path
        shutil.rmtree(path)
    print(f"making {path} (pip install arize-phoenix[pg]=={PHOENIX_VERSION}) ...", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    path.parent.mkdir(parents=True, exist_ok=True)
    run_checked([sys.executable, "-m", "venv", str(path)], env=env, cwd=ROOT, timeout=300, what="python -m venv")
    run_checked(
        [str(python), "-m", "pip", "install", "-q", f"arize-phoenix[pg]=={PHOENIX_VERSION}"],
        env=env,
        cwd=ROOT,
        timeout=1800,
        what="pip install arize-phoenix",
    )
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def start_phoenix(venv: Path, env: dict[str, str], workdir: Path, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(venv / "bin" / "phoenix"), "serve"],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_health(base: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"phoenix exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"phoenix did not answer within {timeout:.0f}s:\n{log.read_text(errors='replace')[-4000:]}")


def truncate(url: str, tables: tuple[str, ...]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")  # the bench's own table names


def count(url: str, query: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchone()[0]


def otlp_accepted(response: requests.Response, size: int) -> None:
    answer = ExportTraceServiceResponse.FromString(response.content)
    if answer.HasField("partial_success") and answer.partial_success.rejected_spans:
        raise RuntimeError(f"{answer.partial_success.rejected_spans} of {size} spans rejected: {answer}"[:800])


def bulk_accepted(response: requests.Response, size: int) -> None:
    result = response.json()
    if result.get("accepted") != size or result.get("duplicates") or result.get("unpriced"):
        raise RuntimeError(f"unexpected result {result}")


def post_all(url: str, headers: dict, bodies: list[bytes], sizes: list[int], owners: list[int], check) -> tuple:
    """Post every body, one thread per exporter (`owners`: which one sends each body), each posting its bodies in
    order and one at a time, as the SDK's BatchSpanProcessor exports; answers (the clock's start, seconds from the
    first post to the last response, [seconds of each request])."""
    local = threading.local()
    clients = max(owners) + 1

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(headers)
        return local.session

    def post(index: int) -> float:
        started = time.perf_counter()
        response = session().post(url, data=bodies[index], timeout=REQUEST_TIMEOUT)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{url} body {index}: HTTP {response.status_code}: {response.text[:500]}")
        check(response, sizes[index])
        return elapsed

    def export(client: int) -> list[tuple[int, float]]:
        return [(index, post(index)) for index, owner in enumerate(owners) if owner == client]

    pool = ThreadPoolExecutor(max_workers=clients)
    try:
        for future in [pool.submit(lambda: session()) for _ in range(clients)]:
            future.result()
        started = time.perf_counter()
        futures = [pool.submit(export, client) for client in range(clients)]
        timed = dict(pair for future in futures for pair in future.result())
        wall = time.perf_counter() - started
        latencies = [timed[index] for index in range(len(bodies))]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # fail fast: no further bodies are sent
        raise
    pool.shutdown()
    return started, wall, latencies


def wait_stored(url: str, started: float, expected: int) -> float:
    """Seconds from `started` until Phoenix's spans table holds `expected` rows."""
    deadline = time.perf_counter() + STORED_TIMEOUT
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            found = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
            if found >= expected:
                if found != expected:
                    raise RuntimeError(f"phoenix: {found} spans stored, expected {expected}")
                return time.perf_counter() - started
            if time.perf_counter() > deadline:
                raise RuntimeError(f"phoenix: {found} of {expected} spans stored after {STORED_TIMEOUT} s")
            time.sleep(POLL)


def main() -> None:
    args = parse_args()
    wall = time.perf_counter()
    venv = None if args.no_phoenix else peer_venv(args.peer_venv)
    ours_url = with_database(args.database_url, OURS_DB)
    peer_url = with_database(args.database_url, PEER_DB)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": ours_url,
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        "DJANGO_DEBUG": "false",
        "SUBJECT_HMAC_KEY": secrets.token_hex(32),
        "SUBJECT_HMAC_KEY_ID": "bench",
        "LOG_LEVEL": "WARNING",
    }
    recreate_database(args.database_url, OURS_DB)
    if venv is not None:
        recreate_database(args.database_url, PEER_DB)
    python = venv_bin("python")
    run_checked([python, "manage.py", "migrate", "--noinput"], env=env, cwd=ROOT, timeout=300, what="migrate")
    setup = run_checked(
        [python, "-c", "import django; django.setup()\n" + SETUP], env=env, cwd=ROOT, timeout=300, what="setup"
    )
    key = json.loads(setup.strip().splitlines()[-1])["key"]

    built = time.perf_counter()
    calls = make_calls(args.spans, args.seed, args.clients)
    rng = random.Random(args.seed * 7919)
    cuts = batches(calls, args.batch)
    sizes = [stop - start for start, stop in cuts]
    owners = [calls[start]["stream"] for start, _ in cuts]
    rounds = []
    for round_ in range(args.rounds):
        otlp_ids, bulk_ids = _ids(calls, rng), _ids(calls, rng)
        rounds.append(
            {
                "otlp": otlp_bodies(calls, otlp_ids, args.batch),  # ours and Phoenix get the same bytes
                "bulk": bulk_bodies(calls, bulk_ids, args.batch, f"bench-r{round_}"),
            }
        )
    warm_ids = _ids(calls[:8], rng)
    warm = {
        "otlp": otlp_bodies(calls[:8], warm_ids, 1),
        "bulk": bulk_bodies(calls[:8], warm_ids, 1, "warm"),
    }
    build_seconds = time.perf_counter() - built
    otlp_mb = sum(map(len, rounds[0]["otlp"])) / 1e6
    bulk_mb = sum(map(len, rounds[0]["bulk"])) / 1e6

    with tempfile.TemporaryDirectory(prefix="bench-otlp-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "phoenix").mkdir()
        ours_log, peer_log = tmp / "gunicorn.log", tmp / "phoenix.log"
        ours_port, peer_port, peer_grpc = free_port(), free_port(), free_port()
        ours_base, peer_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{peer_port}"
        peer_env = {name: value for name, value in os.environ.items() if not name.startswith(("PHOENIX_", "DJANGO_"))}
        peer_env.update(
            PHOENIX_SQL_DATABASE_URL=peer_url.replace("postgres://", "postgresql://", 1),
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(peer_port),
            PHOENIX_GRPC_PORT=str(peer_grpc),
            PHOENIX_WORKING_DIR=str(tmp / "phoenix"),
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
            PHOENIX_LOGGING_LEVEL="warning",  # uvicorn's access log off, as ours writes none
            PHOENIX_LOG_MIGRATIONS="false",
        )
        paths = {
            "otlp": (
                f"{ours_base}/api/v1/otlp/v1/traces",
                {"Authorization": f"Bearer {key}", "Content-Type": "application/x-protobuf"},
                otlp_accepted,
            ),
            "bulk": (
                f"{ours_base}/api/v1/llm/calls/bulk/",
                {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                bulk_accepted,
            ),
            "phoenix": (
                f"{peer_base}/v1/traces",
                {"Content-Type": "application/x-protobuf"},
                lambda response, size: None,
            ),
        }
        if venv is None:
            del paths["phoenix"]
        figures: dict[str, list[dict]] = {name: [] for name in paths}
        ours = peer = None
        try:
            ours = start_gunicorn(env, args.workers, ours_port, ours_log, timeout=REQUEST_TIMEOUT)
            peer = start_phoenix(venv, peer_env, tmp / "phoenix", peer_log) if venv is not None else None
            wait_until_answering(ours_base, "/api/v1/llm/prices/", ours, ours_log)
            if peer is not None:
                wait_for_health(peer_base, peer, peer_log)
            # warm every worker and connection (and Phoenix's first project row) with real one-span exports,
            # untimed; the tables are emptied before each timed path
            for name, (url, headers, check) in paths.items():
                bodies = warm["bulk" if name == "bulk" else "otlp"]
                post_all(url, headers, bodies, [1] * len(bodies), [n % args.clients for n in range(len(bodies))], check)
            if peer is not None:
                wait_stored(peer_url, time.perf_counter(), len(warm["otlp"]))
            setup_seconds = time.perf_counter() - wall
            order = list(paths)
            for round_ in range(args.rounds):
                for name in order if round_ % 2 == 0 else order[::-1]:
                    url, headers, check = paths[name]
                    bodies = rounds[round_]["bulk" if name == "bulk" else "otlp"]
                    if name == "phoenix":
                        truncate(peer_url, PEER_TABLES)
                        checkpoint(peer_url)
                    else:
                        truncate(ours_url, OUR_TABLES)
                        checkpoint(ours_url)
                    started, seconds, latencies = post_all(url, headers, bodies, sizes, owners, check)
                    result = {"seconds": seconds, "latencies": latencies}
                    if name == "phoenix":
                        result["stored"] = wait_stored(peer_url, started, args.spans)
                    else:
                        calls_stored = count(ours_url, "SELECT count(*) FROM llmops_llmcall")
                        spans_stored = count(  # an LLM span is its call's row, with the span's fields
                            ours_url, "SELECT count(*) FROM llmops_llmcall WHERE span_start_time_unix_nano IS NOT NULL"
                        )
                        wanted_spans = args.spans if name == "otlp" else 0
                        if calls_stored != args.spans or spans_stored != wanted_spans:
                            raise SystemExit(
                                f"{name}: {calls_stored} calls and {spans_stored} spans stored, expected "
                                f"{args.spans} and {wanted_spans}"
                            )
                    figures[name].append(result)
                    line = f"round {round_ + 1} {name:8s} {args.spans / seconds:8,.0f} spans/s ({seconds:.2f} s)"
                    if "stored" in result:
                        line += f"  stored {args.spans / result['stored']:8,.0f} spans/s ({result['stored']:.2f} s)"
                    print(line, flush=True)
        except BaseException:
            for log in (ours_log, peer_log):
                if log.exists():
                    sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n")
            raise
        finally:
            stop(ours)
            stop(peer)
        # Phoenix retries a failed span transaction with a back-off: its stored figure is fair only without them
        troubles = [
            line
            for line in (peer_log.read_text(errors="replace").splitlines() if peer_log.exists() else [])
            if any(word in line for word in ("ERROR", "WARNING", "Traceback", "failed"))
        ]

    def rates(name: str, what: str = "seconds") -> list[float]:
        return [args.spans / result[what] for result in figures[name]]

    print(
        f"OTLP ingest: {args.spans} LLM spans (openai-v2 GenAI semconv, traces of 1-4) in exports of {args.batch} "
        f"({len(sizes)} requests: {otlp_mb:.1f} MB protobuf, {bulk_mb:.1f} MB calls/bulk/ JSON), {args.rounds} rounds, "
        f"{args.clients} exporters (a thread each: traces of its own, one export at a time); ours gunicorn "
        f"-w {args.workers} (sync), "
        + (f"Phoenix {PHOENIX_VERSION} (one uvicorn process)" if "phoenix" in figures else "no Phoenix")
        + f"; {os.cpu_count()} CPUs; "
        f"bodies built in {build_seconds:.1f} s"
    )
    medians = {}
    labels = {"otlp": "ours OTLP", "bulk": "ours bulk", "phoenix": "Phoenix"}
    for name, label in labels.items():
        if name not in figures:
            continue
        latencies = [value for result in figures[name] for value in result["latencies"]]
        medians[name] = statistics.median(rates(name))
        print(
            f"{label:10s} {'accepted' if name == 'phoenix' else 'stored':8s} {medians[name]:8,.0f} spans/s "
            f"(rounds: {' '.join(f'{r:,.0f}' for r in rates(name))})  a request p50 "
            f"{percentile(latencies, 50) * 1000:.0f} ms p95 {percentile(latencies, 95) * 1000:.0f} ms"
        )
    if "phoenix" not in figures:
        print(f"ratio ours OTLP / ours bulk          {medians['otlp'] / medians['bulk']:.2f}  (target >= 0.80)")
        print(f"setup {setup_seconds:.0f} s, whole bench {time.perf_counter() - wall:.0f} s (--no-phoenix)")
        return
    medians["stored"] = statistics.median(rates("phoenix", "stored"))
    print(
        f"{'Phoenix':10s} {'stored':8s} {medians['stored']:8,.0f} spans/s "
        f"(rounds: {' '.join(f'{r:,.0f}' for r in rates('phoenix', 'stored'))})"
    )
    print(f"ratio ours OTLP / ours bulk          {medians['otlp'] / medians['bulk']:.2f}  (target >= 0.80)")
    print(f"ratio ours OTLP / Phoenix accepted   {medians['otlp'] / medians['phoenix']:.2f}  (target > 1)")
    print(f"ratio ours OTLP / Phoenix stored     {medians['otlp'] / medians['stored']:.2f}  (target > 1)")
    print(
        f"Phoenix's log: {len(troubles)} warning or error lines"
        + (f", the first: {troubles[0][:300]}" if troubles else "")
    )
    print(f"setup {setup_seconds:.0f} s, whole bench {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
