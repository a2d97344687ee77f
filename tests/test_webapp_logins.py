"""Failed logins are counted in the case store: every server process over one store counts the
same tries (`jirei serve --workers N`, or two `jirei serve` over one file), a restart forgets
none, a login that succeeds clears its name's count from its address (not the address's guesses
at other names), tries sent at once never get past the limit together, and a store of schema 8
gains the table with its data kept; a login on a store that cannot be written is refused in one
line, and the server goes on; in Chromium, the login page says why it waits. Real stores of a seed report, real server processes on
loopback, Starlette's test client for the in-process apps."""

from __future__ import annotations

import re
import resource
import shutil
import signal
import threading
import time
import warnings
from pathlib import Path

import httpx
import pytest

from jirei.store import Store
from jirei.webapp import create_app
from jirei.webapp.auth import LoginThrottle
from jirei.webapp.sample_store import add_users, build_store
from jirei.webapp.server_thread import serving

from conftest import seed_file
from test_webapp import SECRET, USERS, csrf
from test_webapp_browser import CHROMIUM, browser  # noqa: F401 (the module's Chromium fixture)
from test_webapp_workers import server, server_process

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx 0.28 works
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
WRONG = "Wrong name or password"
TOO_MANY = "Too many failed logins"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    db = tmp_path_factory.mktemp("logins-store") / "jirei.db"
    build_store(db, [seed_file("004", seeds_dir)])
    add_users(db, USERS)
    return db


@pytest.fixture()
def db(template_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    return copy


def client(app, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 40000))


def try_login(client, name: str, password: str) -> int:
    """One login through the form (with the CSRF token of the login page); the status code."""
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    if response.status_code == 401:
        assert WRONG in response.text
    if response.status_code == 429:
        assert TOO_MANY in response.text
    return response.status_code


def stored_failures(db: Path) -> list[tuple[str, str]]:
    with Store(db, create=False) as store:
        return [(r["name"], r["address"]) for r in
                store.conn.execute("SELECT name, address FROM login_failures ORDER BY id")]


def test_two_apps_over_one_store_count_the_same_failures_and_a_reopened_store_keeps_them(db: Path):
    """Two apps over one file, as two worker processes have: guesses through either count
    against the one limit, the other answers 429; an app made afresh over the file (a restart)
    still refuses, and so does the name in another letter case; the owner elsewhere logs in."""
    first, second = create_app(db, secret_key=SECRET), create_app(db, secret_key=SECRET)
    one, two = client(first, "192.0.2.7"), client(second, "192.0.2.7")
    codes = [try_login(one if i % 2 else two, "ben", f"guess-{i}") for i in range(5)]
    assert codes == [401] * 5
    assert try_login(one, "ben", "guess-5") == 429 and try_login(two, "ben", "guess-6") == 429
    assert try_login(two, "ben", USERS["ben"][1]) == 429  # the right password waits too
    assert stored_failures(db) == [("ben", "192.0.2.7")] * 5
    restarted = client(create_app(db, secret_key=SECRET), "192.0.2.7")
    assert try_login(restarted, "ben", "guess-7") == 429
    assert try_login(restarted, "BEN", "guess-8") == 429
    # another name from the same address, and the same name from another address, go on
    assert try_login(restarted, "cy", USERS["cy"][1]) == 303
    assert try_login(client(create_app(db, secret_key=SECRET), "198.51.100.3"), "ben", USERS["ben"][1]) == 303
    assert stored_failures(db) == [("ben", "192.0.2.7")] * 5


def test_a_login_clears_its_names_count_but_not_the_addresss_guesses_at_other_names(db: Path):
    app = create_app(db, secret_key=SECRET)
    guesser = client(app, "203.0.113.9")
    assert [try_login(guesser, "ben", f"guess-{i}") for i in range(4)] == [401] * 4
    assert [try_login(guesser, f"user{i}", "Password1") for i in range(12)] == [401] * 12
    assert try_login(guesser, "ben", USERS["ben"][1]) == 303
    assert ("ben", "203.0.113.9") not in stored_failures(db)
    assert len(stored_failures(db)) == 12
    # ben's count starts again: five more wrong passwords before a wait
    fresh = client(app, "203.0.113.9")
    assert [try_login(fresh, "ben", f"again-{i}") for i in range(6)] == [401] * 5 + [429]
    # the address has 17 guesses left standing: three more reach 20, whatever the names
    assert [try_login(fresh, f"other{i}", "Password1") for i in range(4)] == [401] * 3 + [429]
    late = fresh.post("/login", data={"name": "ana", "password": USERS["ana"][1],
                                      "csrf_token": csrf(fresh.get("/login").text)})
    assert late.status_code == 429 and "from your address" in late.text


def test_the_window_passes_and_the_counts_in_the_store_stay_small(db: Path):
    """The throttle over a real store with a short window: the pair waits, then may try again
    once its failures are older than the window; each write deletes failures older than it."""
    throttle = LoginThrottle(limit=2, window=1.0, address_limit=3)
    with Store(db, create=False) as store:
        assert throttle.attempt(store, "ben", "192.0.2.1") == (0, "")
        assert throttle.attempt(store, "Ben", "192.0.2.1") == (0, "")
        wait, why = throttle.attempt(store, "ben", "192.0.2.1")
        assert why == "name" and wait == 1 and throttle.wait_seconds(store, "ben", "192.0.2.1") == (1, "name")
        assert throttle.attempt(store, "cy", "192.0.2.1") == (0, "")
        assert throttle.attempt(store, "ana", "192.0.2.1")[1] == "address"
        assert throttle.attempt(store, "ana", "192.0.2.2") == (0, "")  # another address
        time.sleep(1.5)
        assert throttle.wait_seconds(store, "ben", "192.0.2.1") == (0, "")
        assert throttle.attempt(store, "ben", "192.0.2.1") == (0, "")
        rows = store.conn.execute("SELECT name, address FROM login_failures").fetchall()
        assert [tuple(r) for r in rows] == [("ben", "192.0.2.1")]  # the older ones were deleted
        throttle.succeeded(store, "BEN", "192.0.2.1")
        assert store.conn.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 0
        # a name longer than any user's is counted by its first 64 characters, not kept whole
        assert throttle.attempt(store, "X" * 100_000, "192.0.2.1") == (0, "")
        assert throttle.attempt(store, "x" * 64 + "y", "192.0.2.1") == (0, "")
        assert throttle.attempt(store, "x" * 64 + "z", "192.0.2.1") == (1, "name")
        assert [r[0] for r in store.conn.execute("SELECT name FROM login_failures")] == ["x" * 64] * 2


def test_two_server_processes_share_the_count_and_a_restart_keeps_it(db: Path):
    """Two `jirei serve` processes over one store (as `--workers 2` runs): wrong passwords sent
    to both in turn are five in all, then both answer 429; tries sent at once to both never get
    past the limit together; after both stop, a new server still refuses the guesser."""
    with server(db) as first, server(db) as second:
        clients = [httpx.Client(base_url=base, follow_redirects=False, timeout=30) for base in (first, second)]
        codes = [try_login(clients[i % 2], "ben", f"guess-{i}") for i in range(7)]
        assert codes == [401] * 5 + [429] * 2
        # twelve tries at another name, six to each process at the same moment: five are let through
        tokens = [csrf(c.get("/login").text) for c in clients]
        start, codes = threading.Barrier(12), []

        def guess(i: int) -> None:
            c = httpx.Client(base_url=(first, second)[i % 2], cookies=clients[i % 2].cookies, timeout=60)
            start.wait()
            codes.append(c.post("/login", data={"name": "cy", "password": f"guess-{i}",
                                                "csrf_token": tokens[i % 2]}).status_code)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [401] * 5 + [429] * 7
    assert sorted(stored_failures(db)) == [("ben", "127.0.0.1")] * 5 + [("cy", "127.0.0.1")] * 5
    with server(db) as restarted:
        again = httpx.Client(base_url=restarted, follow_redirects=False, timeout=30)
        assert try_login(again, "ben", USERS["ben"][1]) == 429
        assert try_login(again, "ana", USERS["ana"][1]) == 303  # 10 of 20 for the address: others go on


def test_serve_with_two_workers_counts_once_whichever_worker_answers(db: Path):
    """`--workers 2`, every try on a fresh connection (the kernel hands each to either worker):
    five wrong passwords, then every try waits."""
    with server(db, "--workers", "2") as base:
        def fresh_try(password: str) -> int:
            with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
                return try_login(c, "ben", password)

        assert [fresh_try(f"guess-{i}") for i in range(12)] == [401] * 5 + [429] * 7


def test_a_store_of_schema_8_gains_the_failed_logins_and_keeps_its_data(tmp_path: Path, seeds_dir: Path, monkeypatch):
    import jirei.store as store_module

    db = tmp_path / "v8.db"
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 8)
    build_store(db, [seed_file("004", seeds_dir)])
    add_users(db, {"ben": USERS["ben"]})
    with Store(db) as old:
        assert old.schema_version() == 8
        assert not old.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'login_failures'").fetchone()
        old.start_session("ab" * 32, "ben", "127.0.0.1", "2999-01-01T00:00:00.000+00:00", purge_before="")
        cases = old.case_count()
        case_id = old.iter_case_ids()[0]
        history = old.history(case_id)
    monkeypatch.undo()
    with Store(db) as new:
        assert new.schema_version() == store_module.SCHEMA_VERSION == 9
        assert new.case_count() == cases and new.history(case_id) == history
        assert new.user("ben")["role"] == "reviewer" and new.session("ab" * 32)["user"] == "ben"
        indexes = {r[0] for r in new.conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'login_failures' "
                                                  "AND type = 'index'")}
        assert {"login_failures_address", "login_failures_at"} <= indexes
        plan = " ".join(r[3] for r in new.conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*), min(at) FROM login_failures WHERE address = ? AND name = ? "
            "AND at >= ?", ("a", "b", "c")))
        assert "login_failures_address" in plan
    app = create_app(db, secret_key=SECRET)
    assert try_login(client(app, "192.0.2.7"), "ben", "wrong-password") == 401
    assert try_login(client(app, "192.0.2.7"), "ben", USERS["ben"][1]) == 303
    assert stored_failures(db) == []


def _ignore_file_size_signal() -> None:
    # writes past the file size limit then fail with EFBIG, as on a full disk, instead of killing the server
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_login_on_a_store_that_cannot_be_written_is_refused_in_one_line(db: Path):
    """A login writes (its try, its session): when no file of the server may grow (a full disk,
    by the file size limit), the login page says so in one line with 503, no traceback, and a
    login goes through once the disk has room again."""
    with server_process(db, preexec_fn=_ignore_file_size_signal) as (base, proc):
        c = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        token = csrf(c.get("/login").text)
        with Store(db, create=False) as store:  # the WAL emptied: the next commit must grow it
            assert tuple(store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())[0] == 0
        assert Path(f"{db}-wal").stat().st_size == 0
        before = resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (0, resource.prlimit(proc.pid,
                                                                             resource.RLIMIT_FSIZE)[1]))
        try:
            for password in ("guess-1", USERS["ben"][1]):
                refused = c.post("/login", data={"name": "ben", "password": password, "csrf_token": token})
                assert refused.status_code == 503
                message = re.search(r'role="alert">([^<]*)<', refused.text)
                assert message, refused.text
                assert "No login now: the case store cannot be written (cannot write:" in message.group(1)
                assert str(db) not in refused.text and "Traceback" not in refused.text
        finally:
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, before)  # room again
        assert try_login(c, "ben", USERS["ben"][1]) == 303
    assert stored_failures(db) == []


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)")
def test_chromium_shows_the_wait_after_failures_through_two_servers(browser, db: Path):
    """Two servers over one store; a browser fails three times on one and twice on the other,
    then the login page of either says it must wait, with the right password too."""
    with serving(create_app(db, secret_key=SECRET)) as first, serving(create_app(db, secret_key=SECRET)) as second:
        context = browser.new_context(locale="ja-JP")
        page = context.new_page()
        page.set_default_timeout(15000)

        def log_in(base: str, password: str) -> str:
            page.goto(f"{base}/login")
            page.fill("input[name=name]", "ben")
            page.fill("input[name=password]", password)
            page.press("input[name=password]", "Enter")
            page.wait_for_load_state()
            return page.locator("[role=alert]").inner_text()

        for i, base in enumerate([first, first, first, second, second]):
            assert WRONG in log_in(base, f"guess-{i}")
        for base in (first, second):
            alert = log_in(base, USERS["ben"][1])
            assert TOO_MANY in alert and "for this name from your address" in alert
            assert re.search(r"wait \d+ s", alert) and page.url == f"{base}/login"
        context.close()
