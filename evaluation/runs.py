"""The runs file: every `jirei evaluate all` run, one JSON object per line, appended and never
rewritten. A record holds the run's id, start time, settings, model version, git commit,
figures and stage timings (`EvaluationRun.record`).

Runs are named by id, by a unique prefix of an id, or by position: -1 is the latest run, -2 the
one before. `compare(old, new)` gives one row per figure with its change; a figure that got
worse by more than `TOLERANCE` is a regression. Higher is better for every figure except the
calibration errors (`*_ece`). Stage timings are compared too, lower being better, but a slower
stage is flagged for information only: timings depend on the machine and its load.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RUNS_FILE = Path("out/evaluation-runs.jsonl")
#: A figure must drop by more than this to count as a regression (rounding and tiny test sets).
TOLERANCE = 0.005
#: A stage is flagged "slower" when it takes this share longer than before.
SLOWER_SHARE = 0.2
LOWER_IS_BETTER_SUFFIXES = ("_ece",)
TIMING_PREFIX = "timing."

REGRESSION = "REGRESSION"
SLOWER = "slower"
NEW = "new"
GONE = "gone"


def append_run(path: Path | str, record: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")


def load_runs(path: Path | str) -> list[dict[str, Any]]:
    """All runs in the file, oldest first; [] when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    runs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not a JSON run record ({exc.msg})") from None
    return runs


def find_run(runs: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    """The run named by `ref`: its id, a unique prefix of its id, or a negative index (-1 = latest)."""
    if not runs:
        raise LookupError("the runs file holds no runs yet (run `jirei evaluate all`)")
    if re.fullmatch(r"-[1-9]\d*", ref):
        if int(ref) >= -len(runs):
            return runs[int(ref)]
        raise LookupError(f"run {ref}: only {len(runs)} runs in the file")
    exact = [r for r in runs if r["run_id"] == ref]
    if exact:
        return exact[-1]
    matches = [r for r in runs if r["run_id"].startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LookupError(f"run {ref!r}: no run id starts with it")
    raise LookupError(f"run {ref!r} is ambiguous: {', '.join(r['run_id'] for r in matches[:5])}")


@dataclass
class CompareRow:
    figure: str
    old: float | None
    new: float | None
    flag: str  # "", REGRESSION, SLOWER, NEW or GONE

    @property
    def change(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def regression(self) -> bool:
        return self.flag == REGRESSION


def lower_is_better(figure: str) -> bool:
    return figure.startswith(TIMING_PREFIX) or figure.endswith(LOWER_IS_BETTER_SUFFIXES)


def _comparable_values(run: dict[str, Any]) -> dict[str, float | None]:
    values = dict(run.get("figures", {}))
    values.update({TIMING_PREFIX + stage: s for stage, s in run.get("timings", {}).items()})
    return values


def _flag(figure: str, old: float | None, new: float | None) -> str:
    if old is None and new is None:
        return ""
    if old is None:
        return NEW
    if new is None:
        return GONE
    if figure.startswith(TIMING_PREFIX):
        return SLOWER if new > old * (1 + SLOWER_SHARE) else ""
    worse = old - new if not lower_is_better(figure) else new - old
    return REGRESSION if worse > TOLERANCE else ""


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[CompareRow]:
    """One row per figure and timing of either run, in the newer run's order."""
    a, b = _comparable_values(old), _comparable_values(new)
    names = list(b) + [n for n in a if n not in b]
    return [CompareRow(n, a.get(n), b.get(n), _flag(n, a.get(n), b.get(n))) for n in names]


# --- text output ------------------------------------------------------------------------

#: The figures `jirei evaluate history` shows per run (label, figure name).
HISTORY_COLUMNS = (
    ("seg F1", "segmentation.f1"),
    ("org F1", "entities.jirei.organisations.f1"),
    ("place F1", "entities.jirei.places.f1"),
    ("year F1", "entities.jirei.years.f1"),
    ("P.acc", "classification.jirei.all.pillar_accuracy"),
    ("P.ECE", "classification.jirei.all.pillar_ece"),
    ("I.miF1", "classification.jirei.all.items_micro_f1"),
)


def _number(value: float | None, width: int, digits: int = 3) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def short_commit(commit: str | None) -> str:
    """The first 7 hex digits, "+" when the checkout had uncommitted changes."""
    if not commit:
        return "-"
    return commit[:7] + ("+" if commit.endswith("+dirty") else "")


def format_history(runs: list[dict[str, Any]]) -> str:
    head = f"{'run':<22} {'model':<22} {'commit':<8}" + "".join(f" {label:>8}" for label, _ in HISTORY_COLUMNS)
    head += f" {'seconds':>8}"
    lines = [head, "-" * len(head)]
    for r in runs:
        commit = short_commit(r.get("git_commit"))
        cells = "".join(f" {_number(r['figures'].get(name), 8)}" for _, name in HISTORY_COLUMNS)
        total = r.get("timings", {}).get("total")
        lines.append(f"{r['run_id']:<22} {r.get('model_version', '')[:22]:<22} {commit:<8}{cells} "
                     f"{_number(total, 8, 1)}")
    return "\n".join(lines)


def format_compare(old: dict[str, Any], new: dict[str, Any], rows: list[CompareRow], changed_only: bool = False) -> str:
    """Every figure's change (with `changed_only`, only figures that moved by 0.0005 or more, or
    carry a flag); the totals below count every figure either way."""
    shown = [r for r in rows if not changed_only or r.flag or r.change is None or abs(r.change) >= 0.0005]
    width = max([len(r.figure) for r in shown] + [6])
    lines = [f"{old['run_id']} ({old.get('model_version', '')}) -> {new['run_id']} ({new.get('model_version', '')})",
             f"{'figure':<{width}} {'old':>8} {'new':>8} {'change':>8}  flag",
             "-" * (width + 34)]
    for r in shown:
        change = "" if r.change is None else f"{r.change:+.3f}"
        lines.append(f"{r.figure:<{width}} {_number(r.old, 8)} {_number(r.new, 8)} {change:>8}  {r.flag}".rstrip())
    regressions = [r.figure for r in rows if r.regression]
    slower = [r.figure for r in rows if r.flag == SLOWER]
    lines.append("")
    if changed_only:
        lines.append(f"{len(shown)} of {len(rows)} figures changed or flagged")
    lines.append(f"{len(regressions)} regression(s) beyond {TOLERANCE}" + (": " + ", ".join(regressions) if regressions else ""))
    if slower:
        lines.append(f"slower by more than {SLOWER_SHARE:.0%} (information only): {', '.join(slower)}")
    return "\n".join(lines)
