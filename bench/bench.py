"""`make bench`: speed of PDF ingestion (pages/s) and segmentation (chars/s), with profiles.

Inputs: the real PDFs in ../shared/pdfs, the seed texts in ../shared/seeds, and the seed PDFs
the test suite rendered with Chromium (.pytest_cache/d/jirei-pdfs) when present.
A benchmark, not a test: it prints figures and where the time goes; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import time
from pathlib import Path

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

RENDERED = paths.REPO / ".pytest_cache" / "d" / "jirei-pdfs"


def _profile_top(func, n: int = 12) -> str:
    prof = cProfile.Profile()
    prof.enable()
    func()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(n)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start : start + n + 1])


def bench_pdf_ingestion(pdfs: list[Path]) -> list[dict]:
    rows = []
    for pdf in pdfs:
        t0 = time.perf_counter()
        doc = ingest(pdf)
        dt = time.perf_counter() - t0
        pages = len(doc.pages)
        rows.append({"file": pdf.name, "pages": pages, "seconds": dt, "pages_per_s": pages / dt, "ms_per_page": 1000 * dt / pages, "chars": len(doc.text), "doc": doc})
    return rows


def bench_segmentation(docs: list, repeat: int = 5) -> list[dict]:
    rows = []
    for doc in docs:
        t0 = time.perf_counter()
        for _ in range(repeat):
            cases = segment(doc)
        dt = (time.perf_counter() - t0) / repeat
        rows.append({"file": doc.name, "chars": len(doc.text), "cases": len(cases), "layout": cases[0].layout if cases else "-", "seconds": dt, "chars_per_s": len(doc.text) / dt if dt else float("inf")})
    return rows


def _stock_pipe_child(seed_paths: list[str]) -> None:
    """In a fresh process: stock ja_ginza `nlp.pipe` over the seed texts (chunked under Sudachi's
    limit). Prints JSON: load and pipe seconds, chars, peak memory."""
    import json

    t0 = time.perf_counter()
    from jirei.nlp import chunk_text, load_stock_pipeline

    texts = [ingest(p).text for p in seed_paths]
    nlp = load_stock_pipeline()
    t1 = time.perf_counter()
    chunks = [c for t in texts for _, c in chunk_text(t)]
    n_ents = sum(len(d.ents) for d in nlp.pipe(chunks, batch_size=16))
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load": t1 - t0, "pipe": t2 - t1, "chars": sum(map(len, texts)), "ents": n_ents, "peak_mb": peak}))


def _adopt_orphans() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux): `jirei extract`'s workers
    are forked from a fork server that outlives it by a moment, and their CPU time reaches
    `_children_cpu` only when that server is reaped here. False where the platform cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap_descendants() -> None:
    """Wait for every descendant still running or unreaped (the fork server and its workers)."""
    import os

    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_extraction(seeds: list[Path], workers: int) -> dict:
    """End-to-end `jirei extract` (ingest, segment, entities, labels) vs stock `nlp.pipe`, same
    texts, each in its own process so wall time includes loading and peak memory is per run. CPU
    seconds (all processes of a run) say what the work costs whatever else the machine runs: on a
    busy machine wall time follows them rather than the cores a run could use."""
    import json
    import subprocess
    import tempfile

    chars = sum(len(ingest(p).text) for p in seeds)
    adopted = _adopt_orphans()
    with tempfile.TemporaryDirectory() as tmp:
        t0, cpu0 = time.perf_counter(), _children_cpu()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run([sys.executable, "-m", "jirei.cli", "extract", *map(str, seeds), "-q", "--workers", str(workers),
                        "-o", str(Path(tmp) / "cases.jsonl")], check=True)
        jirei_wall = time.perf_counter() - t0
        _reap_descendants()
        jirei_cpu = _children_cpu() - cpu0 if adopted else float("nan")
        jirei_peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    t0, cpu0 = time.perf_counter(), _children_cpu()
    out = subprocess.run([sys.executable, __file__, "--stock-child", *map(str, seeds)], check=True,
                         capture_output=True, text=True).stdout
    stock_wall, stock_cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    stock = json.loads(out.strip().splitlines()[-1])
    return {"chars": chars, "jirei_wall": jirei_wall, "jirei_cpu": jirei_cpu, "jirei_peak_mb": jirei_peak,
            "workers": workers, "stock_wall": stock_wall, "stock_cpu": stock_cpu, "stock_pipe": stock["pipe"],
            "stock_load": stock["load"], "stock_peak_mb": stock["peak_mb"]}


def _extraction_in_child(seeds: list[Path], workers: int) -> dict:
    """`bench_extraction` in a fresh process: the peak memory of children is a high-water mark per
    process, so each pair of runs is measured where no earlier run left its mark."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--extraction-child", str(workers), *map(str, seeds)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_stages(paths_: list[Path]) -> dict[str, float]:
    """Seconds per stage of `jirei extract`'s pipeline, in this process (one NER process): reading,
    segmenting, entities and labels of every file, model loading apart."""
    from jirei.pipeline import Pipeline, PipelineConfig

    t0 = time.perf_counter()
    pipeline = Pipeline.load(PipelineConfig(ner_workers=1))
    seconds = {"load models": time.perf_counter() - t0, "read": 0.0, "segment": 0.0, "entities": 0.0, "labels": 0.0}
    with pipeline:
        for path in paths_:
            t = time.perf_counter()
            document = pipeline.read(path)
            seconds["read"] += time.perf_counter() - t
            t = time.perf_counter()
            cases = pipeline.segment(document)
            seconds["segment"] += time.perf_counter() - t
            t = time.perf_counter()
            pipeline.add_entities(document, cases)
            seconds["entities"] += time.perf_counter() - t
            t = time.perf_counter()
            pipeline.label(cases)
            seconds["labels"] += time.perf_counter() - t
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiles")
    parser.add_argument("--runs", type=int, default=3, help="end-to-end extraction runs against stock (default 3)")
    parser.add_argument("--stock-child", nargs="+", metavar="SEED", help=argparse.SUPPRESS)
    parser.add_argument("--extraction-child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stock_child:
        _stock_pipe_child(args.stock_child)
        return 0
    if args.extraction_child:
        import json

        workers, *seed_paths = args.extraction_child
        print(json.dumps(bench_extraction([Path(p) for p in seed_paths], int(workers))))
        return 0

    real_pdfs = sorted((paths.shared_dir() / "pdfs").glob("*.pdf"))
    rendered = sorted(RENDERED.glob("*.pdf")) if RENDERED.is_dir() else []
    seeds = sorted(paths.seeds_dir().glob("*.txt"))
    if not (real_pdfs or seeds):
        print(f"nothing to measure: no PDFs or seeds under {paths.shared_dir()}", file=sys.stderr)
        return 1

    print("PDF ingestion (pdfplumber + Jirei's reading order, de-duplication, header/footer removal)")
    print(f"{'file':<58} {'pages':>5} {'s':>7} {'pages/s':>8} {'ms/page':>8}")
    pdf_rows = bench_pdf_ingestion(real_pdfs + rendered)
    for r in pdf_rows:
        print(f"{r['file'][:58]:<58} {r['pages']:>5} {r['seconds']:>7.2f} {r['pages_per_s']:>8.2f} {r['ms_per_page']:>8.1f}")
    if pdf_rows:
        pages = sum(r["pages"] for r in pdf_rows)
        secs = sum(r["seconds"] for r in pdf_rows)
        print(f"{'all PDFs':<58} {pages:>5} {secs:>7.2f} {pages / secs:>8.2f} {1000 * secs / pages:>8.1f}")

    docs = [ingest(p) for p in seeds] + [r["doc"] for r in pdf_rows]
    print("\nSegmentation (rule-set choice + tagging + assembly; mean of 5 runs)")
    print(f"{'file':<58} {'chars':>8} {'cases':>5} {'layout':<14} {'chars/s':>10}")
    seg_rows = bench_segmentation(docs)
    for r in seg_rows:
        print(f"{r['file'][:58]:<58} {r['chars']:>8} {r['cases']:>5} {r['layout']:<14} {r['chars_per_s']:>10.0f}")
    chars = sum(r["chars"] for r in seg_rows)
    secs = sum(r["seconds"] for r in seg_rows)
    print(f"{'all documents':<58} {chars:>8} {'':>5} {'':<14} {chars / secs:>10.0f}")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this run: {peak_mb:.0f} MB")

    if seeds:
        import os
        import statistics

        workers = os.cpu_count() or 1
        print(f"\nExtraction end to end: `jirei extract` on the {len(seeds)} seed texts (ingest, segment, entities, labels;")
        print(f"{workers} NER worker processes) vs stock ja_ginza nlp.pipe over the same texts, one process each;")
        print(f"{args.runs} runs, each pair in the same minute (the ratio of a pair is what the goal is about)")
        ratios = []
        for run in range(1, args.runs + 1):
            r = _extraction_in_child(seeds, workers)
            ratios.append(r["jirei_wall"] / r["stock_wall"])
            print(f"run {run}{'':<28} {'wall s':>8} {'chars/s':>9} {'peak MB':>8} {'CPU s':>7}")
            print(f"{'jirei extract (model load incl.)':<34} {r['jirei_wall']:>8.1f} {r['chars'] / r['jirei_wall']:>9.0f} "
                  f"{r['jirei_peak_mb']:>8.0f} {r['jirei_cpu']:>7.1f}")
            print(f"{'stock nlp.pipe (model load incl.)':<34} {r['stock_wall']:>8.1f} {r['chars'] / r['stock_wall']:>9.0f} "
                  f"{r['stock_peak_mb']:>8.0f} {r['stock_cpu']:>7.1f}")
            print(f"{'stock nlp.pipe (pipe only)':<34} {r['stock_pipe']:>8.1f} {r['chars'] / r['stock_pipe']:>9.0f}")
            print(f"jirei / stock wall time: {ratios[-1]:.3f}; CPU time: {r['jirei_cpu'] / r['stock_cpu']:.2f}; "
                  f"load average {os.getloadavg()[0]:.1f} on {workers} cores")
        print(f"jirei / stock wall time, median of {len(ratios)} runs: {statistics.median(ratios):.3f} "
              f"(runs: {', '.join(f'{x:.3f}' for x in ratios)}; goal <= 0.40); peak MB of jirei is the largest of "
              "its processes")

    if seeds:
        print(f"\nWhere `jirei extract`'s time goes on the {len(seeds)} seed texts (one process; share of the stages)")
        stages = bench_stages(seeds)
        work = sum(v for k, v in stages.items() if k != "load models")
        for name, secs in stages.items():
            share = f"{100 * secs / work:>6.1f}%" if name != "load models" else "       "
            print(f"{name:<14} {secs:>8.2f} s {share}")
        print(f"segmentation is {100 * stages['segment'] / work:.1f}% of the work after loading")

    if not args.no_profile:
        biggest = max(real_pdfs, key=lambda p: p.stat().st_size) if real_pdfs else None
        if biggest is not None:
            print(f"\nProfile: ingesting {biggest.name} (top functions by cumulative time)")
            print(_profile_top(lambda: ingest(biggest)))
        print("\nProfile: segmenting every document")
        print(_profile_top(lambda: [segment(d) for d in docs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
