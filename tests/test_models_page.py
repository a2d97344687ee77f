"""The reviewer app's Models page: in process (Starlette's test client) for who may use it, and
end to end in real Chromium (Debian's /usr/bin/chromium via Playwright) over uvicorn: an admin
starts a retrain, watches its progress, reads the candidate's figures beside the active model's
(worse ones marked), promotes it, relabels, and the dashboard and a case page show the new
model version, all without restarting the server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

import pytest

from jirei import model_jobs, paths
from jirei.classify.predict import CaseClassifier
from jirei.store import CaseQuery, Store
from jirei.webapp import create_app
from jirei.webapp.sample_store import add_users
from jirei.webapp.server_thread import serving

from test_model_jobs import reviewed_store
from test_webapp import SECRET, USERS, client_for, csrf

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    db = reviewed_store(tmp_path_factory.mktemp("models-page"), seeds_dir)
    add_users(db, USERS)
    return db


@pytest.fixture()
def db(template_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    return copy


def test_the_models_page_is_for_admins_and_posts_need_the_csrf_token(db: Path, seeds_dir: Path):
    app = create_app(db, secret_key=SECRET, seeds_dir=seeds_dir)
    reviewer = client_for(app, "ben")
    assert reviewer.get("/admin/models").status_code == 403
    page = reviewer.get("/queue").text
    assert reviewer.post("/admin/models/retrain", data={"csrf_token": csrf(page)}).status_code == 403
    admin = client_for(app, "ana")
    html = admin.get("/admin/models").text
    version = CaseClassifier.load(paths.MODELS).version
    assert f'<code id="active-version">{version}</code>' in html and "No jobs yet." in html
    assert admin.post("/admin/models/retrain", data={}).status_code == 403  # no CSRF token
    token = csrf(html)
    assert admin.post("/admin/models/jobs/1/explode", data={"csrf_token": token}).status_code == 404
    answer = admin.post("/admin/models/jobs/99/promote", data={"csrf_token": token})
    assert answer.status_code == 303
    assert "Nothing done" in (shown := admin.get("/admin/models").text) and "no model job 99" in shown
    with Store(db) as store:
        assert store.model_jobs() == [] and store.active_model() is None
        # a finished job whose candidate folder was removed since: promotion refused, nothing changes
        job_id = store.create_model_job("train", "ana", {}, version, 6)
        store.model_job_started(job_id, 0, "elsewhere")
        store.finish_model_job(job_id, "chiiki_kyoso-0ddba11", "jirei.db.models/chiiki_kyoso-0ddba11", {}, None)
    assert admin.post(f"/admin/models/jobs/{job_id}/promote", data={"csrf_token": token}).status_code == 303
    shown = admin.get("/admin/models").text
    assert "the candidate&#39;s files are gone" in shown and f'<code id="active-version">{version}</code>' in shown
    with Store(db) as store:
        assert store.active_model() is None and store.model_job(job_id)["decision"] is None
        # a running job (this live process stands in for its process): its step, and the page reloads itself
        running = store.create_model_job("train", "ana", {"hyperparameters": "active"}, version, 6)
        store.model_job_started(running, os.getpid(), socket.gethostname())
        store.model_job_progress(running, 3, "training (cross-validation) on 142 rows")
    state = admin.get(f"/api/models/jobs/{running}").json()
    assert (state["status"], state["step"], state["steps"], state["kind"]) == ("running", 3, 6, "train")
    assert admin.get("/api/models/jobs/999").status_code == 404
    assert reviewer.get(f"/api/models/jobs/{running}").status_code == 403
    shown = admin.get("/admin/models").text
    assert "step 3 / 6: training (cross-validation) on 142 rows" in shown
    assert '<meta http-equiv="refresh" content="2">' in shown and 'id="retrain-button" disabled' in shown
    with Store(db) as store:
        store.fail_model_job(running, "MemoryError: out of memory\nsecond line")
    shown = admin.get("/admin/models").text
    assert 'id="job-error">Failed: MemoryError: out of memory second line</p>' in shown
    assert "http-equiv" not in shown and 'id="retrain-button" disabled' not in shown


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)")
def test_retrain_progress_compare_promote_and_relabel_without_a_restart(db: Path, seeds_dir: Path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")
    base_version = CaseClassifier.load(paths.MODELS).version
    with Store(db) as store:
        unreviewed = store.query_cases(CaseQuery(reviewed=False, order="document", limit=1))[0][0]["case_id"]
    with serving(create_app(db, secret_key=SECRET, seeds_dir=seeds_dir)) as base_url, \
            sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP").new_page()
        page.set_default_timeout(15000)
        page.goto(f"{base_url}/login")
        page.fill("input[name=name]", "ana")
        page.fill("input[name=password]", USERS["ana"][1])
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{base_url}/queue")

        page.click("header nav >> text=Models")
        page.wait_for_url(f"{base_url}/admin/models")
        assert page.inner_text("#active-version") == base_version
        page.select_option("#hyperparameters", "defaults")
        page.click("#retrain-button")
        page.wait_for_url(f"{base_url}/admin/models")
        assert "Retrain started" in page.inner_text(".flash")
        assert page.is_disabled("#retrain-button")

        # progress: the page reloads itself while the job runs, each time with its step
        steps = set()
        deadline = time.monotonic() + 600
        while page.locator("#compare").count() == 0:
            assert time.monotonic() < deadline, "the retrain did not finish"
            shown = page.inner_text("#latest-job")  # one reading: the page reloads itself meanwhile
            if "finished" not in shown:
                assert re.search(r"\b(queued|running)\b", shown), shown
                step = re.search(r"step (\d+) / 6: .+\s+running for \d+ s", shown)
                if step:
                    steps.add(step.group(1))
            page.wait_for_timeout(500)
        assert len(steps) >= 2, steps  # seen moving
        assert page.inner_text("#job-status") == "finished"
        candidate = page.inner_text("#candidate-version")
        assert candidate != base_version

        # figures beside the current model's; every worse one marked, and counted above the table
        table = page.locator("#compare tr").all()
        header = table[0].inner_text()
        assert base_version in header and candidate in header
        worse = page.locator("#compare tr.worse")
        with Store(db) as store:
            job = store.model_jobs()[0]
        expected = model_jobs.regressions(job["figures"])
        assert worse.count() == len(expected)
        labels = [r.label for r in model_jobs.comparison(job["figures"])]
        assert "pillar accuracy" in labels and "items top-1" in labels and "pillar ECE" in labels
        assert len(table) - 1 == len(labels)
        for i in range(worse.count()):
            assert "worse" in worse.nth(i).inner_text()
        banner = page.inner_text("#regressions")
        assert (f"{len(expected)} figure" in banner) if expected else ("No figure is worse" in banner)

        # promote: the same server shows the candidate as the active model at once
        page.click("#promote-button")
        page.wait_for_url(f"{base_url}/admin/models")
        assert "Promoted" in page.inner_text(".flash")
        assert page.inner_text("#active-version") == candidate
        assert page.inner_text("#job-decision").startswith("promoted by ana")
        page.goto(f"{base_url}/dashboard")
        assert candidate in page.inner_text("#model")
        # its held-out figures are the job's until `jirei evaluate all` runs it
        accuracy = job["figures"]["candidate"]["held_out"]["all"]["pillar_accuracy"]
        assert f"pillar accuracy\t{accuracy:.3f}" in page.inner_text("#held-out")
        assert f"retrain job {job['job_id']}" in page.inner_text("#model")

        # relabel with the active model, as a job; the case page then shows the new version
        page.goto(f"{base_url}/case/{unreviewed}")
        assert base_version in page.inner_text("h2:has-text('Model')")
        page.goto(f"{base_url}/admin/models")
        page.click("#relabel-button")
        page.wait_for_url(f"{base_url}/admin/models")
        deadline = time.monotonic() + 300
        while "finished" not in page.locator("#jobs tr").nth(1).inner_text():
            assert time.monotonic() < deadline, "the relabel did not finish"
            assert "failed" not in page.locator("#jobs tr").nth(1).inner_text()
            page.wait_for_timeout(500)
            page.reload()
        assert "relabel" in page.locator("#jobs tr").nth(1).inner_text()
        page.goto(f"{base_url}/case/{unreviewed}")
        assert candidate in page.inner_text("h2:has-text('Model')")
        assert f"model@{candidate}" in page.inner_text("#history")
        browser.close()
    with Store(db) as store:
        assert store.active_model()["version"] == candidate
        history = store.history(unreviewed)
        assert any(h["model_version"] == candidate and h["who"] == f"model@{candidate}" for h in history)
