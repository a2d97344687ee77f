"""The reviewer queue's reads on a real store of copied seed reports (so that margins tie across
copies, as they do on a large store): the previous and next case of every case agree with the
queue's own order under each filter, and the queries read along an index without sorting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jirei.store import CaseQuery, Store
from jirei.webapp.sample_store import build_store

from conftest import seed_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    db = tmp_path_factory.mktemp("queue-store") / "jirei.db"
    build_store(db, [seed_file("001", seeds_dir), seed_file("004", seeds_dir)], copies=3)
    return db


@pytest.fixture()
def store(template_db: Path, tmp_path: Path):
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    with Store(copy) as s:
        yield s


def _review(store: Store, case_ids: list[str]) -> None:
    for case_id in case_ids:
        version = store.case(case_id)["version"]
        store.set_fields(case_id, {"review_status": "reviewed"}, "r1", source="reviewer:r1",
                         expected_version=version)


def _filters(store: Store) -> list[CaseQuery]:
    pillars = sorted(store.key_counts("pillar"))
    assert len(pillars) >= 3  # the seeds' cases spread over the pillars
    return ([CaseQuery(order="queue")] + [CaseQuery(pillar=p, order="queue") for p in pillars]
            + [CaseQuery(pillar=pillars[0], reviewed=False, order="queue"), CaseQuery(item=3, order="queue"),
               CaseQuery(item=3, order="queue", sparse=True)])


def test_previous_and_next_case_follow_the_queue_order_under_every_filter(store: Store):
    ids = store.iter_case_ids()
    margins = [r["margin"] for r in store.queue_page(CaseQuery(order="queue"))]
    assert len(margins) - len(set(margins)) > len(ids) // 2  # copies: most margins are shared
    _review(store, ids[::7])  # reviewed cases go to the end of the queue
    for query in _filters(store):
        order = [r["case_id"] for r in store.queue_page(query)]
        assert order, query
        inside = set(order)
        for i, case_id in enumerate(order):
            nb = store.queue_neighbours(query, case_id)
            assert nb == {"inside": True, "prev": order[i - 1] if i else None,
                          "next": order[i + 1] if i + 1 < len(order) else None}, (query, i)
        outside = next((c for c in ids if c not in inside), None)
        if outside is not None:
            assert store.queue_neighbours(query, outside)["inside"] is False


def test_the_next_case_is_an_index_seek_without_a_sort(store: Store):
    """The seeks that hold the first columns of the queue key equal order by the rest only:
    SQLite keeps such a seek on the index instead of sorting the whole range behind it."""
    case_id = store.iter_case_ids()[5]
    plans: list[str] = []
    original = store._seek

    def traced(db, base, params, key, *, after):
        statements = []
        db.set_trace_callback(statements.append)
        try:
            return original(db, base, params, key, after=after)
        finally:
            db.set_trace_callback(None)
            for sql in statements:
                plans.extend(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql.replace("?", "NULL")))

    store._seek = traced
    pillar = store.case(case_id)["pillar"]["label"]
    store.queue_neighbours(CaseQuery(pillar=pillar, order="queue"), case_id)
    store.queue_neighbours(CaseQuery(order="queue"), case_id)
    assert plans and not [p for p in plans if "TEMP B-TREE" in p], plans


def _scored(store: Store, lo: float, hi: float) -> set[str]:
    """The cases whose pillar (as case_values holds it) has a probability in [lo, hi]."""
    records, _ = store.query_cases(CaseQuery())
    return {r["case_id"] for r in records if r.get("pillar") and r["pillar"].get("score") is not None
            and lo <= r["pillar"]["score"] <= hi}


def test_probability_filter_under_every_sort_matches_the_pillar_values(store: Store):
    expected = _scored(store, 0.3, 0.6)
    assert 0 < len(expected) < store.case_count()
    for order in ["queue", *Store.QUEUE_SORTS]:
        walked = [r["case_id"] for r in store.queue_page(CaseQuery(score_min=0.3, score_max=0.6, order=order))]
        as_set = [r["case_id"] for r in store.queue_page(CaseQuery(score_min=0.3, score_max=0.6, order=order,
                                                                   sparse=True))]
        assert set(walked) == expected and walked == as_set, order
    # a reviewer's pillar replaces the model's, and its probability with it (kept by the triggers)
    case_id = sorted(expected)[0]
    version = store.case(case_id)["version"]
    store.set_fields(case_id, {"pillar": {"label": "live"}}, "r1", source="reviewer:r1", expected_version=version)
    assert case_id not in {r["case_id"] for r in store.queue_page(CaseQuery(score_min=0.3, score_max=0.6))}
    assert _scored(store, 0.3, 0.6) == expected - {case_id}


def test_a_store_of_schema_7_gets_the_pillar_probability_on_its_cases(tmp_path: Path, seeds_dir: Path, monkeypatch):
    import jirei.store as store_module

    db = tmp_path / "v7.db"
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 7)
    build_store(db, [seed_file("004", seeds_dir)])
    with Store(db) as old:
        assert old.schema_version() == 7
        assert "pillar_score" not in {r[1] for r in old.conn.execute("PRAGMA table_info(cases)")}
    monkeypatch.undo()
    with Store(db) as new:
        assert new.schema_version() == store_module.SCHEMA_VERSION
        rows = new.conn.execute("SELECT c.pillar_score, v.score FROM cases c JOIN case_values v "
                                "ON v.case_id = c.case_id AND v.field = 'pillar' AND v.position = 0").fetchall()
        assert rows and all(r[0] == r[1] for r in rows)
        expected = _scored(new, 0.0, 0.5)
        assert expected and {r["case_id"] for r in new.queue_page(CaseQuery(score_max=0.5))} == expected


def test_writers_of_one_process_take_turns_without_sqlite_busy_waits(store: Store):
    """Sixteen connections of one process save at once with SQLite's busy timeout at zero: none
    gets "database is locked", because they queue on the process's writer lock, and every save
    is there with its history. A session's passing state is committed without an fsync of its
    own, and the connection is back to synchronous = FULL after it."""
    import threading

    store.add_user("r1", "reviewer", "hash")
    tokens = [f"{i:064x}" for i in range(16)]
    for token in tokens:
        store.start_session(token, "r1", "127.0.0.1", "2999-01-01T00:00:00.000+00:00", purge_before="")
    case_ids = store.iter_case_ids()[:len(tokens)]
    stores = [Store(store.path, create=False) for _ in tokens]
    for s in stores:
        s.conn.execute("PRAGMA busy_timeout = 0")
    errors: list[Exception] = []
    start = threading.Barrier(len(stores))

    def work(s: Store, token: str, case_id: str) -> None:
        start.wait()
        try:
            for n in range(6):
                version = s.case(case_id)["version"]
                s.set_fields(case_id, {"pillar": {"label": ("live", "work")[n % 2]}}, "r1", source="reviewer:r1",
                             expected_version=version)
                s.push_flash(token, "ok", f"saved {n}")
                s.clear_flash(token)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=args) for args in zip(stores, tokens, case_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        for s in stores:
            assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
        for token, case_id in zip(tokens, case_ids):
            assert store.session(token)["flash"] == []
            assert store.case(case_id)["pillar"]["label"] == "work"
            assert len([h for h in store.history(case_id) if h["field"] == "pillar" and h["who"] == "r1"]) == 6
        stores[0].push_flash(tokens[0], "ok", "seen by another connection")
        assert store.session(tokens[0])["flash"] == [["ok", "seen by another connection"]]
    finally:
        for s in stores:
            s.close()


def test_slow_queue_counts_come_back_at_once_and_are_made_again_in_the_background(store: Store):
    """A count that takes long (here: every count, SLOW_COUNT_MS = 0) is not made again while a
    page waits after the store changed: the page gets the last count, a background thread counts
    again. Counts cheaper than SLOW_COUNT_MS (those of a small store) are always exact."""
    import time

    from jirei.webapp.app import QueueCounts
    from jirei.webapp.filters import QueueFilters

    exact, slow = QueueCounts(store.path), QueueCounts(store.path)
    slow.SLOW_COUNT_MS, slow.REFRESH_SECONDS = 0.0, 0.0
    everything = QueueFilters()
    try:
        before = store.queue_counts(CaseQuery())
        assert exact.get(store, everything) == before == slow.get(store, everything)
        _review(store, store.iter_case_ids()[:3])
        after = store.queue_counts(CaseQuery())
        assert after["reviewed"] == before["reviewed"] + 3
        assert exact.get(store, everything) == after
        assert slow.get(store, everything) == before  # the last count, at once
        deadline = time.monotonic() + 20
        while slow.get(store, everything) != after and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.get(store, everything) == after
    finally:
        exact.close()
        slow.close()


WRITER = """
import sys
from jirei.store import Store
path, case_id, go = sys.argv[1], sys.argv[2], float(sys.argv[3])
import time
s = Store(path, create=False)
s.conn.execute("PRAGMA busy_timeout = 0")
while time.time() < go:
    time.sleep(0.001)
for n in range(15):
    version = s.case(case_id)["version"]
    s.set_fields(case_id, {"pillar": {"label": ("live", "work")[n % 2]}}, "r1", source="reviewer:r1",
                 expected_version=version)
print("ok")
"""


def test_writers_of_several_processes_take_turns_on_the_lock_file(store: Store):
    """Three processes save at once with SQLite's busy timeout at zero: none gets "database is
    locked", because each takes its turn on `<store>.write-lock` first (as the worker processes
    of `jirei serve --workers N` do)."""
    import subprocess
    import sys
    import time

    store.add_user("r1", "reviewer", "hash")
    case_ids = store.iter_case_ids()[:3]
    go = f"{time.time() + 3:.3f}"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(store.path), c, go], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in case_ids]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 and out.strip() == "ok" for p, (out, _) in zip(procs, results)), results
    assert Path(f"{store.path}.write-lock").exists()
    for case_id in case_ids:
        history = [h for h in store.history(case_id) if h["field"] == "pillar" and h["who"] == "r1"]
        assert len(history) == 15 and store.case(case_id)["pillar"]["label"] == "live"
