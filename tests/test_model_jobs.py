"""The model loop of a case store (`jirei.model_jobs`): a retrain runs as a real background
process whose state lives in the store, trains exactly what `jirei train --db` trains, scores the
candidate beside the active model on the same held-out cases, and is promoted or discarded once;
`jirei relabel --db` then uses the promoted model, its changes in the history under its version.
A job whose process dies, or whose heartbeat stops, is failed with a one-line reason.

The store holds seeds 001 and 004 (rules-only entities, labelled by the committed models);
reviewers relabel seed 001 part I cases (corrections) and seed 004 cases (held out)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jirei import model_jobs
from jirei.cli import main
from jirei.store import SCHEMA_VERSION, CaseQuery, Store, StoreError
from jirei.webapp.sample_store import build_store

from conftest import seed_file

PILLARS = ("live", "work", "nurture", "interact")


def review(store: Store, case_id: str, pillar: str, who: str = "ana") -> None:
    store.set_field(case_id, "pillar", {"label": pillar, "source": "reviewer", "reviewer": who}, who,
                    source=f"reviewer:{who}")
    store.set_field(case_id, "review_status", "reviewed", who)


def reviewed_store(folder: Path, seeds_dir: Path) -> Path:
    """Seeds 001 and 004; four seed 001 part I cases given another pillar (corrections), three
    seed 004 cases reviewed (held out: they join the held-out figures, never the training)."""
    db = folder / "jirei.db"
    build_store(db, [seed_file("001", seeds_dir), seed_file("004", seeds_dir)])
    with Store(db) as store:
        cases, _ = store.query_cases(CaseQuery(order="document"))
        s001 = [c for c in cases if c["doc"].startswith("001_")]
        s004 = [c for c in cases if c["doc"].startswith("004_")]
        for c in s001[:4]:
            other = next(p for p in PILLARS if p != c["pillar"]["label"])
            review(store, c["case_id"], other)
        for c in s004[:3]:
            review(store, c["case_id"], c["pillar"]["label"])
    return db


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    return reviewed_store(tmp_path_factory.mktemp("model-jobs"), seeds_dir)


@pytest.fixture()
def db(template_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    return copy


def wait_for(db: Path, job_id: int, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    seen = set()
    while True:
        with Store(db, create=False) as store:
            model_jobs.check_jobs(store)
            job = store.model_job(job_id)
        seen.add((job["status"], job["step"]))
        if job["status"] in ("finished", "failed"):
            job["seen"] = seen
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {timeout} s"
        time.sleep(0.5)


def test_migration_5_model_tables_and_append_only_promotions(db: Path):
    with Store(db) as store:
        assert SCHEMA_VERSION >= 5 and store.schema_version() == SCHEMA_VERSION
        assert store.active_model() is None and store.model_jobs() == []
        store.promote_model("chiiki_kyoso-00000000", "/nowhere/a", "ana")
        store.promote_model("chiiki_kyoso-11111111", "/nowhere/b", "ben")
        active = store.active_model()
        assert (active["version"], active["models_dir"], active["who"], active["previous"]) == \
               ("chiiki_kyoso-11111111", "/nowhere/b", "ben", "chiiki_kyoso-00000000")
        for sql in ("UPDATE model_promotions SET version = 'x'", "DELETE FROM model_promotions"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                store.conn.execute(sql)
        assert len(store.promotions()) == 2


def test_retrain_job_trains_what_jirei_train_does_and_promotion_reaches_relabel(db: Path, seeds_dir: Path,
                                                                               tmp_path: Path, capsys):
    job_id = model_jobs.start_job(db, "train", "ana", seeds=seeds_dir, hyperparameters="defaults")
    with Store(db) as store:
        with pytest.raises(model_jobs.JobError, match=f"job {job_id} .* still running"):
            model_jobs.start_job(db, "train", "ben", seeds=seeds_dir, hyperparameters="defaults")
        first = store.model_job(job_id)
    assert first["status"] in ("queued", "running") and first["pid"] and first["steps"] == len(model_jobs.TRAIN_STEPS)
    job = wait_for(db, job_id)
    assert job["status"] == "finished", job["error"]
    assert any(status == "running" and 0 < step < job["steps"] for status, step in job["seen"]), job["seen"]

    # the candidate sits beside the store, one folder per version, never in the package
    home = model_jobs.models_home(db)
    assert home == db.parent / "jirei.db.models"
    assert job["candidate_dir"] == f"jirei.db.models/{job['candidate']}"  # relative: store and models move together
    target = model_jobs.resolve_models_dir(db, job["candidate_dir"])
    assert target == home / job["candidate"] and (target / "model_card.json").is_file()
    assert not list(home.glob(".job-*"))
    card = json.loads((target / "model_card.json").read_text(encoding="utf-8"))
    assert card["training_data"]["corrections"] == 4 and card["training_data"]["store"]["held_out_reviewed"] == 3

    # the same training as `jirei train --db … --no-search`: the same version, byte-identical files
    cli_models = tmp_path / "cli-models"
    assert main(["train", "--db", str(db), "--models", str(cli_models), "--no-search", "--seeds", str(seeds_dir)]) == 0
    capsys.readouterr()
    cli_card = json.loads((cli_models / "model_card.json").read_text(encoding="utf-8"))
    assert cli_card["model_version"] == job["candidate"]
    assert cli_card["file_sha256"] == card["file_sha256"]

    # figures: both models on the same held-out cases (seed gold and the store's held-out reviewed cases)
    fig = job["figures"]
    assert fig["base"]["version"] == job["base_version"] != job["candidate"]
    for side in ("base", "candidate"):
        assert set(fig[side]["held_out"]) == {"all"}  # seed 004's reviewed cases are seed gold already
        assert fig[side]["held_out"]["all"]["cases"] == 106
        assert 0 < fig[side]["held_out"]["all"]["pillar_accuracy"] <= 1
    assert fig["candidate"]["cv"] == card["cv"]
    rows = model_jobs.comparison(fig)
    assert {r.group for r in rows} == {"cross-validation", "held-out: seed gold (106 cases)"}
    ece = next(r for r in rows if r.group.startswith("held-out") and r.label == "pillar ECE")
    assert ece.worse == (ece.candidate > ece.base + model_jobs.TOLERANCE)
    assert [r.label for r in model_jobs.regressions(fig)] == [r.label for r in rows if r.worse]

    # promote: the store's active model; promoting again is refused
    with Store(db) as store:
        decided = store.decide_model_job(job_id, "promoted", "ana")
        assert decided["decision"] == "promoted" and decided["decided_by"] == "ana"
        assert store.active_model()["version"] == job["candidate"]
        assert model_jobs.active_models_dir(store) == target
        with pytest.raises(StoreError, match="already promoted by ana"):
            store.decide_model_job(job_id, "discarded", "ben")

    # `jirei relabel --db` without --models uses the promoted model; reviewers' pillars stay
    assert main(["relabel", "--db", str(db)]) == 0
    assert f"with model {job['candidate']}" in capsys.readouterr().out
    with Store(db) as store:
        cases, _ = store.query_cases(CaseQuery(order="document"))
        sources = [c["sources"]["pillar"][0] for c in cases]
        assert set(sources) <= {f"model@{job['candidate']}", "reviewer:ana"} and sources.count("reviewer:ana") == 7
        changed = [h for c in cases for h in store.history(c["case_id"])
                   if h["field"] == "pillar" and h["model_version"] == job["candidate"]]
        assert len(changed) == sources.count(f"model@{job['candidate']}")
        assert all(h["who"] == f"model@{job['candidate']}" for h in changed)
    # a batch after the promotion labels new documents with the promoted model too
    report = tmp_path / "sample_casebook.md"
    shutil.copy(model_jobs.paths.samples_dir() / "sample_casebook.md", report)
    assert main(["batch", str(report), "--db", str(db), "--workers", "1", "-q"]) == 0
    capsys.readouterr()
    with Store(db) as store:
        new = [c for c in store.query_cases(CaseQuery(order="document"))[0] if c["doc"] == report.name]
    assert len(new) == 3 and all(c["sources"]["pillar"] == [f"model@{job['candidate']}"] for c in new)
    # with --models, that folder wins
    assert main(["relabel", "--db", str(db), "--models", str(model_jobs.paths.MODELS)]) == 0
    assert "with model chiiki_kyoso-" in capsys.readouterr().out


def test_relabel_job_uses_the_active_model(db: Path, tmp_path: Path):
    from jirei.classify.predict import CaseClassifier

    base = CaseClassifier.load(model_jobs.paths.MODELS)
    with Store(db) as store:
        store.promote_model(base.version, str(model_jobs.paths.MODELS), "ana")
        total = store.case_count()
    job_id = model_jobs.start_job(db, "relabel", "ana")
    job = wait_for(db, job_id, timeout=300)
    assert job["status"] == "finished", job["error"]
    assert job["candidate"] == base.version and job["steps"] == total
    assert job["figures"]["relabel"]["cases"] == total


def test_a_job_whose_process_dies_is_failed_with_a_reason(db: Path, seeds_dir: Path):
    job_id = model_jobs.start_job(db, "train", "ana", seeds=seeds_dir, hyperparameters="defaults")
    with Store(db) as store:
        pid = store.model_job(job_id)["pid"]
    os.kill(pid, signal.SIGKILL)
    job = wait_for(db, job_id, timeout=60)
    assert job["status"] == "failed"
    assert "\n" not in job["error"] and ("killed by signal 9" in job["error"] or "is gone" in job["error"])
    with Store(db) as store:
        assert store.active_model() is None
        with pytest.raises(StoreError, match="no candidate"):
            store.decide_model_job(job_id, "promoted", "ana")
    # the next retrain may start
    again = model_jobs.start_job(db, "train", "ana", seeds=seeds_dir, hyperparameters="defaults")
    with Store(db) as store:
        os.kill(store.model_job(again)["pid"], signal.SIGKILL)
    assert wait_for(db, again, timeout=60)["status"] == "failed"


def test_a_job_started_by_another_process_is_seen_and_failed_when_its_process_dies(db: Path, seeds_dir: Path):
    """The process that started the job exits at once (as a CLI would); this process sees the
    job run, and fails it when its process is gone (no one was left to reap it)."""
    import subprocess
    import sys

    code = ("import sys; from jirei import model_jobs; "
            "print(model_jobs.start_job(sys.argv[1], 'train', 'ben', seeds=sys.argv[2], hyperparameters='defaults'))")
    done = subprocess.run([sys.executable, "-c", code, str(db), str(seeds_dir)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    job_id = int(done.stdout.strip())
    deadline = time.monotonic() + 60
    while True:
        with Store(db) as store:
            job = store.model_job(job_id)
        if job["status"] == "running" and job["step"] >= 1:
            break
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["requested_by"] == "ben" and job["pid"]
    os.kill(job["pid"], signal.SIGKILL)
    job = wait_for(db, job_id, timeout=60)
    assert job["status"] == "failed" and f"the job's process (pid {job['pid']}) is gone" in job["error"]
    assert "\n" not in job["error"]


def test_a_silent_job_is_failed_once_its_heartbeat_is_old(db: Path):
    with Store(db) as store:
        job_id = store.create_model_job("train", "ana", {}, None, 6)
        store.model_job_started(job_id, 0, "another-machine")  # a process this machine cannot check
        assert model_jobs.check_jobs(store) == []  # fresh heartbeat: left alone
        later = datetime.now(timezone.utc) + timedelta(seconds=model_jobs.STALE_SECONDS + 5)
        assert model_jobs.check_jobs(store, now=later) == [job_id]
        job = store.model_job(job_id)
    assert job["status"] == "failed" and "no sign of life" in job["error"] and "another-machine" in job["error"]


def test_a_job_that_fails_says_why_in_one_line(db: Path, tmp_path: Path):
    with pytest.raises(model_jobs.JobError, match="seeds folder not found"):
        model_jobs.start_job(db, "train", "ana", seeds=tmp_path / "no-seeds")
    # the models folder beside the store cannot be made: refused in one line, the job failed with it
    blocker = model_jobs.models_home(db)
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(model_jobs.JobError, match="cannot write the models folder"):
        model_jobs.start_job(db, "relabel", "ana")
    with Store(db) as store:
        failed = store.model_jobs()[0]
    assert failed["status"] == "failed" and "jirei.db.models: cannot write the models folder" in failed["error"]
    blocker.unlink()
    # the active model's folder lost its files: the relabel job fails with the reason
    broken = tmp_path / "broken"
    shutil.copytree(model_jobs.paths.MODELS, broken)
    with Store(db) as store:
        store.promote_model("chiiki_kyoso-broken", str(broken), "ana")
    (broken / "pillar.skops").unlink()
    job = wait_for(db, model_jobs.start_job(db, "relabel", "ana"), timeout=120)
    assert job["status"] == "failed" and "pillar.skops" in job["error"] and "\n" not in job["error"]


def test_discard_keeps_the_active_model(db: Path):
    with Store(db) as store:
        job_id = store.create_model_job("train", "ana", {}, None, 6)
        store.model_job_started(job_id, os.getpid(), "here")
        store.finish_model_job(job_id, "chiiki_kyoso-cafecafe", "/nowhere", {}, None)
        job = store.decide_model_job(job_id, "discarded", "ben")
        assert job["decision"] == "discarded" and store.active_model() is None
        with pytest.raises(StoreError, match="already discarded by ben"):
            store.decide_model_job(job_id, "promoted", "ana")


def test_a_retrain_with_nothing_new_reproduces_the_active_model_byte_for_byte(tmp_path: Path, seeds_dir: Path):
    """No corrections in the store and the active model's hyperparameters: the candidate is the
    committed model itself (same version, same files), and no figure changes."""
    from jirei.classify.model import blas_kernel

    committed = json.loads((model_jobs.paths.MODELS / "model_card.json").read_text(encoding="utf-8"))
    if committed["libraries"].get("blas") != blas_kernel():
        pytest.skip(f"the committed models were fitted under {committed['libraries'].get('blas')}, this machine "
                    f"runs {blas_kernel()} (OPENBLAS_CORETYPE)")
    db = tmp_path / "jirei.db"
    build_store(db, [seed_file("004", seeds_dir)])
    job = wait_for(db, model_jobs.start_job(db, "train", "ana", seeds=seeds_dir, hyperparameters="active"))
    assert job["status"] == "finished", job["error"]
    assert job["candidate"] == job["base_version"] == committed["model_version"]
    card = json.loads((model_jobs.resolve_models_dir(db, job["candidate_dir"]) / "model_card.json")
                      .read_text(encoding="utf-8"))
    assert card["file_sha256"] == committed["file_sha256"]
    assert card["training_data"]["corrections"] == 0
    rows = model_jobs.comparison(job["figures"])
    assert rows and all(r.delta == 0 for r in rows if r.group.startswith("held-out"))
    assert model_jobs.regressions(job["figures"]) == []
