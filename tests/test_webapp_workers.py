"""More than one server process over one store (`jirei serve --workers N`): the processes share
the login session, its CSRF key and messages, and the case data through the store and the key
file beside it. Real processes on loopback, a real store of the seed reports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from jirei.webapp.server_thread import free_port

from test_webapp import USERS, case_form, csrf, first_case, make_review_store, other_pillar, stored

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REPO = Path(__file__).resolve().parents[1]
REVIEWED = r"reviewed <strong>(\d+)</strong>"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    return make_review_store(tmp_path_factory.mktemp("workers-store"), seeds_dir)


@pytest.fixture()
def db(template_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    return copy


@contextmanager
def server(db: Path, *extra: str):
    """`jirei serve` in its own process (and process group) on a free loopback port."""
    with server_process(db, *extra) as (base, _):
        yield base


@contextmanager
def server_process(db: Path, *extra: str, preexec_fn=None):
    """As `server`, yielding the address and the process; `preexec_fn` runs in the process
    before it starts."""
    port = free_port()
    log = db.parent / f"serve-{port}.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "jirei.cli", "serve", "--db", str(db), "--port", str(port),
                                 "--log-level", "warning", *extra], stdout=fh, stderr=subprocess.STDOUT,
                                cwd=str(REPO), start_new_session=True, preexec_fn=preexec_fn)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own group: its workers with it
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    text = log.read_text()
    assert "Traceback" not in text and "database is locked" not in text, text


def login(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": USERS[name][1], "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def test_two_processes_serve_one_login_session_and_see_each_others_saves(db: Path):
    """Logged in on one process, the same cookie works on the other; the review form read from
    one is saved through the other (its CSRF token checks there: one key), and the first shows
    the save, its message and its count at once."""
    record = first_case(db)
    case_id = record["case_id"]
    with server(db) as first, server(db) as second:
        ana = login(first, "ben")
        other = httpx.Client(base_url=second, follow_redirects=False, timeout=30, cookies=ana.cookies)
        queue = other.get("/queue")
        assert queue.status_code == 200 and "ben" in queue.text  # the session of the first process
        reviewed_before = int(re.search(REVIEWED, ana.get("/queue").text).group(1))
        html = ana.get(f"/case/{case_id}").text
        new_pillar = other_pillar(record["pillar"]["label"])
        response = other.post(f"/case/{case_id}/save", data=case_form(record, html, pillar=new_pillar, theme=""))
        assert response.status_code == 303, response.text
        case, history = stored(db, case_id)
        assert case["pillar"]["label"] == new_pillar and case["pillar"]["reviewer"] == "ben"
        assert [h["field"] for h in history if h["who"] == "ben"].count("pillar") == 1
        page = ana.get(f"/case/{case_id}").text  # the first process: the save, and the second's message
        assert re.search(rf'value="{new_pillar}" data-key="\d" checked', page)
        assert f"Saved {case_id}" in page
        queue = ana.get("/queue").text
        assert int(re.search(REVIEWED, queue).group(1)) == reviewed_before + 1
        # a stale form sent to the other process is refused with the conflict, not written over
        stale = case_form(record, html, pillar=other_pillar(new_pillar), theme="")
        assert other.post(f"/case/{case_id}/save", data=stale).status_code == 409
        assert stored(db, case_id)[0]["pillar"]["label"] == new_pillar


def test_serve_with_two_workers_logs_in_saves_and_reads(db: Path):
    """`--workers 2`: each request on a fresh connection (the kernel hands connections to either
    worker), one session throughout: the page, the save and the reads after it all agree."""
    record = first_case(db)
    with server(db, "--workers", "2") as base:
        cookies = login(base, "ben").cookies

        def fresh(method: str, url: str, **kw) -> httpx.Response:
            return httpx.request(method, base + url, cookies=cookies, timeout=30, follow_redirects=False, **kw)

        html = fresh("GET", f"/case/{record['case_id']}").text
        new_pillar = other_pillar(record["pillar"]["label"])
        response = fresh("POST", f"/case/{record['case_id']}/save",
                         data=case_form(record, html, pillar=new_pillar, theme=""))
        assert response.status_code == 303, response.text
        pages = [fresh("GET", f"/case/{record['case_id']}").text for _ in range(8)]
        assert all(re.search(rf'value="{new_pillar}" data-key="\d" checked', page) for page in pages)
        assert sum(f"Saved {record['case_id']}" in page for page in pages) == 1  # the message shown once
    assert stored(db, record["case_id"])[0]["pillar"]["label"] == new_pillar
