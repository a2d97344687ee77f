"""Reports built from real seed cases, for batch tests and the batch benchmark.

Each built report is a headed text (`# title`, then `## heading` + body per case) whose cases
are seed case entries (as Jirei segments them) in a shuffled order: real Japanese text in a
layout the seeds do not have, with a known number of cases per report.
"""

from __future__ import annotations

import random
from pathlib import Path

SEED_PREFIXES = ("001", "003", "004")


def seed_case_entries(seeds_dir: Path) -> list[tuple[str, str]]:
    """(heading, body) of every case entry in seeds 001, 003 and 004."""
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment

    entries = []
    for prefix in SEED_PREFIXES:
        for path in sorted(Path(seeds_dir).glob(f"{prefix}_*.txt")):
            for case in segment(ingest(path)):
                title = " ".join(case.title.split())
                body = case.text[len(case.title):].strip() if case.text.startswith(case.title) else case.text
                if title and body:
                    entries.append((title, body))
    return entries


def build_reports(seeds_dir: Path, out_dir: Path, count: int, cases_per_report: int = 4,
                  seed: int = 7) -> list[Path]:
    """Write `count` reports of `cases_per_report` seed cases each into `out_dir`."""
    entries = seed_case_entries(seeds_dir)
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        picked = rng.sample(entries, cases_per_report)
        lines = [f"# 地域協創の取組事例 第{i + 1}集", ""]
        for title, body in picked:
            lines += [f"## {title}", body, ""]
        path = out_dir / f"recombined_{i + 1:03d}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(path)
    return written
