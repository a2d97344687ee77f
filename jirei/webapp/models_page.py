"""The admin's Models page: retrain from the store's corrections as a background job, its
progress, the candidate's figures beside the active model's (regressions marked), promote or
discard, relabel with the active model (`jirei.model_jobs` does the work).

`ModelWatch` is how the app follows the active model without a restart: each request that shows
the model asks the store for its latest promotion (one indexed row) and reloads the model's
summary only when that changed."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

from starlette.responses import JSONResponse, RedirectResponse, Response

from jirei import model_jobs
from jirei.store import Store, StoreError

from .modelinfo import ModelSummary, load_model_summary

#: Seconds between reloads of the Models page while a job runs (its progress).
REFRESH_SECONDS = 2


class ModelWatch:
    """The active model's summary, reloaded when the store's active model changes."""

    def __init__(self, default_dir: str | Path, runs_file: str | Path):
        self.default_dir, self.runs_file = Path(default_dir), Path(runs_file)
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._summary: ModelSummary | None = None

    def models_dir(self, store: Store) -> Path:
        return model_jobs.active_models_dir(store, self.default_dir)

    def summary(self, store: Store) -> ModelSummary:
        active = store.active_model()
        key = (active["id"], str(self.models_dir(store))) if active else (None, str(self.default_dir))
        with self._lock:
            if key == self._key and self._summary is not None:
                return self._summary
        summary = load_model_summary(key[1], self.runs_file)
        if summary.known and not summary.held_out:
            _held_out_from_job(store, summary)
        with self._lock:
            self._key, self._summary = key, summary
        return summary


#: The job's held-out figures as the dashboard names them (`modelinfo.HELD_OUT_FIGURES`).
JOB_HELD_OUT = (("all", "pillar_accuracy", "pillar accuracy"), ("all", "pillar_macro_f1", "pillar macro F1"),
                ("all", "pillar_ece", "pillar ECE (calibration error)"),
                ("all", "items_micro_f1", "action items micro F1"),
                ("case store", "pillar_accuracy", "pillar accuracy, reviewed held-out store cases"))


def _held_out_from_job(store: Store, summary: ModelSummary) -> None:
    """A model trained by a retrain job has no `jirei evaluate all` run yet: its held-out figures
    are the ones the job scored it with."""
    for job in store.model_jobs(limit=50):
        figures = (job.get("figures") or {}).get("candidate") or {}
        if job["status"] == "finished" and job["candidate"] == summary.version and figures.get("held_out"):
            held = figures["held_out"]
            summary.held_out = [(label, held[part][key]) for part, key, label in JOB_HELD_OUT
                                if key in held.get(part, {})]
            summary.held_out_run = {"run_id": f"retrain job {job['job_id']}", "started_at": job["finished_at"]}
            return


def _job_view(job: dict) -> dict:
    view = dict(job)
    view["percent"] = int(100 * job["step"] / job["steps"]) if job["steps"] else 0
    view["open"] = job["status"] in ("queued", "running")
    view["elapsed"] = _seconds_since(job.get("started_at") or job["created_at"]) if view["open"] else None
    for key in ("created_at", "started_at", "finished_at", "heartbeat_at", "decided_at"):
        view[key + "_short"] = (job.get(key) or "")[:19].replace("T", " ")
    return view


def _seconds_since(stamp: str) -> int | None:
    try:
        then = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    return max(0, int((datetime.now(timezone.utc) - then).total_seconds()))


def models_view(ctx) -> Response:
    store = ctx.store
    model_jobs.check_jobs(store)
    jobs = [_job_view(j) for j in store.model_jobs(limit=15)]
    trains = [j for j in jobs if j["kind"] == "train"]
    latest = trains[0] if trains else None
    compare = model_jobs.comparison(latest["figures"]) if latest and latest["status"] == "finished" else []
    active = store.active_model()
    summary = ctx.state.models.summary(store)
    sources = store.source_counts("pillar")
    current = f"model@{summary.version}"
    labelled_by = {"current": sources.get(current, 0),
                   "older": sum(n for s, n in sources.items() if s.startswith("model@") and s != current)}
    running = any(j["open"] for j in jobs)
    return ctx.render("models.html", title="Models", jobs=jobs, latest=latest, compare=compare,
                      worse=[r for r in compare if r.worse], active=active, model=summary,
                      models_dir=str(ctx.state.models.models_dir(store)), labelled_by=labelled_by,
                      running=running, refresh=REFRESH_SECONDS if running else 0,
                      promotions=list(reversed(store.promotions()))[:10],
                      modes=model_jobs.HYPERPARAMETER_MODES, home=str(model_jobs.models_home(store.path)))


def _start(ctx, kind: str) -> Response:
    mode = ctx.form.get("hyperparameters") or "active"
    try:
        job_id = model_jobs.start_job(ctx.store.path, kind, ctx.who, default_models=ctx.state.models.default_dir,
                                      seeds=ctx.state.seeds, hyperparameters=mode)
    except (model_jobs.JobError, StoreError) as exc:
        ctx.flash(f"Not started: {exc}", "error")
        return RedirectResponse("/admin/models", status_code=303)
    what = "Retrain" if kind == "train" else "Relabel"
    ctx.flash(f"{what} started (job {job_id}).")
    return RedirectResponse("/admin/models", status_code=303)


def retrain_view(ctx) -> Response:
    return _start(ctx, "train")


def relabel_view(ctx) -> Response:
    return _start(ctx, "relabel")


def decide_view(ctx) -> Response:
    raw = ctx.request.path_params["job_id"]
    decision = {"promote": "promoted", "discard": "discarded"}.get(ctx.request.path_params["action"])
    if decision is None:
        return ctx.render("error.html", 404, title="Not found", message="Jobs can be promoted or discarded.")
    found = ctx.store.model_job(int(raw))
    if decision == "promoted" and found and found["candidate_dir"] and model_jobs.read_card(
            model_jobs.resolve_models_dir(ctx.store.path, found["candidate_dir"])) is None:
        ctx.flash(f"Nothing done: the candidate's files are gone ({found['candidate_dir']}); retrain.", "error")
        return RedirectResponse("/admin/models", status_code=303)
    try:
        job = ctx.store.decide_model_job(int(raw), decision, ctx.who)
    except StoreError as exc:
        ctx.flash(f"Nothing done: {exc}", "error")
        return RedirectResponse("/admin/models", status_code=303)
    if decision == "promoted":
        ctx.flash(f"Promoted {job['candidate']}: the app and `jirei relabel` use it from now on. Relabel the "
                  "unreviewed cases to put its labels on them.")
    else:
        ctx.flash(f"Discarded {job['candidate']}; the active model is unchanged.")
    return RedirectResponse("/admin/models", status_code=303)


def job_api(ctx) -> Response:
    """A job's state as JSON (for scripts and tests; the page itself reloads while a job runs)."""
    model_jobs.check_jobs(ctx.store)
    job = ctx.store.model_job(int(ctx.request.path_params["job_id"]))
    if job is None:
        return JSONResponse({"error": "no such job"}, status_code=404)
    keys = ("job_id", "kind", "status", "step", "steps", "progress", "error", "base_version", "candidate",
            "decision", "created_at", "started_at", "finished_at")
    return JSONResponse({k: job[k] for k in keys})
