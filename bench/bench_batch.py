"""`make bench`, batch part: `jirei batch` throughput with 1 and 2 workers (local and Dask),
peak memory per worker, and the time of a re-run that has nothing to do.

Inputs (at least 50 documents): the seed texts, the real PDFs in ../shared/pdfs, and reports
built by recombining seed cases (bench/recombine.py). Each run is a fresh `jirei batch`
process on a fresh store, so wall time includes loading GiNZA in the workers. A benchmark,
not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recombine import build_reports

from jirei import paths


def _inputs(folder: Path, recombined: int) -> Path:
    seeds = sorted(paths.seeds_dir().glob("*.txt"))
    pdfs = sorted((paths.shared_dir() / "pdfs").glob("*.pdf"))
    inputs = folder / "inputs"
    inputs.mkdir()
    for p in seeds + pdfs:
        (inputs / p.name).symlink_to(p.resolve())
    build_reports(paths.seeds_dir(), inputs / "recombined", count=recombined, cases_per_report=4)
    return inputs


def _run(inputs: Path, db: Path, workers: int, backend: str) -> dict:
    cmd = [sys.executable, "-m", "jirei.cli", "batch", str(inputs), "--db", str(db), "-q",
           "--workers", str(workers), "--backend", backend]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise SystemExit(f"batch failed: {done.stderr[-2000:]}")
    con = sqlite3.connect(db)
    counts, timings = con.execute("SELECT counts, timings FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
    con.close()
    counts, timings = json.loads(counts), json.loads(timings)
    return {"backend": backend, "workers": workers, "wall": wall, "docs": counts["new_documents"],
            "cases": counts["cases"], "failed": counts["failed"], "process": timings.get("process", 0.0),
            "peak_mb": counts["worker_peak_mb"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recombined", type=int, default=45, help="reports built from seed cases (default: %(default)s)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask runs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="jirei-bench-") as tmp:
        tmp = Path(tmp)
        inputs = _inputs(tmp, args.recombined)
        n_files = sum(1 for p in inputs.rglob("*") if p.is_file())
        print(f"Batch: `jirei batch` over {n_files} documents ({inputs}: seed texts, real PDFs, "
              f"{args.recombined} recombined reports); fresh store and process per run")
        runs = []
        plan = [("local", 1), ("local", 2)] + ([] if args.no_dask else [("dask", 1), ("dask", 2)])
        for backend, workers in plan:
            runs.append(_run(inputs, tmp / f"{backend}-{workers}.db", workers, backend))
        print(f"{'backend':<8} {'workers':>7} {'wall s':>8} {'docs/min':>9} {'cases/min':>10} "
              f"{'docs':>5} {'cases':>6} {'failed':>6}  peak MB per worker")
        for r in runs:
            print(f"{r['backend']:<8} {r['workers']:>7} {r['wall']:>8.1f} {r['docs'] / r['wall'] * 60:>9.1f} "
                  f"{r['cases'] / r['wall'] * 60:>10.1f} {r['docs']:>5} {r['cases']:>6} {r['failed']:>6}  "
                  f"{', '.join(f'{m:.0f}' for m in r['peak_mb'])}")
        by = {(r["backend"], r["workers"]): r for r in runs}
        for backend in ("local", "dask"):
            if (backend, 1) in by and (backend, 2) in by:
                speedup = by[(backend, 1)]["wall"] / by[(backend, 2)]["wall"]
                print(f"{backend}: 2 workers / 1 worker throughput: {speedup:.2f}x (goal >= 1.7x)")

        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "jirei.cli", "batch", str(inputs), "--db",
                               str(tmp / "local-2.db"), "-q"], capture_output=True, text=True)
        noop = time.perf_counter() - t0
        print(f"re-run of a finished batch (nothing to do): {noop:.2f} s wall, process start included "
              f"(goal < 5 s); {done.stderr.strip().splitlines()[0] if done.stderr.strip() else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
