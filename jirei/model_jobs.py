"""The model loop of a case store: retrain from reviewers' corrections as a background job,
compare the candidate with the active model, promote or discard it, relabel with the active model.

Where model files live: beside the store, in a folder named from it (`jirei.db` →
`jirei.db.models/`), one sub-folder per model version (`jirei.db.models/chiiki_kyoso-1a2b3c4d/`),
never inside the installed package. A job trains into `.job-<id>/` there and renames it to the
version when it is whole, so a version folder is always complete. Training is `jirei train --db`'s
(the same selection of reviewed cases and held-out rule, `classify/store_data.py`), with the active
model's hyperparameters (`hyperparameters: "active"`, the default: quick, and the same rows give
the same files), the defaults (`"defaults"`, as `--no-search`) or a new search (`"search"`).

Jobs run in a process of their own (`python -m jirei.model_jobs run DB JOB`), started by
`start_job`; the job's state is in the store (`Store.model_jobs`), so every process sees it. The
job's process renews a heartbeat every few seconds; `check_jobs` (run by whoever shows the jobs)
fails a job whose process is gone (same machine) or whose heartbeat stopped, with a one-line
reason, so nothing stays "running" forever.

The active model is the store's latest promotion (`Store.active_model`); with none, the models
given by `--models` (or the shipped ones). `jirei relabel --db` and the reviewer app use it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from jirei import paths
from jirei.store import Store, StoreError

HEARTBEAT_SECONDS = 3.0
#: A job whose heartbeat is older than this is failed (its process hung or is on a machine
#: where it cannot be checked).
STALE_SECONDS = 90.0
KINDS = ("train", "relabel")
HYPERPARAMETER_MODES = ("active", "defaults", "search")
TRAIN_STEPS = ("reading reviewed cases", "building training rows", "training (cross-validation)",
               "writing the model files", "held-out figures of the candidate", "held-out figures of the active model")
CARD_FILE = "model_card.json"

#: Figures compared, (key, label, higher is better). CV from the model card (on each model's own
#: training data); held-out on the same held-out cases for both models.
CV_FIGURES = (("pillar.accuracy", "pillar accuracy", True), ("pillar.macro_f1", "pillar macro-F1", True),
              ("pillar.ece", "pillar ECE", False), ("pillar.log_loss", "pillar log loss", False),
              ("theme_accuracy", "theme accuracy", True), ("action_items.micro_f1", "items micro-F1", True),
              ("action_items.macro_f1", "items macro-F1", True), ("action_items.top1_hit", "items top-1", True))
HELD_OUT_FIGURES = (("pillar_accuracy", "pillar accuracy", True), ("pillar_macro_f1", "pillar macro-F1", True),
                    ("pillar_ece", "pillar ECE", False), ("items_micro_f1", "items micro-F1", True),
                    ("items_macro_f1", "items macro-F1", True), ("items_top1_hit", "items top-1", True))
#: Differences below this are rounding, not a change (figures are shown to 3 decimals).
TOLERANCE = 0.0005


class JobError(Exception):
    """A job that cannot be started or decided; one line."""


def models_home(db_path: str | Path) -> Path:
    """The folder of a store's trained models: beside the store, named from it."""
    db_path = Path(db_path).resolve()
    return db_path.parent / f"{db_path.name}.models"


def active_models_dir(store: Store, default: str | Path | None = None) -> Path:
    """The folder of the store's active model; without a promotion, `default` (or the shipped models)."""
    active = store.active_model()
    if active is not None:
        return resolve_models_dir(store.path, active["models_dir"])
    return Path(default) if default is not None else paths.default_models()


def resolve_models_dir(db_path: str | Path, models_dir: str | Path) -> Path:
    """A models folder as the store records it: relative to the store's folder for the models a
    job trained (so the store and its `.models` folder can move together), else absolute."""
    models_dir = Path(models_dir)
    return models_dir if models_dir.is_absolute() else Path(db_path).resolve().parent / models_dir


def recorded_models_dir(db_path: str | Path, models_dir: Path) -> str:
    """How the store records a models folder: relative to the store's folder when it is inside it."""
    base = Path(db_path).resolve().parent
    try:
        return str(models_dir.resolve().relative_to(base))
    except ValueError:
        return str(models_dir.resolve())


def read_card(models_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(models_dir) / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- starting and watching jobs ----------------------------------------------------------------------


def start_job(db_path: str | Path, kind: str, who: str, *, default_models: str | Path | None = None,
              seeds: str | Path | None = None, hyperparameters: str = "active") -> int:
    """Record a job in the store and start its process; returns the job id. One line (JobError)
    when it cannot start: another job of the kind is open, no checkout or seeds for training."""
    if kind not in KINDS:
        raise JobError(f"unknown job kind {kind!r}")
    if hyperparameters not in HYPERPARAMETER_MODES:
        raise JobError(f"hyperparameters {hyperparameters!r}: expected one of {', '.join(HYPERPARAMETER_MODES)}")
    db_path = Path(db_path).resolve()
    seeds = Path(seeds) if seeds is not None else paths.seeds_dir()
    if kind == "train":
        if not paths.checkout():
            raise JobError(f"training needs a checkout of Jirei's repository (its gold data in corpus/); this "
                           f"Jirei is installed at {paths.REPO}")
        if not seeds.is_dir():
            raise JobError(f"{seeds}: seeds folder not found (training needs seed 001; {paths.SHARED_HOWTO})")
    with Store(db_path, create=False) as store:
        check_jobs(store)
        base_dir = active_models_dir(store, default_models)
        card = read_card(base_dir)
        if card is None:
            raise JobError(f"{base_dir}: no model card; the active model's folder is missing or incomplete")
        settings = {"base_dir": str(base_dir), "seeds": str(seeds), "hyperparameters": hyperparameters}
        steps = len(TRAIN_STEPS) if kind == "train" else store.case_count()
        try:
            job_id = store.create_model_job(kind, who, settings, card.get("model_version"), steps)
        except StoreError as exc:
            raise JobError(str(exc)) from None
    home = models_home(db_path)
    try:
        home.mkdir(exist_ok=True)
        log = open(home / f"job-{job_id}.log", "ab")
    except OSError as exc:
        why = f"{home}: cannot write the models folder ({exc.strerror or exc})"
        with Store(db_path, create=False) as store:
            store.fail_model_job(job_id, why)
        raise JobError(why) from None
    try:
        proc = subprocess.Popen([sys.executable, "-m", "jirei.model_jobs", "run", str(db_path), str(job_id)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except OSError as exc:
        with Store(db_path, create=False) as store:
            store.fail_model_job(job_id, f"could not start the job's process: {exc.strerror or exc}")
        raise JobError(f"could not start the job's process: {exc.strerror or exc}") from None
    finally:
        log.close()
    with Store(db_path, create=False) as store:
        store.model_job_started(job_id, proc.pid, socket.gethostname())
    # Reap the process when it ends (no zombie), and fail its job at once if it died without a word.
    threading.Thread(target=_reap, args=(proc, db_path, job_id), daemon=True, name=f"jirei-job-{job_id}").start()
    return job_id


def _reap(proc: subprocess.Popen, db_path: Path, job_id: int) -> None:
    code = proc.wait()
    try:
        with Store(db_path, create=False) as store:
            job = store.model_job(job_id)
            if job and job["status"] in ("queued", "running"):
                store.fail_model_job(job_id, _death_reason(code, db_path, job_id))
    except StoreError:
        pass


def _death_reason(code: int, db_path: Path, job_id: int) -> str:
    how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
    last = _last_log_line(db_path, job_id)
    return f"the job's process ended ({how})" + (f": {last}" if last else "")


def _last_log_line(db_path: Path, job_id: int) -> str:
    try:
        lines = (models_home(db_path) / f"job-{job_id}.log").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    lines = [ln.strip() for ln in lines if ln.strip()]
    return lines[-1][:300] if lines else ""


def _process_gone(pid: int | None) -> bool:
    """True when no live process has this id on this machine (a zombie counts as gone)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[-1].split()[0]
        return state in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:
        return False


def check_jobs(store: Store, now: datetime | None = None) -> list[int]:
    """Fail the open jobs that can no longer finish: their process is gone (on this machine) or
    their heartbeat stopped more than STALE_SECONDS ago. Returns the ids failed."""
    now = now or _now()
    failed = []
    host = socket.gethostname()
    for job in store.open_model_jobs():
        beat = job["heartbeat_at"] or job["created_at"]
        if job["host"] == host and _process_gone(job["pid"]):
            reason = _death_reason_from_log(store.path, job)
            if store.fail_model_job(job["job_id"], reason):
                failed.append(job["job_id"])
            continue
        stale_before = (now - timedelta(seconds=STALE_SECONDS)).isoformat(timespec="milliseconds")  # as Store stamps
        if beat < stale_before and store.fail_model_job(
                job["job_id"], f"no sign of life from the job's process (pid {job['pid']} on {job['host']}) "
                               f"since {beat[:19].replace('T', ' ')} UTC", stale_before=stale_before):
            failed.append(job["job_id"])
    return failed


def _death_reason_from_log(db_path: Path, job: dict) -> str:
    last = _last_log_line(db_path, job["job_id"])
    return f"the job's process (pid {job['pid']}) is gone" + (f": {last}" if last else "")


# --- comparing a candidate with the active model ------------------------------------------------------


@dataclass
class FigureRow:
    group: str  # "cross-validation" or a held-out part
    label: str
    base: float | None
    candidate: float | None
    higher_is_better: bool

    @property
    def delta(self) -> float | None:
        if self.base is None or self.candidate is None:
            return None
        return self.candidate - self.base

    @property
    def worse(self) -> bool:
        d = self.delta
        if d is None:
            return False
        return d < -TOLERANCE if self.higher_is_better else d > TOLERANCE

    @property
    def better(self) -> bool:
        d = self.delta
        if d is None:
            return False
        return d > TOLERANCE if self.higher_is_better else d < -TOLERANCE


def _dotted(data: dict, key: str) -> float | None:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return float(data) if isinstance(data, (int, float)) else None


def comparison(figures: dict) -> list[FigureRow]:
    """The candidate's figures beside the base model's, row by row."""
    base, cand = figures.get("base") or {}, figures.get("candidate") or {}
    rows = [FigureRow("cross-validation", label, _dotted(base.get("cv") or {}, key),
                      _dotted(cand.get("cv") or {}, key), up) for key, label, up in CV_FIGURES]
    parts = list((cand.get("held_out") or {}).keys())
    for part in parts:
        b, c = (base.get("held_out") or {}).get(part) or {}, (cand.get("held_out") or {}).get(part) or {}
        n = c.get("cases")
        group = f"held-out: {'seed gold' if part == 'all' else part} ({n} cases)"
        rows += [FigureRow(group, label, _dotted(b, key), _dotted(c, key), up) for key, label, up in HELD_OUT_FIGURES]
    return rows


def regressions(figures: dict) -> list[FigureRow]:
    return [r for r in comparison(figures) if r.worse]


# --- the job's process -------------------------------------------------------------------------------


class _Heartbeat(threading.Thread):
    """Renews the job's heartbeat from its own connection; notices when the job was failed by
    someone else (then the job stops at its next step)."""

    def __init__(self, db_path: Path, job_id: int):
        super().__init__(daemon=True, name="jirei-heartbeat")
        self.db_path, self.job_id = db_path, job_id
        self.stop = threading.Event()
        self.lost = False

    def run(self) -> None:
        with Store(self.db_path, create=False) as store:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                try:
                    if not store.model_job_progress(self.job_id):
                        self.lost = True
                        return
                except StoreError:
                    pass  # a busy moment; the next beat tries again


class JobCancelled(Exception):
    pass


def run_job(db_path: str | Path, job_id: int) -> int:
    """The job's process: do the job, keep its state in the store. Returns the exit status."""
    db_path = Path(db_path)
    store = Store(db_path, create=False)
    job = store.model_job(job_id)
    if job is None or job["status"] not in ("queued", "running"):
        store.close()
        print(f"jirei: error: {db_path}: no open model job {job_id}", file=sys.stderr)
        return 2
    store.model_job_started(job_id, os.getpid(), socket.gethostname())
    beat = _Heartbeat(db_path, job_id)
    beat.start()

    def step(n: int, text: str) -> None:
        if beat.lost:
            raise JobCancelled()
        store.model_job_progress(job_id, n, text)
        print(f"job {job_id}: step {n}: {text}", flush=True)

    try:
        if job["kind"] == "train":
            _train(store, db_path, job, step)
        else:
            _relabel(store, job, step)
        return 0
    except JobCancelled:
        return 1
    except BaseException as exc:  # every failure becomes the job's one-line reason
        traceback.print_exc()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        store.fail_model_job(job_id, f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__)
        return 1
    finally:
        beat.stop.set()
        store.close()


def _hyperparameters(mode: str, base_card: dict):
    from jirei.classify.model import Hyperparameters

    if mode != "active":
        return None, None
    hp = base_card.get("hyperparameters") or {}
    if "pillar_and_theme" not in hp:
        return None, None
    return Hyperparameters(**hp["pillar_and_theme"]), Hyperparameters(**hp.get("action_items", hp["pillar_and_theme"]))


def _train(store: Store, db_path: Path, job: dict, step) -> None:
    from jirei.classify import model
    from jirei.classify.predict import CaseClassifier
    from jirei.classify.store_data import select_store_cases, training_rows_with_store
    from jirei.classify.taxonomy import load_taxonomy

    settings = job["settings"]
    seeds = Path(settings["seeds"])
    base_dir = Path(settings["base_dir"])
    base_card = read_card(base_dir) or {}
    mode = settings.get("hyperparameters", "active")

    step(1, TRAIN_STEPS[0])
    taxonomy = load_taxonomy((base_card.get("taxonomy") or {}).get("scheme") or "chiiki_kyoso")
    selection = select_store_cases(store, taxonomy, seeds)
    step(2, f"{TRAIN_STEPS[1]}: {selection.count} corrections, {selection.held_out_reviewed} reviewed cases held out")
    rows = training_rows_with_store(taxonomy, selection, seeds)
    step(3, f"{TRAIN_STEPS[2]} on {len(rows)} rows" + (", with a hyperparameter search" if mode == "search" else ""))
    run_id = store.start_run("train", {"models": str(models_home(db_path)), "search": mode == "search",
                                       "corrections": selection.count, "job": job["job_id"]})
    status = "failed"
    try:
        hp, hp_items = _hyperparameters(mode, base_card)
        trained = model.train(taxonomy, rows, search=mode == "search", hyperparameters=hp,
                              item_hyperparameters=hp_items, store=selection.card())
        step(4, TRAIN_STEPS[3])
        target = _save(trained, db_path, job["job_id"])
        status = "finished"
    finally:
        store.finish_run(run_id, {"rows": len(rows), "corrections": selection.count,
                                  "held_out_reviewed": selection.held_out_reviewed}, {}, status=status)
    store.register_model(trained.version, trained.card)

    step(5, TRAIN_STEPS[4])
    from jirei.evaluation.classification import jirei_held_out_scores

    extra = selection.held_out
    candidate = CaseClassifier.load(target)
    figures = {"candidate": {"version": trained.version, "cv": trained.card["cv"],
                             "held_out": jirei_held_out_scores(candidate, seeds, extra),
                             "corrections": selection.count, "rows": len(rows)}}
    step(6, TRAIN_STEPS[5])
    base = CaseClassifier.load(base_dir)
    figures["base"] = {"version": base.version, "cv": base_card.get("cv") or {},
                       "held_out": jirei_held_out_scores(base, seeds, extra),
                       "corrections": (base_card.get("training_data") or {}).get("corrections", 0),
                       "rows": (base_card.get("training_data") or {}).get("rows")}
    if not store.finish_model_job(job["job_id"], trained.version, recorded_models_dir(db_path, target), figures,
                                  run_id):
        raise JobCancelled()


def _save(trained, db_path: Path, job_id: int) -> Path:
    """Write the models whole into `.job-<id>/`, then rename the folder to the version. The same
    version trained again (the same rows and settings) gives the same files: the existing
    folder is kept."""
    from jirei.classify import model

    home = models_home(db_path)
    home.mkdir(exist_ok=True)
    tmp = home / f".job-{job_id}"
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save(trained, tmp)
    target = home / trained.version
    if (target / CARD_FILE).is_file():
        shutil.rmtree(tmp)
        return target
    if target.exists():  # an incomplete folder left by an older failure
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def _relabel(store: Store, job: dict, step) -> None:
    from jirei.pipeline import check_models
    from jirei.relabel import relabel_store

    models_dir = active_models_dir(store, job["settings"].get("base_dir"))
    classifier = check_models(models_dir)
    total = store.case_count()

    def progress(done: int) -> None:
        step(done, f"relabelled {done} of {total} cases with {classifier.version}")

    summary = relabel_store(store, classifier, progress=progress)
    figures = {"relabel": {"run_id": summary.run_id, "cases": summary.cases, "changed": summary.changed_cases,
                           "changes": summary.changes, "kept_reviewer": summary.kept_reviewer}}
    if not store.finish_model_job(job["job_id"], classifier.version, recorded_models_dir(store.path, models_dir),
                                  figures, summary.run_id):
        raise JobCancelled()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] != "run" or not argv[2].isdigit():
        print("usage: python -m jirei.model_jobs run DB JOB_ID", file=sys.stderr)
        return 2
    try:
        return run_job(argv[1], int(argv[2]))
    except StoreError as exc:
        print(f"jirei: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
