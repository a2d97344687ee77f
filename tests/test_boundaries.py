"""Reviewers' boundary edits in the case store: split, merge, title, their undo, and the
corrections exported as segmentation gold that `jirei evaluate segmentation` reads. Over a real
store built from seed 001 (rules-only entities, the trained classifier)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jirei.export import write_segmentation_gold
from jirei.gold import gold_spans, load_gold
from jirei.store import CaseQuery, ConflictError, Store, StoreError
from jirei.webapp.sample_store import add_users, build_store

from conftest import seed_file

JIREI = str(Path(sys.executable).with_name("jirei"))
USERS = {"ana": ("admin", "ana-password-1"), "ben": ("reviewer", "ben-password-1")}


@pytest.fixture(scope="module")
def template(tmp_path_factory, seeds_dir: Path) -> Path:
    db = tmp_path_factory.mktemp("boundaries") / "jirei.db"
    build_store(db, [seed_file("001", seeds_dir)])
    add_users(db, USERS)
    return db


@pytest.fixture()
def store(template: Path, tmp_path: Path):
    copy = tmp_path / "jirei.db"
    copy.write_bytes(template.read_bytes())
    with Store(copy) as s:
        yield s


def standing(store: Store) -> list[dict]:
    return store.query_cases(CaseQuery())[0]


def with_entities(store: Store, at_least: int = 2) -> dict:
    """A case with several organisations or places at different places in its text."""
    for r in standing(store):
        spans = sorted(v["span"][0] for v in r["organisations"] + r["places"] if v.get("span"))
        if len(spans) >= at_least and spans[-1] - spans[0] > 20 and r["text"].count("\n") >= 3:
            return r
    raise AssertionError("no case with entities spread over its text")


def test_split_makes_two_linked_cases_and_distributes_entities(store: Store):
    record = with_entities(store)
    before = len(standing(store))
    spans = sorted(v["span"][0] for v in record["organisations"] + record["places"] if v.get("span"))
    at = record["text"].index("\n", spans[-1] - record["span"][0] - 1 if spans[-1] > spans[0] else 1)
    at = next(i for i in range(spans[0] - record["span"][0] + 1, len(record["text"]))
              if record["text"][i - 1] == "\n" and i + record["span"][0] > spans[0])
    first_id, second_id = store.split_case(record["case_id"], at, "ben", expected_version=record["version"])
    first, second = store.case(first_id), store.case(second_id)
    # spans are document offsets; the white space at the cut belongs to neither part
    assert first["span"][0] == record["span"][0] and second["span"][1] == record["span"][1]
    assert first["text"] + record["text"][len(first["text"]):at].strip() == record["text"][:at].rstrip()
    assert second["text"] == record["text"][at:].strip()
    assert first["title"] == record["title"] and second["title"] == second["text"].splitlines()[0].lstrip("#・- ").strip()
    for part in (first, second):
        for v in part["organisations"] + part["places"]:
            if v.get("span") and record["span"][0] <= v["span"][0] < record["span"][1]:
                assert part["span"][0] <= v["span"][0] < part["span"][1], v
        assert part["pillar"] == record["pillar"] and part["needs_review"] and part["review_status"] == "unreviewed"
        assert part["layout"] == "reviewer:ben"
    moved = {json.dumps(v, sort_keys=True) for v in first["organisations"] + second["organisations"]}
    assert moved == {json.dumps(v, sort_keys=True) for v in record["organisations"]}
    # the old case stays, with its history, out of every listing
    ids = [r["case_id"] for r in standing(store)]
    assert record["case_id"] not in ids and first_id in ids and second_id in ids
    assert len(ids) == before + 1
    assert ids.index(second_id) == ids.index(first_id) + 1  # document order, not ordinal order
    assert store.superseded(record["case_id"])["by"] == [first_id, second_id]
    old_entries = store.history(record["case_id"])
    assert old_entries[-1]["field"] == "boundary" and old_entries[-1]["who"] == "ben"
    assert old_entries[-1]["new"]["by"] == [first_id, second_id]
    origin = store.boundary_origin(second_id)
    assert origin["op"] == "split" and origin["from"] == [record["case_id"]] and origin["made"] == [first_id, second_id]
    assert old_entries[-1]["note"] == origin["note"]
    # a stale page cannot split or save the replaced case
    with pytest.raises(ConflictError):
        store.split_case(record["case_id"], at, "ana", expected_version=record["version"])
    with pytest.raises(ConflictError):
        store.set_fields(record["case_id"], {"pillar": {"label": "work"}}, "ana", expected_version=record["version"])
    with pytest.raises(StoreError, match="replaced by"):
        store.split_case(record["case_id"], at, "ana")


def test_split_refuses_positions_that_leave_an_empty_part(store: Store):
    record = standing(store)[0]
    for at in (0, len(record["text"]), -3):
        with pytest.raises(StoreError):
            store.split_case(record["case_id"], at, "ben")
    assert store.superseded(record["case_id"]) is None


def test_merge_with_next_and_undo_restores_both(store: Store):
    cases = standing(store)
    a, b = cases[3], cases[4]
    new_id = store.merge_with_next(a["case_id"], "ben", expected_version=a["version"], next_version=b["version"])
    merged = store.case(new_id)
    assert merged["span"] == [a["span"][0], b["span"][1]] and merged["title"] == a["title"]
    assert merged["text"].startswith(a["text"]) and merged["text"].endswith(b["text"])
    names = [o["name"] for o in merged["organisations"]]
    assert all(o["name"] in names for o in a["organisations"] + b["organisations"])
    assert merged["years"] == sorted(set(a["years"]) | set(b["years"]))
    assert merged["pillar"] == a["pillar"]
    ids = [r["case_id"] for r in standing(store)]
    assert a["case_id"] not in ids and b["case_id"] not in ids and ids[3] == new_id
    restored = store.undo_boundary(new_id, "ben")
    assert restored == [a["case_id"], b["case_id"]]
    after = standing(store)
    assert [r["case_id"] for r in after] == [r["case_id"] for r in cases]
    for old in (a, b):
        now = store.case(old["case_id"])
        assert {k: now[k] for k in ("text", "span", "organisations", "places", "pillar")} == \
               {k: old[k] for k in ("text", "span", "organisations", "places", "pillar")}
    assert store.superseded(new_id)["op"] == "undo merge"
    assert [h["field"] for h in store.history(a["case_id"])][-2:] == ["boundary", "boundary"]
    with pytest.raises(StoreError):
        store.undo_boundary(new_id, "ben")  # undone already: the merged case is superseded


def test_merge_checks_the_next_cases_version_and_the_last_case_has_no_next(store: Store):
    cases = standing(store)
    a, b = cases[0], cases[1]
    store.set_field(b["case_id"], "pillar", {"label": "work", "source": "reviewer", "reviewer": "ana"}, "ana",
                    source="reviewer:ana")
    with pytest.raises(ConflictError):
        store.merge_with_next(a["case_id"], "ben", expected_version=a["version"], next_version=b["version"])
    with pytest.raises(StoreError, match="last of its document"):
        store.merge_with_next(cases[-1]["case_id"], "ben")


def test_undo_of_a_split_is_refused_after_another_reviewers_change(store: Store):
    record = standing(store)[5]
    at = record["text"].index("\n") + 1
    first_id, second_id = store.split_case(record["case_id"], at, "ben")
    store.set_field(second_id, "pillar", {"label": "work", "source": "reviewer", "reviewer": "ana"}, "ana",
                    source="reviewer:ana")
    with pytest.raises(StoreError, match="ana changed case"):
        store.undo_boundary(first_id, "ben")
    assert store.superseded(record["case_id"]) is not None
    # ben's own change on a part does not block his undo
    other = standing(store)[8]
    p1, p2 = store.split_case(other["case_id"], other["text"].index("\n") + 1, "ben")
    store.set_field(p1, "pillar", {"label": "live", "source": "reviewer", "reviewer": "ben"}, "ben",
                    source="reviewer:ben")
    assert store.undo_boundary(p2, "ben") == [other["case_id"]]
    assert store.case(other["case_id"])["pillar"] == other["pillar"]
    # each edit undoes alone: the first split's parts still stand
    assert store.superseded(first_id) is None and store.superseded(second_id) is None


def test_title_is_a_field_with_history_and_undo(store: Store):
    record = standing(store)[2]
    version = store.set_fields(record["case_id"], {"title": "新しい題名"}, "ben", expected_version=record["version"],
                               note="save 1234")
    assert store.case(record["case_id"])["title"] == "新しい題名" and version == record["version"] + 1
    entry = store.history(record["case_id"])[-1]
    assert (entry["field"], entry["old"], entry["new"]) == ("title", record["title"], "新しい題名")
    store.undo_entries([entry["id"]], "ben", expected_version=version)
    assert store.case(record["case_id"])["title"] == record["title"]


def test_corrections_export_as_segmentation_gold(store: Store, tmp_path: Path, seeds_dir: Path):
    cases = standing(store)
    split_case, merge_case = cases[10], cases[20]
    at = split_case["text"].index("\n", split_case["text"].index("\n") + 1) + 1
    store.split_case(split_case["case_id"], at, "ben")
    store.merge_with_next(merge_case["case_id"], "ana")
    store.set_fields(cases[30]["case_id"], {"segmentation": {"flag": "not_a_case", "offset": None,
                                                             "source": "reviewer", "reviewer": "ben"}}, "ben")
    folder = tmp_path / "gold"
    written, problems = write_segmentation_gold(store, folder)
    assert problems == [] and [p.name for p in written] == [seed_file("001", seeds_dir).stem + ".json"]
    # the command writes the same file
    out = subprocess.run([JIREI, "export", "--db", str(store.path), "--segmentation-gold", str(tmp_path / "cli")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "1 documents with reviewed boundaries" in out.stderr, out.stderr
    assert (tmp_path / "cli" / written[0].name).read_text(encoding="utf-8") == written[0].read_text(encoding="utf-8")
    gold = load_gold(written[0])
    expected = [r for r in standing(store) if r["case_id"] != cases[30]["case_id"]]
    assert len(gold.cases) == len(cases) + 1 - 1 - 1 == len(expected)
    text = store.document(expected[0]["doc_id"])["text"]
    spans = gold_spans(text, gold)
    for (start, end), r in zip(spans, expected):
        # the gold span is the case without its leading heading marks and trailing white space
        assert r["span"][0] <= start < r["span"][0] + 8 and end == r["span"][0] + len(r["text"].rstrip())
    # `jirei evaluate segmentation` reads it: the segmenter, which knows nothing of the
    # corrections, misses the split's second part (its heading lies inside the unsplit entry),
    # and its "not a case" entry and the merge's second entry match no gold entry
    out = subprocess.run([JIREI, "evaluate", "segmentation", "--gold", str(folder), "--json",
                          str(seed_file("001", seeds_dir))], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    score = json.loads(out.stdout)[0]
    assert score["gold"] == len(expected) and score["predicted"] == len(cases)
    assert score["matched"] == len(expected) - 1 and 0.9 < score["f1"] < 1.0
    assert any(split_case["title"][:10] not in m for m in score["missed"]) and len(score["missed"]) == 1
    assert not (folder / "pdfs").exists()  # a text document's gold sits at the top, as in corpus/segmentation


def test_a_store_without_corrections_exports_nothing(store: Store, tmp_path: Path):
    assert write_segmentation_gold(store, tmp_path / "gold") == ([], [])


def test_a_schema_4_store_is_migrated_and_keeps_its_cases(tmp_path: Path, seeds_dir: Path, monkeypatch):
    """A store written before boundary edits (schema 4) opens, is migrated to 6, and its cases
    are listed, split and queued as usual."""
    import jirei.store as store_module

    db = tmp_path / "old.db"
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 4)
    build_store(db, [seed_file("004", seeds_dir)])
    with Store(db) as old:
        assert old.schema_version() == 4 and old.case_count() > 0
        count = old.case_count()
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 6)
    with Store(db) as store:
        assert store.schema_version() == 6
        cases = standing(store)
        assert len(cases) == count
        first = cases[0]
        store.split_case(first["case_id"], first["text"].index("\n") + 1, "ben")
        assert len(standing(store)) == count + 1
        assert store.queue_counts(CaseQuery())["total"] == count + 1
        assert store.page_boxes(first["doc_id"], 1) is None  # a text document: no line boxes


def test_pdf_line_boxes_are_stored_and_hold_their_text(tmp_path: Path, pdfs_dir: Path):
    from jirei.extract.ingest import ingest

    pdf = pdfs_dir / "otoineppu_kouhou_2023-09.pdf"
    doc = ingest(pdf)
    assert [b["page"] for b in doc.page_boxes] == [p.number for p in doc.pages if not p.needs_ocr and p.end > p.start]
    for box, page in ((b, next(p for p in doc.pages if p.number == b["page"])) for b in doc.page_boxes):
        for start, end, x0, top, x1, bottom in box["lines"]:
            assert page.start <= start < end <= page.end and doc.text[start:end].strip()
            assert 0 <= x0 < x1 <= box["width"] + 1 and 0 <= top < bottom <= box["height"] + 1
    db = tmp_path / "pdf.db"
    build_store(db, [pdf])
    with Store(db) as store:
        stored = store.page_boxes(doc.doc_id, 2)
    page_2 = next(b for b in doc.page_boxes if b["page"] == 2)
    assert stored == {"width": page_2["width"], "height": page_2["height"], "lines": page_2["lines"]}


def test_a_pdfs_corrections_feed_the_cross_document_evaluation(tmp_path: Path, pdfs_dir: Path):
    """A newsletter PDF's case split in the store: the exported gold lands in `pdfs/`, and the
    loader of `jirei evaluate segmentation --cv document` takes the PDF with it as a development
    document whose every gold case it finds."""
    import shutil

    from jirei.evaluation.segmentation_cv import development_documents, locate_gold

    pdf = tmp_path / "otoineppu_kouhou_2023-09.pdf"
    shutil.copy(pdfs_dir / pdf.name, pdf)
    db = tmp_path / "pdf.db"
    build_store(db, [pdf])
    add_users(db, {"ben": USERS["ben"]})
    with Store(db) as store:
        record = max(standing(store), key=lambda r: r["text"].count("\n"))
        lines = record["text"].split("\n")
        at = len("\n".join(lines[:len(lines) // 2])) + 1
        store.split_case(record["case_id"], at, "ben")
        written, problems = write_segmentation_gold(store, tmp_path / "gold")
        cases = standing(store)
    assert problems == [] and [p.relative_to(tmp_path / "gold").as_posix() for p in written] == \
        ["pdfs/otoineppu_kouhou_2023-09.json"]
    docs = development_documents(tmp_path / "no-seeds", tmp_path, None, tmp_path / "gold", synthetic=False)
    # the PDF, and its text as a text report, as paged text and as markdown with heading marks
    # (scored, never trained on)
    assert [(d.name, d.kind, d.trains) for d in docs] == [
        (pdf.name, "real PDF", True), (f"{pdf.name} as text", "real text", False),
        (f"{pdf.name} as paged text", "real paged text", False),
        (f"{pdf.name} as markdown", "real paged text", False),
        (f"{pdf.name} as unpaged markdown", "real markdown", False)]
    spans = locate_gold(docs[0].doc, docs[0].gold)
    assert len(spans) == len(docs[0].gold.cases) == len(cases)
    assert [s for s, _ in spans] == [s for s, _ in gold_spans(docs[0].doc.text, docs[0].gold)]
