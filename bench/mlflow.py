"""The stock mlflow client against this service and against a real `mlflow server` on PostgreSQL, in one run.

    .venv/bin/python bench/mlflow.py [--runs 200] [--points 1000] [--rounds 3] [--warmup 5] [--workers 2]

1. Ours: drops and recreates the database `governance_bench_mlflow` on the server of --database-url, migrates
   it and creates a project and a `data_scientist` API key (subprocesses with the service's settings), then
   starts `gunicorn config.wsgi -w <workers>` on a free loopback port. The client sends the key as
   MLFLOW_TRACKING_TOKEN.
2. MLflow: a venv of its own with `mlflow==3.17.2` and `psycopg[binary]` (--peer-venv, made with pip from the
   package index the first time, reused while it holds that version: full mlflow pins gunicorn < 27, so it
   cannot share the project's venv), the database `governance_bench_mlflow_peer` recreated, and
   `mlflow server --backend-store-uri postgresql+psycopg://... --artifacts-destination <tmp> --workers <workers>`
   (uvicorn, MLflow 3's default server; its access log and its job runner off, see below).
3. The client script (CLIENT below, the same for both, in a subprocess of the project's venv, which holds the
   mlflow-skinny 3.17.2 client): `mlflow.set_experiment`, --warmup untimed runs (their HTTP requests counted),
   then --runs runs, each `mlflow.start_run()`, `mlflow.log_params` of 10 params, `mlflow.log_metrics` of 10
   metrics (one log-batch request each), `mlflow.end_run()`; then one run with --points calls of
   `mlflow.log_metric("loss", value, step=i)`, one request a point. Then it reads back what it logged (every
   timed run FINISHED with its 10 params and 10 metrics, the metric history --points long) or fails.
4. --rounds rounds, both servers up throughout; each round runs the client once against each server, the order
   alternating from round to round (ours first in rounds 1, 3, ...), so that drifting machine load falls on both.

Prints, per server, runs/s and metric points/s (medians of the rounds, and each round's), the latency of one
run (p50/p95 over all rounds), the requests per run, and the ratios ours / MLflow. Target: ours >= 3x MLflow's
runs/s. The bench process never imports mlflow or Django (this file is named `mlflow.py`: a script run from
bench/ would import itself as `mlflow`, so the client runs as `python -c` in a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from common import (
    ROOT,
    free_port,
    percentile,
    recreate_database,
    start_gunicorn,
    stop,
    venv_bin,
    wait_until_answering,
    with_database,
)

OURS_DB = "governance_bench_mlflow"
PEER_DB = "governance_bench_mlflow_peer"
MLFLOW_VERSION = "3.17.2"
PEER_VENV = ROOT / "var" / "bench" / "mlflow-server-venv"
REQUEST_TIMEOUT = 60
CLIENT_TIMEOUT = 1800

SETUP = """
import json
from registry import services
from registry.actors import Actor
from registry.models import Role
system = Actor.system()
project = services.project_create(actor=system, slug="bench-mlflow", name="MLflow benchmark")
_, key = services.api_key_create(actor=system, project=project, role=Role.DATA_SCIENTIST, name="bench mlflow")
print(json.dumps({"key": key}))
"""

# The stock-client script: argv[1] is its JSON configuration, its last line of output the figures (JSON).
CLIENT = r"""
import json
import logging
import sys
import time

import mlflow
from mlflow import MlflowClient

cfg = json.loads(sys.argv[1])
PARAMS = {f"param_{j}": f"value-{j}" for j in range(10)}


def one_run(i):
    run = mlflow.start_run()
    mlflow.log_params(PARAMS)
    mlflow.log_metrics({f"metric_{j}": i + j / 10 for j in range(10)})
    mlflow.end_run()
    return run.info.run_id


class Count(logging.Handler):  # urllib3 logs a DEBUG line per response and per connection opened
    requests = connections = 0

    def emit(self, record):
        if record.msg.startswith(("Starting new", "Resetting dropped connection")):
            Count.connections += 1
        elif record.msg.startswith("%s://"):
            Count.requests += 1


experiment_id = mlflow.set_experiment(cfg["experiment"]).experiment_id
pool_log = logging.getLogger("urllib3.connectionpool")
counter = Count(logging.DEBUG)
pool_log.addHandler(counter)
pool_log.setLevel(logging.DEBUG)
one_run(0)  # the first opens the connection pool
Count.requests = Count.connections = 0
for i in range(cfg["warmup"]):
    one_run(-1 - i)
requests_per_run = Count.requests / cfg["warmup"]
connections_per_run = Count.connections / cfg["warmup"]
mlflow.start_run()
Count.requests = 0
for i in range(3):
    mlflow.log_metric("warm", 0.5, step=i)
requests_per_point = Count.requests / 3
mlflow.end_run()
pool_log.removeHandler(counter)
pool_log.setLevel(logging.WARNING)

run_ids, latencies = [], []
cpu, started = time.process_time(), time.perf_counter()
for i in range(cfg["runs"]):
    begun = time.perf_counter()
    run_ids.append(one_run(i))
    latencies.append(time.perf_counter() - begun)
runs_seconds = time.perf_counter() - started
runs_cpu = time.process_time() - cpu

points_run = mlflow.start_run().info.run_id
cpu, started = time.process_time(), time.perf_counter()
for i in range(cfg["points"]):
    mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
points_seconds = time.perf_counter() - started
points_cpu = time.process_time() - cpu
mlflow.end_run()

# read back (not timed): what was logged is there
client = MlflowClient()
wanted = set(run_ids)
complete = 0
token = None
while True:
    page = client.search_runs([experiment_id], max_results=1000, page_token=token)
    for run in page:
        if run.info.run_id in wanted and run.info.status == "FINISHED" and len(run.data.params) == 10 \
                and len(run.data.metrics) == 10:
            complete += 1
    token = page.token
    if not token:
        break
if complete != len(run_ids):
    sys.exit(f"read back {complete} complete runs of {len(run_ids)}")
history = client.get_metric_history(points_run, "loss")
if sorted(m.step for m in history) != list(range(cfg["points"])):
    sys.exit(f"read back {len(history)} metric points of {cfg['points']}")
print(json.dumps({
    "runs_seconds": runs_seconds, "points_seconds": points_seconds, "latencies": latencies,
    "runs_cpu": runs_cpu, "points_cpu": points_cpu, "requests_per_run": requests_per_run,
    "connections_per_run": connections_per_run, "requests_per_point": requests_per_point,
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per round and server")
    parser.add_argument("--points", type=int, default=1000, help="metric points of the one run, per round and server")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running the client once against each")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before each client's timed runs")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of both servers")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV, help=f"the venv of mlflow=={MLFLOW_VERSION}")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own two databases on it",
    )
    args = parser.parse_args()
    if min(args.runs, args.points, args.rounds, args.warmup, args.workers) < 1:
        parser.error("--runs, --points, --rounds, --warmup and --workers must be >= 1")
    return args


def run_checked(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float, what: str) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def peer_venv(path: Path) -> Path:
    """The peer's venv, made (or remade) unless it already holds mlflow==MLFLOW_VERSION and psycopg."""
    python = path / "bin" / "python"
    probe = "from importlib.metadata import version; import psycopg; print(version('mlflow'))"
    if python.exists():
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode == 0 and done.stdout.strip() == MLFLOW_VERSION:
            return path
        shutil.rmtree(path)
    print(f"making {path} (pip install mlflow=={MLFLOW_VERSION} psycopg[binary]) ...", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    path.parent.mkdir(parents=True, exist_ok=True)
    run_checked([sys.executable, "-m", "venv", str(path)], env=env, cwd=ROOT, timeout=300, what="python -m venv")
    run_checked(
        [str(python), "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}", "psycopg[binary]"],
        env=env,
        cwd=ROOT,
        timeout=1800,
        what="pip install mlflow",
    )
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def sqlalchemy_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql+psycopg"))


def start_mlflow(venv: Path, env: dict[str, str], backend: str, artifacts: Path, workers: int, port: int, log: Path):
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(venv / "bin" / "mlflow"), "server", "--backend-store-uri", backend]
            + ["--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers), "--uvicorn-opts", "--no-access-log"],
            cwd=artifacts.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_health(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"mlflow server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"{base}/health", timeout=10).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"mlflow server did not answer within {timeout:.0f}s:\n{log.read_text(errors='replace')}")


def client_run(base: str, token: str | None, cfg: dict, tmp: Path) -> dict:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MLFLOW_") and name not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(
        MLFLOW_TRACKING_URI=base,
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",  # an error fails the bench at once, no retry is ever timed
        MLFLOW_HTTP_REQUEST_TIMEOUT=str(REQUEST_TIMEOUT),
    )
    if token:
        env["MLFLOW_TRACKING_TOKEN"] = token
    out = run_checked(
        [venv_bin("python"), "-c", CLIENT, json.dumps(cfg)], env=env, cwd=tmp, timeout=CLIENT_TIMEOUT, what="client"
    )
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    wall = time.perf_counter()
    venv = peer_venv(args.peer_venv)
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
    recreate_database(args.database_url, PEER_DB)
    python = venv_bin("python")
    run_checked([python, "manage.py", "migrate", "--noinput"], env=env, cwd=ROOT, timeout=300, what="migrate")
    setup = run_checked(
        [python, "-c", "import django; django.setup()\n" + SETUP], env=env, cwd=ROOT, timeout=300, what="setup"
    )
    key = json.loads(setup.strip().splitlines()[-1])["key"]

    peer_env = {name: value for name, value in os.environ.items() if not name.startswith(("MLFLOW_", "DJANGO_"))}
    peer_env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        # the job runner (three huey consumers polling for prompt-optimisation and scorer jobs) serves nothing
        # the tracking protocol uses; off, it takes no CPU from the server's workers
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
    )
    figures: dict[str, list[dict]] = {"ours": [], "mlflow": []}
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "artifacts").mkdir()
        (tmp / "client").mkdir()
        env["ARTIFACT_ROOT"] = str(tmp / "our-artifacts")
        ours_log, peer_log = tmp / "gunicorn.log", tmp / "mlflow-server.log"
        ours_port, peer_port = free_port(), free_port()
        ours_base, peer_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{peer_port}"
        ours = peer = None
        try:
            ours = start_gunicorn(env, args.workers, ours_port, ours_log, timeout=REQUEST_TIMEOUT)
            peer = start_mlflow(
                venv, peer_env, sqlalchemy_url(peer_url), tmp / "artifacts", args.workers, peer_port, peer_log
            )
            wait_until_answering(ours_base, "/api/3.0/mlflow/server-info", ours, ours_log)
            wait_for_health(peer_base, peer, peer_log)
            setup_seconds = time.perf_counter() - wall
            for round_ in range(args.rounds):
                order = [("ours", ours_base, key), ("mlflow", peer_base, None)]
                if round_ % 2:
                    order.reverse()
                for name, base, token in order:
                    cfg = {"experiment": "bench", "runs": args.runs, "points": args.points, "warmup": args.warmup}
                    result = client_run(base, token, cfg, tmp / "client")
                    figures[name].append(result)
                    print(
                        f"round {round_ + 1} {name:6s}  {args.runs / result['runs_seconds']:7.1f} runs/s  "
                        f"{args.points / result['points_seconds']:7.1f} points/s",
                        flush=True,
                    )
        except BaseException:
            for log in (ours_log, peer_log):
                if log.exists():
                    sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n")
            raise
        finally:
            stop(ours)
            stop(peer)

    def rates(name: str, what: str, count: int) -> list[float]:
        return [count / result[what] for result in figures[name]]

    summary = {}
    print(
        f"mlflow client {MLFLOW_VERSION} (skinny), {args.rounds} rounds x {args.runs} runs of 10 params + 10 metrics "
        f"and 1 run of {args.points} log_metric calls, after {args.warmup} warm-up runs; both servers with "
        f"{args.workers} workers (ours gunicorn sync, MLflow uvicorn); 1 client; {os.cpu_count()} CPUs"
    )
    for name, label in (("ours", "ours"), ("mlflow", "MLflow")):
        results = figures[name]
        run_rates = rates(name, "runs_seconds", args.runs)
        point_rates = rates(name, "points_seconds", args.points)
        latencies = [value for result in results for value in result["latencies"]]
        summary[name] = (statistics.median(run_rates), statistics.median(point_rates))
        run_cpu = statistics.median(result["runs_cpu"] / args.runs for result in results)
        point_cpu = statistics.median(result["points_cpu"] / args.points for result in results)
        print(
            f"{label:6s}  runs    {summary[name][0]:7.1f} /s (rounds: {' '.join(f'{r:.1f}' for r in run_rates)})  "
            f"a run p50 {percentile(latencies, 50) * 1000:.1f} ms p95 {percentile(latencies, 95) * 1000:.1f} ms, "
            f"of which client CPU {run_cpu * 1000:.1f} ms"
        )
        print(
            f"{'':6s}  points  {summary[name][1]:7.1f} /s (rounds: {' '.join(f'{r:.1f}' for r in point_rates)})  "
            f"a point {1000 / summary[name][1]:.1f} ms, of which client CPU {point_cpu * 1000:.1f} ms"
        )
        first = results[0]
        print(
            f"{'':6s}  requests: {first['requests_per_run']:.1f} a run ({first['connections_per_run']:.1f} "
            f"connections opened), {first['requests_per_point']:.1f} a point"
        )
    runs_ratio = summary["ours"][0] / summary["mlflow"][0]
    points_ratio = summary["ours"][1] / summary["mlflow"][1]
    print(f"ratio ours/MLflow  runs/s {runs_ratio:.2f} (target >= 3.00)  points/s {points_ratio:.2f}")
    print(f"setup {setup_seconds:.0f} s, whole bench {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
