#!/usr/bin/env python3
"""Client CPU per call: the Python Blossom AI SDK against the Rust Blossom SDK.

What it measures
----------------
The CPU time (user + sys) that the *client process* spends per successful call, for the
same two workloads the Rust load benchmark (`blossom-load`, crate `bench/`) runs:

* ``chat16``  - small non-streaming chat completions (``POST /v1/chat/completions``),
  16 calls in flight;
* ``image16`` - image generations (``GET /image/{prompt}?...``) answered with a 200 KB
  JPEG body, 16 calls in flight.

Both SDKs talk to the same fixed-answer server (``blossom-load serve``) pinned to CPU 1;
each client runs pinned to CPU 0, so the server's work never lands on the client's clock.

* Python: ``eclips-blossom-ai==0.8.0`` (the "Blossom AI" SDK), installed in a throwaway
  virtualenv, driven through its async API (``await client.text.chat(...)`` and
  ``await client.image.generate(...)``) with ``asyncio.gather`` over a semaphore of 16.
  A child process (``compare.py child``) measures ``getrusage(RUSAGE_SELF)`` and wall
  time over the measured window, after a warm-up, and checks every answer against the
  bytes the server sends. It runs twice per repetition: ``python`` with the SDK's default
  logging (the SDK calls ``logging.basicConfig(level=INFO, stream=stdout)`` itself, so an
  application that configures nothing prints several log lines per call; stdout goes to
  /dev/null here) and ``python-quiet`` with the root logger at WARNING (what an
  application that configures logging sees).
* Rust: ``blossom-load run --path P --scenario S`` for the paths ``tokio`` (the SDK on
  tokio), ``blocking`` (the SDK's blocking client) and ``raw-hyper-util`` (bare
  hyper-util, no SDK: the floor).

Python and Rust runs alternate, three repetitions by default, with the same number of
calls, the same prompts (a prompt of its own per call) and the same warm-up size as the
Rust benchmark. The tables show medians: CPU per call for every client, the ratio of each
Python variant to each Rust path, and throughput, latency and peak RSS.

How to run
----------
From the repository root, after ``cargo build --release -p blossom-bench``::

    python3 bench/python/compare.py                       # table on stdout
    python3 bench/python/compare.py --json /tmp/py.json   # and the raw runs as JSON

Options: ``--blossom-load PATH`` (default ``target/release/blossom-load``), ``--reps N``,
``--chat-calls N``, ``--image-calls N``, ``--keep-venv``, ``--venv DIR`` (reuse a
virtualenv that already has the SDK), ``--python-logging {both,default,quiet}``,
``--rust-paths tokio,blocking,raw-hyper-util``, ``--with-sniffio`` (see README.md).

Needs Linux (``taskset``, ``resource``), Python 3.11 and network access to PyPI for the
install. Everything else stays on loopback: the SDK's endpoint table is pointed at the
local server, and an audit hook in the child refuses any socket connection that is not to
a loopback address (and counts the connections the SDK opened).

This file is plain Python 3.11 with the standard library only; the SDK is imported only
inside the child process, which runs on the virtualenv's interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SDK_REQUIREMENT = "eclips-blossom-ai==0.8.0"
# blossom_ai.core.errors and blossom_ai.core.session_manager import these at import time
# without declaring them as dependencies.
UNDECLARED_IMPORTS = ["aiohttp", "requests"]

WORKLOADS = ("chat16", "image16")
CONCURRENCY = 16
RUST_PATHS = ("tokio", "blocking", "raw-hyper-util")

# The Rust benchmark's key. Being an "sk_" key, it also lifts the Python SDK's client-side
# rate limit (60 requests/min by default) to 100,000/min.
BENCH_KEY = "sk_BlossomLoadBenchmarkKey000000000"


# The requests of call i, as in bench/src/scenarios.rs: every call has a prompt of its own,
# images are 512x512 with seed i. Warm-up calls use the indices after the measured ones.
def chat_messages(i: int) -> list[dict]:
    return [{"role": "user", "content": f"Question number {i} of the load benchmark: please say hello."}]


def image_prompt(i: int) -> str:
    return f"a red apple on a table, picture {i}"


def warmup_calls(calls: int) -> int:
    """As the Rust benchmark: about 5% of the calls, at least twice the concurrency."""
    return max(calls // 20, 2 * CONCURRENCY, 8)


REPO_ROOT = Path(__file__).resolve().parents[2]


# ======================================================================================
# Child: runs on the virtualenv's interpreter, pinned to CPU 0, imports the SDK.
# ======================================================================================


def _install_loopback_guard(counter: dict) -> None:
    """Refuse any socket connection that is not to loopback; count the connections."""
    import ipaddress

    def hook(event: str, args: tuple) -> None:
        if event != "socket.connect":
            return
        address = args[1]
        host = address[0] if isinstance(address, tuple) else None
        if host is None:  # AF_UNIX and friends: not network traffic
            return
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            counter["refused"] += 1
            raise ConnectionRefusedError(f"compare.py: refused non-loopback connect to {address!r}")
        counter["connects"] += 1

    sys.addaudithook(hook)


def _point_sdk_at(base_url: str) -> list[str]:
    """Replace the SDK's endpoint table in every module that holds a copy of it.

    In 0.8.0 ``blossom_ai.core.config.ENDPOINTS`` is an ``Endpoints`` NamedTuple instance
    (immutable; its field defaults are computed from the class-level BASE, so every URL
    field must be given). ``client``, ``core.models`` and the text and image generators
    import it by name, so each holds its own reference. The generators are imported lazily
    by the client, so they are imported here first.
    """
    import importlib

    import blossom_ai.core.config as config

    for name in (
        "blossom_ai.client",
        "blossom_ai.core.models",
        "blossom_ai.generators.text_generator",
        "blossom_ai.generators.image_generator",
    ):
        importlib.import_module(name)

    original = config.ENDPOINTS
    patched_table = config.Endpoints(
        BASE=base_url,
        TEXT_CHAT=f"{base_url}/v1/chat/completions",
        TEXT_MODELS=f"{base_url}/v1/models",
        TEXT_SIMPLE=f"{base_url}/text",
        IMAGE_GENERATE=f"{base_url}/image",
        IMAGE_MODELS=f"{base_url}/image/models",
    )
    patched = []
    for name, module in list(sys.modules.items()):
        if name.startswith("blossom_ai") and getattr(module, "ENDPOINTS", None) is original:
            module.ENDPOINTS = patched_table
            patched.append(name)
    # Nothing may still point at the real service.
    for name, module in list(sys.modules.items()):
        table = getattr(module, "ENDPOINTS", None) if name.startswith("blossom_ai") else None
        if table is not None and not all(url.startswith(base_url) for url in table):
            raise SystemExit(f"compare.py: {name}.ENDPOINTS still points elsewhere: {table}")
    return sorted(patched)


def _expected_answers(base_url: str, client) -> tuple[str, bytes]:
    """Ask the server directly (urllib, no proxy) what it answers to the SDK's requests."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    body = json.dumps({"model": "openai", "messages": chat_messages(0), "max_tokens": 2000})
    request = urllib.request.Request(
        f"{base_url}/v1/chat/completions",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {BENCH_KEY}"},
        method="POST",
    )
    with opener.open(request, timeout=10) as response:
        chat_text = json.loads(response.read())["choices"][0]["message"]["content"]

    # The exact URL the SDK requests for call 0, built by the SDK itself.
    image_url = client.image.generate_url(image_prompt(0), width=512, height=512, seed=0)
    request = urllib.request.Request(image_url, headers={"Authorization": f"Bearer {BENCH_KEY}"})
    with opener.open(request, timeout=10) as response:
        image = response.read()
    return chat_text, image


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest rank, as the Rust benchmark."""
    import math

    if not sorted_values:
        return 0.0
    rank = math.ceil(fraction * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


async def _run_calls(call, check, first: int, calls: int, concurrency: int) -> dict:
    """Run calls first..first+calls, `concurrency` at a time; time and check each one."""
    import asyncio

    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    first_error: list[str] = []

    async def one(i: int) -> None:
        async with semaphore:
            start = time.perf_counter()
            try:
                answer = await call(i)
            except Exception as error:  # every failure is reported, none is fatal
                kind = type(error).__name__
                errors[kind] = errors.get(kind, 0) + 1
                if not first_error:
                    first_error.append(f"{kind}: {error}"[:500])
                return
            latencies.append(time.perf_counter() - start)
            if not check(answer):
                errors["WrongAnswer"] = errors.get("WrongAnswer", 0) + 1
                if not first_error:
                    first_error.append(f"WrongAnswer: {answer[:80]!r}")

    await asyncio.gather(*(one(i) for i in range(first, first + calls)))
    return {"latencies": latencies, "errors": errors, "first_error": first_error}


async def _child_async(args: argparse.Namespace, guard: dict) -> dict:
    import resource

    from blossom_ai import BlossomClient, SessionConfig

    # Defaults except the key (lifts the client-side rate limit) and the response cache
    # (on by default; it caches every GET, so image calls after the first would be hits).
    client = BlossomClient(config=SessionConfig(api_key=BENCH_KEY, cache_enabled=False))
    expected_text, expected_image = _expected_answers(args.base_url, client)

    if args.scenario == "chat16":
        def call(i):
            return client.text.chat(chat_messages(i))

        def check(answer):
            return answer == expected_text
    elif args.scenario == "image16":
        def call(i):
            return client.image.generate(image_prompt(i), width=512, height=512, seed=i)

        def check(answer):
            return answer == expected_image
    else:
        raise SystemExit(f"unknown scenario {args.scenario}")

    warmup = await _run_calls(call, check, args.calls, args.warmup, CONCURRENCY)
    warmup_connects = guard["connects"]
    connects_before = guard["connects"]
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.perf_counter()
    measured = await _run_calls(call, check, 0, args.calls, CONCURRENCY)
    wall = time.perf_counter() - wall_before
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    connects = guard["connects"] - connects_before
    await client.close()

    user = usage_after.ru_utime - usage_before.ru_utime
    system = usage_after.ru_stime - usage_before.ru_stime
    failed = sum(measured["errors"].values())
    ok = args.calls - failed
    latencies = sorted(measured["latencies"])
    return {
        "impl": "python",
        "sdk": SDK_REQUIREMENT,
        "python": sys.version.split()[0],
        "logging": args.logging,
        "scenario": args.scenario,
        "concurrency": CONCURRENCY,
        "warmup_calls": args.warmup,
        "warmup_failed": sum(warmup["errors"].values()),
        "calls": args.calls,
        "ok": ok,
        "failed": failed,
        "errors": measured["errors"],
        "first_error": (measured["first_error"] or warmup["first_error"] or [None])[0],
        "wall_s": round(wall, 4),
        "cpu_user_s": round(user, 4),
        "cpu_sys_s": round(system, 4),
        "cpu_per_call_us": round((user + system) / args.calls * 1e6, 1),
        "rps": round(ok / wall, 1),
        "p50_us": round(_percentile(latencies, 0.50) * 1e6),
        "p99_us": round(_percentile(latencies, 0.99) * 1e6),
        "tcp_connects_warmup": warmup_connects,
        "tcp_connects": connects,
        "refused_connects": guard["refused"],
        "max_rss_kib": usage_after.ru_maxrss,
    }


def child_main(args: argparse.Namespace) -> None:
    import asyncio
    import logging

    guard = {"connects": 0, "refused": 0}
    _install_loopback_guard(guard)
    if args.logging == "quiet":
        # Configure the root logger first: the SDK's own basicConfig(level=INFO) is then a
        # no-op, and its INFO lines (and httpx's) are dropped at the level check.
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    patched = _point_sdk_at(args.base_url)
    result = asyncio.run(_child_async(args, guard))
    result["patched_modules"] = patched
    Path(args.out).write_text(json.dumps(result) + "\n")


# ======================================================================================
# Parent: system interpreter, standard library only.
# ======================================================================================


def log(message: str) -> None:
    print(f"[compare] {message}", file=sys.stderr, flush=True)


def pip_install(python: Path, *requirements: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *requirements], check=True)


def make_venv(directory: Path) -> Path:
    log(f"creating virtualenv in {directory} and installing {SDK_REQUIREMENT}")
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    python = directory / "bin" / "python"
    pip_install(python, SDK_REQUIREMENT, *UNDECLARED_IMPORTS)
    return python


class Server:
    """`taskset -c 1 blossom-load serve`: prints its URL, serves until stdin closes."""

    def __init__(self, blossom_load: Path) -> None:
        self.process = subprocess.Popen(
            ["taskset", "-c", "1", str(blossom_load), "serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise SystemExit(f"blossom-load serve printed {line!r}, expected its URL")
        self.url = line

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def loopback_env() -> dict:
    """The environment for the children: no proxy can take a request off loopback."""
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "*"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_python(python: Path, url: str, scenario: str, calls: int, logging_mode: str) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        warmup = warmup_calls(calls)
        command = ["taskset", "-c", "0", str(python), str(Path(__file__).resolve()), "child",
                   "--base-url", url, "--scenario", scenario, "--calls", str(calls),
                   "--warmup", str(warmup), "--logging", logging_mode, "--out", out.name]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, env=loopback_env())
        text = Path(out.name).read_text()
    if done.returncode != 0 or not text.strip():
        raise SystemExit(f"python child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(text)
    result["impl"] = "python" if logging_mode == "default" else "python-quiet"
    return result


def run_rust(blossom_load: Path, url: str, scenario: str, path: str, calls: int) -> dict:
    command = ["taskset", "-c", "0", str(blossom_load), "run", "--base-url", url,
               "--path", path, "--scenario", scenario, "--calls", str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, env=loopback_env())
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1])
    # It prints its line even when calls failed, then exits non-zero with the errors on stderr.
    result["impl"] = f"rust-{path}"
    result["failed"] = result["calls"] - result["ok"]
    if done.returncode != 0:
        result["first_error"] = done.stderr.strip()[-500:]
    return result


def summarize(runs: list[dict]) -> dict:
    """Medians per workload and client."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["scenario"], run["impl"]), []).append(run)
    summary: dict[str, dict] = {}
    for (scenario, impl), group in groups.items():
        entry = {"runs": len(group)}
        for field in ("cpu_per_call_us", "rps", "p50_us", "p99_us", "max_rss_kib"):
            values = [run[field] for run in group if run.get(field) is not None]
            if values:
                entry[field] = statistics.median(values)
        entry["failed"] = sum(run.get("failed", 0) or 0 for run in group)
        summary.setdefault(scenario, {})[impl] = entry
    return summary


def print_table(summary: dict, clients: list[str], python_clients: list[str],
                rust_clients: list[str], reps: int, note: str = "") -> None:
    """Three small tables: CPU per call, Python / Rust ratios, and the details."""

    def table(header: list[str], rows: list[list[str]], names: int = 1) -> None:
        """Left-aligned name columns, then right-aligned figures."""
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, ["-" * w for w in widths], *rows]:
            cells = [c.ljust(w) if i < names else c.rjust(w)
                     for i, (c, w) in enumerate(zip(row, widths))]
            print("  ".join(cells).rstrip())
        print()

    def cpu(scenario: str, client: str) -> float | None:
        return summary.get(scenario, {}).get(client, {}).get("cpu_per_call_us")

    print(f"Client CPU per call, µs (user+sys, client on CPU 0, median of {reps}{note})\n")
    table(["workload", *clients],
          [[scenario, *(f"{cpu(scenario, c):.1f}" if cpu(scenario, c) else "-" for c in clients)]
           for scenario in WORKLOADS])

    print("Python / Rust, CPU per call\n")
    rows = []
    for scenario in WORKLOADS:
        for python_client in python_clients:
            row = [scenario, python_client]
            for rust_client in rust_clients:
                p, r = cpu(scenario, python_client), cpu(scenario, rust_client)
                row.append(f"{p / r:.1f}x" if p and r else "-")
            rows.append(row)
    table(["workload", "python client", *(f"vs {r}" for r in rust_clients)], rows, names=2)

    print("Details (medians; failed: all runs)\n")
    rows = []
    for scenario in WORKLOADS:
        for client in clients:
            entry = summary.get(scenario, {}).get(client)
            if entry:
                rows.append([scenario, client, f"{entry.get('rps', 0):.0f}", f"{entry.get('p50_us', 0):.0f}",
                             f"{entry.get('p99_us', 0):.0f}", f"{entry.get('max_rss_kib', 0) / 1024:.1f}",
                             str(entry["failed"])])
    table(["workload", "client", "calls/s", "p50 µs", "p99 µs", "peak RSS MiB", "failed"], rows, names=2)


def parent_main(args: argparse.Namespace) -> None:
    blossom_load = Path(args.blossom_load)
    if not blossom_load.is_absolute():
        blossom_load = REPO_ROOT / blossom_load
    if not blossom_load.exists():
        raise SystemExit(f"{blossom_load} not found: cargo build --release -p blossom-bench")
    logging_modes = {"both": ["default", "quiet"], "default": ["default"], "quiet": ["quiet"]}[args.python_logging]
    rust_paths = [path for path in args.rust_paths.split(",") if path]
    calls = {"chat16": args.chat_calls, "image16": args.image_calls}

    venv_dir = None
    if args.venv:
        python = Path(args.venv) / "bin" / "python"
    else:
        venv_dir = Path(tempfile.mkdtemp(prefix="blossom-py-venv-"))
        python = make_venv(venv_dir)
    if args.with_sniffio:
        # httpcore tries `import sniffio` whenever it makes a lock or semaphore (about ten
        # times per request); nothing in the SDK's dependency tree installs it any more, so
        # each of those is a failed import that searches sys.path.
        log("installing sniffio in the virtualenv (--with-sniffio)")
        pip_install(python, "sniffio")
    server = None
    runs: list[dict] = []
    try:
        server = Server(blossom_load)
        log(f"server {server.url} (CPU 1); clients on CPU 0")
        for rep in range(1, args.reps + 1):
            for scenario in WORKLOADS:
                for mode in logging_modes:
                    result = run_python(python, server.url, scenario, calls[scenario], mode)
                    runs.append(result | {"rep": rep})
                    log(f"rep {rep} {scenario} {result['impl']}: {result['cpu_per_call_us']} µs/call, "
                        f"{result['ok']} ok, {result['failed']} failed, {result['wall_s']} s, "
                        f"{result['tcp_connects']} connections opened in the window")
                    if result["failed"]:
                        log(f"  first error: {result['first_error']}")
                for path in rust_paths:
                    result = run_rust(blossom_load, server.url, scenario, path, calls[scenario])
                    runs.append(result | {"rep": rep})
                    log(f"rep {rep} {scenario} {result['impl']}: {result['cpu_per_call_us']:.1f} µs/call, "
                        f"{result['ok']} ok, {result['failed']} failed, {result['wall_s']:.3f} s")
                    if result["failed"]:
                        log(f"  errors: {result.get('first_error')}")
    finally:
        if server:
            server.stop()
        if venv_dir and not args.keep_venv:
            shutil.rmtree(venv_dir, ignore_errors=True)
        elif venv_dir:
            log(f"kept virtualenv {venv_dir} (reuse it with --venv {venv_dir})")

    summary = summarize(runs)
    python_clients = ["python" if mode == "default" else "python-quiet" for mode in logging_modes]
    rust_clients = [f"rust-{path}" for path in rust_paths]
    print_table(summary, python_clients + rust_clients, python_clients, rust_clients, args.reps,
                ", Python with sniffio installed" if args.with_sniffio else "")
    if args.json:
        document = {"sdk": SDK_REQUIREMENT, "with_sniffio": args.with_sniffio,
                    "concurrency": CONCURRENCY, "reps": args.reps, "calls": calls,
                    "summary": summary, "runs": runs}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
        log(f"wrote {args.json}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--blossom-load", default="target/release/blossom-load",
                        help="the built benchmark binary (relative paths: from the repo root)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (medians are reported)")
    parser.add_argument("--chat-calls", type=int, default=3000, help="measured chat16 calls")
    parser.add_argument("--image-calls", type=int, default=1000, help="measured image16 calls")
    parser.add_argument("--python-logging", choices=("both", "default", "quiet"), default="both",
                        help="the SDK's own INFO logging (default), root logger at WARNING (quiet), or both")
    parser.add_argument("--rust-paths", default=",".join(RUST_PATHS),
                        help="blossom-load run paths, comma-separated")
    parser.add_argument("--json", help="write every run and the medians here")
    parser.add_argument("--venv", help="use this existing virtualenv instead of a fresh one")
    parser.add_argument("--keep-venv", action="store_true", help="do not delete the fresh virtualenv")
    parser.add_argument("--with-sniffio", action="store_true",
                        help="also install sniffio (not a dependency, but httpcore looks for it on every request)")

    child = sub.add_parser("child", help="internal: one measured Python run (venv interpreter)")
    child.add_argument("--base-url", required=True)
    child.add_argument("--scenario", choices=WORKLOADS, required=True)
    child.add_argument("--calls", type=int, required=True)
    child.add_argument("--warmup", type=int, default=100)
    child.add_argument("--logging", choices=("default", "quiet"), default="default")
    child.add_argument("--out", required=True)

    args = parser.parse_args()
    if args.command == "child":
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
