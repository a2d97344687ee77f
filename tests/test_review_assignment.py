"""Assignment, blind double labelling, agreement, adjudication and bulk writes in the store (real
stores built from the seed reports): who gets which case, that the second labelling leaves the
case's values alone, Cohen's kappa per pillar and per action item on a table worked out by hand
(and against scikit-learn), adjudication becoming the case's labels with its history, and bulk
changes that report the cases someone else changed meanwhile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jirei.store import CaseQuery, Store, StoreError
from jirei.webapp.dashboard import blind_agreement
from jirei.webapp.labels import review_changes

from test_webapp import make_review_store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    return make_review_store(tmp_path_factory.mktemp("assign-store"), seeds_dir)


@pytest.fixture()
def store(template_db: Path, tmp_path: Path):
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    with Store(copy) as s:
        yield s


def first_pass(store: Store, case_id: str, who: str, pillar: str, items: list[int]) -> int:
    version = store.case(case_id)["version"]
    changes = {**review_changes(pillar, None, items, who), "review_status": "reviewed"}
    return store.set_fields(case_id, changes, who, source=f"reviewer:{who}", expected_version=version,
                            note="save test")


def test_assignment_splits_the_cases_and_doubles_the_overlap_share_with_another_reviewer(store: Store):
    ids = store.iter_case_ids(CaseQuery(reviewed=False))[:20]
    out = store.assign_cases(ids, ["ben", "cy"], "ana", overlap=0.25)
    assert out == {"first": 20, "second": 5, "skipped": 0}
    rows = store.conn.execute("SELECT case_id, reviewer, pass FROM assignments").fetchall()
    firsts = {r["case_id"]: r["reviewer"] for r in rows if r["pass"] == 1}
    seconds = {r["case_id"]: r["reviewer"] for r in rows if r["pass"] == 2}
    assert sorted(firsts) == sorted(ids)
    assert sorted(firsts.values()).count("ben") == 10 and sorted(firsts.values()).count("cy") == 10
    assert len(seconds) == 5 and all(seconds[c] != firsts[c] for c in seconds)
    # my queue: the open assignments of each reviewer, both passes
    ben = set(store.iter_case_ids(CaseQuery(assignee="ben")))
    assert ben == {c for c, r in firsts.items() if r == "ben"} | {c for c, r in seconds.items() if r == "ben"}
    # assigning the same slice again changes nothing; a reviewed case is never assigned
    assert store.assign_cases(ids, ["ben", "cy"], "ana", overlap=0.25) == {"first": 0, "second": 0, "skipped": 20}
    with pytest.raises(StoreError, match="two reviewers"):
        store.assign_cases(ids, ["ben"], "ana", overlap=0.5)
    with pytest.raises(StoreError, match="no active user zed"):
        store.assign_cases(ids, ["ben", "zed"], "ana")


def test_blind_label_leaves_the_case_alone_and_is_compared_once_the_first_pass_is_in(store: Store):
    ids = store.iter_case_ids(CaseQuery(reviewed=False))[:2]
    store.assign_cases(ids, ["ben", "cy"], "ana", overlap=1.0)
    case_id = next(c for c in ids if store.blind_pending("cy", c))
    before = store.case(case_id)
    status = store.save_blind_label(case_id, "cy", {"pillar": "work", "theme": None, "action_items": [3, 1]})
    assert status == "waiting"
    after = store.case(case_id)
    assert after["pillar"] == before["pillar"] and after["version"] == before["version"]  # values untouched
    assert not store.blind_pending("cy", case_id)
    entry = store.history(case_id)[-1]
    assert (entry["who"], entry["field"], entry["new"]["pillar"], entry["new"]["action_items"]) == \
        ("cy", "blind_label", "work", [1, 3])
    assert entry["new"]["source"] == "reviewer:cy"
    with pytest.raises(StoreError, match="not assigned to ben"):
        store.save_blind_label(case_id, "ben", {"pillar": "work"})

    first_pass(store, case_id, "ben", "work", [1, 3])
    assert store.blind_pair(case_id)["status"] == "agree"
    assert store.blind_pair(case_id)["first_label"]["reviewer"] == "ben"
    # the first pass is done (out of ben's queue), and a later change of the labels is compared again
    assert case_id not in store.iter_case_ids(CaseQuery(assignee="ben"))
    first_pass(store, case_id, "ben", "live", [1, 3])
    assert store.blind_pair(case_id)["status"] == "disagree"
    assert case_id in store.iter_case_ids(CaseQuery(disagreement=True))


# A hand-worked table: six cases, ben (first pass) against cy (blind).
#   pillars  ben: live live work work nurture interact   cy: live work work work nurture live
#     agree 4/6; marginals ben 2,2,1,1 cy 2,3,1,0 -> p_e = (4 + 6 + 1 + 0)/36 = 11/36
#     kappa = (24/36 - 11/36) / (25/36) = 13/25 = 0.52
#   pillar "work" (yes/no): ben 2 yes, cy 3 yes, agree 5/6, p_e = (2*3 + 4*3)/36 = 1/2 -> kappa 2/3
#   item 1: ben {1},{1,2},{3},{},{4},{5}  cy {1},{2},{3},{3},{4},{}
#     ben 2 yes, cy 1 yes, agree 5/6, p_e = (2*1 + 4*5)/36 = 22/36 -> kappa (30-22)/(36-22) = 4/7
TABLE = [("live", [1], "live", [1]), ("live", [1, 2], "work", [2]), ("work", [3], "work", [3]),
         ("work", [], "work", [3]), ("nurture", [4], "nurture", [4]), ("interact", [5], "live", [])]


def test_kappa_per_pillar_and_per_item_on_a_table_checked_by_hand(store: Store):
    from sklearn.metrics import cohen_kappa_score

    ids = store.iter_case_ids(CaseQuery(reviewed=False))[:6]
    # every case goes to ben first and to cy blind: cy is second whenever ben is first
    for case_id in ids:
        store.conn.execute("INSERT INTO assignments (case_id, reviewer, pass, assigned_by, assigned_at) "
                           "VALUES (?, 'cy', 2, 'ana', '2026-01-01')", (case_id,))
    for case_id, (p1, i1, p2, i2) in zip(ids, TABLE):
        store.save_blind_label(case_id, "cy", {"pillar": p2, "action_items": i2})
        first_pass(store, case_id, "ben", p1, i1)
    result = blind_agreement(store.blind_pairs())
    assert result["cases"] == 6 and result["agree"] == 4
    assert result["kappa"] == pytest.approx(13 / 25, abs=1e-3)
    work = next(p for p in result["per_pillar"] if p["id"] == "work")
    assert work["kappa"] == pytest.approx(2 / 3, abs=1e-3) and (work["a"], work["b"], work["cases"]) == (2, 3, 6)
    item1 = next(i for i in result["per_item"] if i["number"] == 1)
    assert item1["kappa"] == pytest.approx(4 / 7, abs=1e-3)
    # and scikit-learn agrees on every item
    for row in result["per_item"]:
        a = [row["number"] in t[1] for t in TABLE]
        b = [row["number"] in t[3] for t in TABLE]
        if row["kappa"] is not None:
            assert row["kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-3)
    item10 = next(i for i in result["per_item"] if i["number"] == 10)
    assert item10["kappa"] is None and "undefined" in item10["why"]  # nobody chose it
    assert result["open"] == 3  # cases 2 and 6 (pillar), 4 (items) disagree


def test_adjudication_becomes_the_cases_labels_with_history_and_kappa_keeps_the_pair(store: Store):
    case_id = store.iter_case_ids(CaseQuery(reviewed=False))[0]
    store.assign_cases([case_id], ["ben", "cy"], "ana", overlap=1.0)
    store.save_blind_label(case_id, "cy", {"pillar": "work", "action_items": [2]})
    first_pass(store, case_id, "ben", "live", [1])
    assert store.blind_pair(case_id)["status"] == "disagree"
    version = store.case(case_id)["version"]
    decision = review_changes("nurture", None, [2, 5], "ana")
    store.adjudicate(case_id, {k: decision[k] for k in ("pillar", "theme", "action_items")}, "ana",
                     expected_version=version, note="adjudicate test")
    record = store.case(case_id)
    assert record["pillar"]["label"] == "nurture" and record["sources"]["pillar"] == ["reviewer:ana"]
    assert [a["item"] for a in record["action_items"]] == [2, 5]
    entries = [h for h in store.history(case_id) if h["note"] == "adjudicate test"]
    assert {h["field"] for h in entries} >= {"pillar", "action_items"} and {h["who"] for h in entries} == {"ana"}
    pair = store.blind_pair(case_id)
    assert pair["status"] == "adjudicated" and pair["adjudicated_by"] == "ana"
    assert pair["first_label"]["pillar"] == "live" and pair["label"]["pillar"] == "work"  # the pair as labelled
    assert case_id not in store.iter_case_ids(CaseQuery(disagreement=True))
    with pytest.raises(StoreError, match="no pair of labels"):
        store.adjudicate(case_id, {}, "ana", expected_version=record["version"])


def test_bulk_change_writes_each_case_and_reports_the_ones_changed_meanwhile(store: Store):
    ids = store.iter_case_ids(CaseQuery(reviewed=False))[:3]
    read = {c: store.case(c)["version"] for c in ids}
    first_pass(store, ids[1], "cy", "interact", [])  # cy saves one of them after ana read the queue
    planned = {c: (read[c], {"pillar": review_changes("work", None, [], "ana")["pillar"],
                             "review_status": "reviewed"}) for c in ids}
    planned["ffffffffffffffff-0001"] = (1, {"review_status": "reviewed"})
    report = store.bulk_set_fields(planned, "ana", source="reviewer:ana", note="save bulk-test")
    assert report["done"] == [ids[0], ids[2]]
    assert report["conflicts"] == [{"case_id": ids[1], "expected": read[ids[1]],
                                    "actual": store.case(ids[1])["version"], "who": "cy"}]
    assert report["missing"] == ["ffffffffffffffff-0001"]
    assert store.case(ids[1])["pillar"]["label"] == "interact"  # cy's save stands
    for c in (ids[0], ids[2]):
        record = store.case(c)
        assert record["pillar"]["label"] == "work" and record["review_status"] == "reviewed"
        mine = [h for h in store.history(c) if h["note"] == "save bulk-test"]
        assert {h["field"] for h in mine} == {"pillar", "review_status"} and {h["who"] for h in mine} == {"ana"}


def test_exports_carry_notes_segmentation_marks_reviewers_and_review_times(store: Store, tmp_path: Path):
    import csv
    import io
    import json

    from jirei.cli import main

    ids = store.iter_case_ids(CaseQuery(reviewed=False))[:2]
    a, b = ids
    version = store.case(a)["version"]
    record = store.case(a)
    seg = {"flag": "split_here", "offset": record["span"][0] + 5, "source": "reviewer", "reviewer": "ben"}
    note = {"text": "=check the partner's name", "reviewer": "ben", "at": "2026-03-01T10:00:00+00:00",
            "source": "reviewer"}
    store.set_fields(a, {**review_changes("work", None, [2], "ben"), "notes": [note], "segmentation": seg,
                         "review_status": "reviewed"}, "ben", source="reviewer:ben", expected_version=version,
                     note="save t1")
    version = store.case(a)["version"]
    store.set_fields(a, {"pillar": review_changes("live", None, [], "cy")["pillar"]}, "cy", source="reviewer:cy",
                     expected_version=version, note="save t2")
    store.assign_cases([b], ["ben", "cy"], "ana", overlap=1.0)
    store.save_blind_label(b, "cy", {"pillar": "nurture", "action_items": [4]})
    reviewed_at = next(h["at"] for h in store.history(a) if h["field"] == "review_status")

    out = tmp_path / "cases.csv"
    assert main(["export", "--db", str(store.path), "--format", "csv", "-o", str(out)]) == 0
    rows = {r["case_id"]: r for r in csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig")))}
    row = rows[a]
    assert row["reviewers"] == "ben; cy" and row["last_reviewed_by"] == "ben"
    assert row["first_reviewed_at"] == row["last_reviewed_at"] == reviewed_at
    assert row["notes"] == "ben 2026-03-01T10:00: =check the partner's name"  # not at the cell's start: no formula
    assert row["segmentation"] == f"split_here @ {seg['offset']} (ben)"
    assert rows[b]["blind_label"] == "cy: nurture 4 (waiting)" and rows[b]["reviewers"] == ""

    jl = tmp_path / "cases.jsonl"
    assert main(["export", "--db", str(store.path), "--format", "jsonl", "-o", str(jl)]) == 0
    records = {r["case_id"]: r for r in map(json.loads, jl.read_text(encoding="utf-8").splitlines())}
    assert records[a]["notes"] == [note] and records[a]["segmentation"] == seg
    assert records[a]["reviewers"] == ["ben", "cy"]
    assert records[a]["reviews"] == [{"reviewer": "ben", "at": reviewed_at, "how": "save"}]
    assert records[b]["blind_label"]["pillar"] == "nurture" and records[b]["blind_label"]["reviewer"] == "cy"
