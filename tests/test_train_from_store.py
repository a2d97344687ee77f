"""`jirei train --db`: reviewed cases of a case store feed the model, held-out documents never do.

The store holds seeds 001, 003 and 004 (segmented, labelled by the committed models; no NER)
and recombined documents: new casebook entries written from seed 002's lines (no gold), and
entries copying seed cases (gold test cases into a training-side document, gold training cases
into a held-out one). Reviewers label cases on both sides of the held-out rule.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from jirei import paths
from jirei.classify import store_data
from jirei.classify.predict import CaseClassifier
from jirei.classify.store_data import (HELD_OUT_MODULUS, CORRECTION_ORIGIN, StoreLabelledCase, case_split,
                                       heldout_reviewed_cases, held_out_document, select_store_cases,
                                       training_rows_with_store)
from jirei.classify.taxonomy import load_taxonomy
from jirei.classify.training import (GoldLabelledCase, SplitError, TrainingRow, gold_cases, held_out_cases,
                                     label_files, training_rows, training_sha256)
from jirei.cli import main
from jirei.evaluation.segmentation import comparable
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.store import CaseQuery, Store

from conftest import seed_file

WINDOW = 40  # a held-out text shares no run of this many characters with any training row

ORGS = ["北陸テック株式会社", "みらい農園", "NPO法人つなぐ", "山陰交通", "瀬戸内観光機構", "東北デジタル協議会",
        "九州ものづくり研究所", "湖南まちづくり会社", "信州ワーク協同組合", "阿波エネルギー", "房総フードラボ",
        "道東モビリティ", "紀州ローカルラボ", "甲斐ヘルスケア"]
PLACES = ["富山県富山市", "長野県松本市", "島根県松江市", "香川県高松市", "岩手県盛岡市", "宮崎県宮崎市",
          "佐賀県佐賀市", "滋賀県草津市", "長野県上田市", "徳島県徳島市", "千葉県館山市", "北海道釧路市",
          "和歌山県田辺市", "山梨県甲府市"]
TOPICS = ["データ連携基盤の構築", "農産物の販路開拓", "若者の定住促進", "公共交通の再編", "観光人材の育成",
          "行政手続のデジタル化", "技能継承の仕組みづくり", "駅前商店街の再生", "副業人材の受け入れ",
          "再生可能エネルギーの地産地消", "食品ロスの削減", "オンデマンド交通の実証", "ワーケーションの推進",
          "健康づくりの地域連携"]
MARKS = "①②③④⑤⑥⑦⑧⑨⑩"


def _doc_fields(doc) -> dict:
    return {"doc_id": doc.doc_id, "name": doc.name, "path": doc.path, "kind": doc.kind, "text": doc.text,
            "pages": [], "doc_date": doc.doc_date, "encoding": doc.encoding, "warnings": doc.warnings}


def _casebook(folder: Path, name: str, entries: list[tuple[str, str]], held_out: bool) -> Path:
    """A casebook of (heading, body) entries, its bytes nudged (edition line) until the
    held-out rule puts it on the wanted side."""
    parts = [f"{name} 地域の取り組み事例集", "", "1. 地域の取り組み", ""]
    for i, (heading, body) in enumerate(entries):
        parts += [f"{MARKS[i]} {heading}", "", body, ""]
    for edition in range(1, 200):
        data = "\n".join(parts + [f"(第{edition}版)", ""]).encode("utf-8")
        if held_out_document(hashlib.sha256(data).hexdigest()) == held_out:
            path = folder / f"{name}.txt"
            path.write_bytes(data)
            return path
    raise AssertionError("no edition lands on the wanted side")


class Fresh:
    """New entries: a heading of its own and three lines of seed 002 (a report with no cases)."""

    def __init__(self, seeds: Path):
        text = seed_file("002", seeds).read_text(encoding="utf-8")
        self.lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 25]
        self.n = 0

    def take(self) -> tuple[str, str]:
        i = self.n
        self.n += 1
        heading = f"{ORGS[i]}:{TOPICS[i]}({PLACES[i]})"
        return heading, "".join(self.lines[3 * i:3 * i + 3])


def _gold_entry(g: GoldLabelledCase) -> tuple[str, str]:
    """A seed case as a casebook entry: its first line as the heading, the rest as one paragraph."""
    lines = [ln.strip() for ln in g.text.splitlines() if ln.strip()]
    return lines[0].lstrip("①②③④⑤⑥⑦⑧⑨⑩- "), "".join(lines[1:])


class Built:
    """The store, what was done to it, and helpers shared by the tests."""

    def __init__(self, tmp: Path, seeds: Path):
        self.tmp, self.seeds = tmp, seeds
        self.classifier = CaseClassifier.load(paths.MODELS)
        self.taxonomy = load_taxonomy()
        self.db = tmp / "jirei.db"
        self.store = Store(self.db)
        self.records: dict[str, list[dict]] = {}  # document file name → its case records
        self.docs: dict[str, tuple[str, dict]] = {}  # document file name → (doc_id, stored fields)
        self.fresh = Fresh(seeds)
        # the seeds' gold by prefix (the real PDFs' label files sit in a sub-folder)
        self.gold = {p.stem[:3]: gold_cases(p.stem, seeds) for p in label_files() if p.parent == paths.LABEL_GOLD}

    def add(self, path: Path, store: Store | None = None) -> list[dict]:
        name = path.name
        if name not in self.records:
            doc = ingest(path)
            cases = segment(doc)
            self.classifier.classify(cases)
            self.records[name] = [c.to_json() for c in cases]
            self.docs[name] = (doc.doc_id, _doc_fields(doc))
        doc_id, fields = self.docs[name]
        (store or self.store).save_document(fields, self.records[name], run_id=None,
                                            model_version=self.classifier.version)
        return self.records[name]

    def ids(self, name: str) -> list[str]:
        return [r["case_id"] for r in self.records[name]]

    def doc_id(self, name: str) -> str:
        return self.docs[name][0]


def review(store: Store, case_id: str, pillar: str | None = None, items: list[int] | None = None,
           theme: str | None = None, flag: str | None = None, who: str = "ana") -> None:
    src = f"reviewer:{who}"
    if pillar is not None:
        store.set_field(case_id, "pillar", {"label": pillar, "source": "reviewer", "reviewer": who}, who, source=src)
    if theme is not None:
        store.set_field(case_id, "theme", {"label": theme, "source": "reviewer", "reviewer": who}, who, source=src)
    if items is not None:
        store.set_field(case_id, "action_items", [{"item": n, "source": "reviewer", "reviewer": who} for n in items],
                        who, source=src)
    if flag is not None:
        store.set_field(case_id, "segmentation", {"flag": flag}, who, source=src)
    store.set_field(case_id, "review_status", "reviewed", who)


@pytest.fixture(scope="module")
def built(tmp_path_factory, seeds_dir: Path) -> Built:
    b = Built(tmp_path_factory.mktemp("store"), seeds_dir)
    s = b.store
    for prefix in ("001", "003", "004"):
        b.add(seed_file(prefix, seeds_dir))
    folder = b.tmp / "docs"
    folder.mkdir()
    f = b.fresh
    t1 = _casebook(folder, "train_new", [f.take() for _ in range(4)], held_out=False)
    h1 = _casebook(folder, "heldout_new", [f.take() for _ in range(4)], held_out=True)
    # heldout_new's first entry (fresh entry 4) again, under a slightly different heading
    copy_of_held = (f"{ORGS[4]}:{TOPICS[4]}の展開({PLACES[4]})", "".join(f.lines[12:15]))
    t2 = _casebook(folder, "train_mixed",
                   [copy_of_held, _gold_entry(b.gold["003"][5]), f.take(), f.take()], held_out=False)
    r1 = _casebook(folder, "train_recombined_test_gold",
                   [_gold_entry(b.gold["004"][i]) for i in (3, 10, 20)] + [_gold_entry(b.gold["003"][30])],
                   held_out=False)
    r2 = _casebook(folder, "heldout_recombined_train_gold",
                   [_gold_entry(b.gold["001"][i]) for i in (4, 12, 25)], held_out=True)
    b.paths = {"t1": t1, "h1": h1, "t2": t2, "r1": r1, "r2": r2}
    for path in b.paths.values():
        b.add(path)
    for key, n in (("t1", 4), ("h1", 4), ("t2", 4)):
        assert len(b.records[b.paths[key].name]) == n, key
    for key in ("r1", "r2"):  # copies of seed cases, however the segmenter cuts them
        assert len(b.records[b.paths[key].name]) >= 2, key

    seed = {p: b.ids(seed_file(p, seeds_dir).name) for p in ("001", "003", "004")}
    t1, h1, t2, r1, r2 = (b.ids(b.paths[k].name) for k in ("t1", "h1", "t2", "r1", "r2"))
    gold001 = b.gold["001"]
    # seed 001 part I: one relabelled (a correction), one confirmed (no change)
    other = next(p for p in ("live", "work", "nurture", "interact") if p != gold001[0].pillar)
    review(s, seed["001"][0], pillar=other)
    review(s, seed["001"][1], pillar=gold001[1].pillar, items=list(gold001[1].items))
    # seed 001 part II and seeds 003/004: held out whatever the reviewer says
    for cid in seed["001"][58:61] + seed["003"][:5] + seed["004"][:5]:
        review(s, cid, pillar="work", items=[3])
    # a new training-side document
    review(s, t1[0], pillar="live", items=[7, 2])
    review(s, t1[1], pillar="work", theme="work.local_industry")
    review(s, t1[2], pillar="nurture", items=[5], flag="not_a_case")
    review(s, t1[3])  # reviewed, labels accepted as the model gave them: not a correction
    # a held-out document
    review(s, h1[0], pillar="interact", items=[9])
    review(s, h1[1], pillar="nurture")
    review(s, h1[2])
    review(s, h1[3], pillar="live", flag="not_a_case")
    # training side: a copy of held-out text, a copy of a seed 003 case, a new entry
    review(s, t2[0], pillar="work", items=[1])
    review(s, t2[1], pillar="work", items=[1])
    review(s, t2[2], pillar="interact", items=[10])
    review(s, t2[3], pillar="raise")  # not a pillar of the scheme: not used
    for cid in r1 + r2:
        review(s, cid, pillar="work", items=[2])
    # set but not reviewed: not used
    s.set_field(seed["004"][10], "pillar", {"label": "live", "source": "reviewer", "reviewer": "bo"}, "bo",
                source="reviewer:bo")
    b.ids_by = {"seed": seed, "t1": t1, "h1": h1, "t2": t2, "r1": r1, "r2": r2}
    b.selection = select_store_cases(s, b.taxonomy, seeds_dir)
    b.rows = training_rows_with_store(b.taxonomy, b.selection, seeds_dir)
    yield b
    s.close()


def _held_out_side(b: Built) -> tuple[set[str], list[str]]:
    """Every case id and text on the held-out side, worked out here from the rule's definition:
    all cases of documents the hash holds out, and the gold "test" cases of the seeds. (Texts
    of the held-out document made of seed 001 part I copies are left out: that text is
    training data by the seed split, and those copies are not evaluated.)"""
    ids, texts = set(), []
    for name, (doc_id, _f) in b.docs.items():
        for r in b.records[name]:
            gold_doc = next((p for p, g in b.gold.items() if name.startswith(p + "_")), None)
            if gold_doc is None and int(doc_id[:8], 16) % 5 == 0:
                ids.add(r["case_id"])
                if name != b.paths["r2"].name:
                    texts.append(r["text"])
            elif gold_doc is not None and b.gold[gold_doc][r["ordinal"] - 1].split == "test":
                ids.add(r["case_id"])
    texts += [g.text for g in held_out_cases(b.seeds)]
    return ids, texts


def _shares_a_window(held: str, training_text: str) -> bool:
    h = comparable(held)
    return any(h[i:i + WINDOW] in training_text for i in range(0, max(1, len(h) - WINDOW + 1), 5))


def test_no_held_out_case_is_trained_on_by_id_or_text(built):
    held_ids, held_texts = _held_out_side(built)
    assert held_ids and len(held_texts) > 106
    keys = {r.key for r in built.rows}
    assert not keys & held_ids
    assert not set(built.selection.used_case_ids) & held_ids
    training_text = "\n".join(comparable(r.title) + "\n" + comparable(r.text) for r in built.rows
                              if r.origin in ("case", CORRECTION_ORIGIN))
    leaked = [t[:40] for t in held_texts if _shares_a_window(t, training_text)]
    assert not leaked
    # the copies on the training side were reviewed with labels and still kept out
    t2, r1 = built.ids_by["t2"], built.ids_by["r1"]
    assert not {t2[0], t2[1], *r1} & keys
    assert built.selection.skipped["held_out_copy"] == 2 + len(r1)


def test_the_guard_refuses_a_held_out_row(built):
    sel = built.selection
    h1 = built.store.case(built.ids_by["h1"][0])
    leaked = TrainingRow(h1["case_id"], CORRECTION_ORIGIN, h1["title"], h1["text"], "live", None, ())
    with pytest.raises(SplitError, match="held out"):
        store_data.check_no_held_out(built.rows + [leaked], sel)
    copy = TrainingRow("0000000000000001-0001", CORRECTION_ORIGIN, "x", h1["text"] + "追記。", "live", None, ())
    with pytest.raises(SplitError, match="held-out text"):
        store_data.check_no_held_out(built.rows + [copy], sel)


def test_corrections_are_the_reviewers_labels_on_the_training_side(built):
    sel, ids = built.selection, built.ids_by
    t1, t2 = ids["t1"], ids["t2"]
    new = {r.key: r for r in sel.corrections}
    assert set(new) == {t1[0], t1[1], t2[2]}
    assert (new[t1[0]].pillar, new[t1[0]].items) == ("live", (7, 2))
    assert (new[t1[1]].pillar, new[t1[1]].theme, new[t1[1]].items) == ("work", "work.local_industry", ())
    assert all(r.origin == CORRECTION_ORIGIN for r in new.values())
    # seed 001 part I: the reviewer wins, in place; a confirmation changes nothing
    gold0 = built.gold["001"][0]
    assert set(sel.overrides) == {"001_7db842c1dad96953#1"}
    row = sel.overrides["001_7db842c1dad96953#1"]
    assert row.pillar != gold0.pillar and row.items == gold0.items and row.text == gold0.text
    assert row.theme is None  # the gold theme belongs to the old pillar
    assert sel.skipped["agrees_with_gold"] == 1
    assert sel.count == 4 and sel.used_case_ids == sorted([t1[0], t1[1], t2[2], ids["seed"]["001"][0]])
    assert sel.skipped["no_reviewer_label"] == 1  # t1[3]: reviewed, model labels accepted
    assert sel.skipped["invalid_label"] == 1 and sel.invalid == [f"{t2[3]}: pillar 'raise'"]
    assert sel.skipped["gold_copy"] == len(ids["r2"])  # the held-out document copying seed 001 part I


def test_not_a_case_is_never_used(built):
    t1, h1 = built.ids_by["t1"], built.ids_by["h1"]
    assert built.selection.skipped["not_a_case"] == 2
    assert t1[2] not in {r.key for r in built.rows}
    assert h1[3] not in {c.case_id for c in built.selection.held_out}


def test_the_seed_split_is_unchanged(built):
    base = training_rows(built.taxonomy, built.seeds)
    seed_keys = [r.key for r in base if r.origin == "case"]
    assert [r.key for r in built.rows if r.origin == "case"] == seed_keys  # same 58 + 32 cases, same order
    assert len(seed_keys) == 58 + 32 and sum(k.startswith("001_") for k in seed_keys) == 58
    assert [r.key for r in built.rows if r.origin not in ("case", CORRECTION_ORIGIN)] == \
           [r.key for r in base if r.origin != "case"]
    assert len(held_out_cases(built.seeds)) == 106
    gold_splits = {}
    for prefix, cases in built.gold.items():
        doc_id = built.doc_id(seed_file(prefix, built.seeds).name)
        gold_splits[doc_id] = {c.ordinal: c.split for c in cases}
        for c in cases:
            assert case_split(doc_id, c.ordinal, gold_splits) == c.split
    assert [case_split(built.doc_id(seed_file("001", built.seeds).name), n, gold_splits) for n in (58, 59)] == \
           ["train", "test"]
    # the selection matched every stored seed case to its gold row
    splits = store_data.Gold.load(built.seeds).splits(
        [r for name in built.records for r in built.store.query_cases(CaseQuery(doc_id=built.doc_id(name)))[0]])
    assert sum(len(v) for v in splits.values()) == 63 + 54 + 47


def test_the_held_out_rule_is_stable_as_documents_arrive(built, tmp_path):
    rng = random.Random(7)
    ids = ["".join(rng.choice("0123456789abcdef") for _ in range(64)) for _ in range(2000)]
    share = sum(held_out_document(d) for d in ids) / len(ids)
    assert HELD_OUT_MODULUS == 5 and 0.17 < share < 0.23
    before = {name: held_out_document(doc_id) for name, (doc_id, _f) in built.docs.items()}
    sel_before = built.selection

    # more documents arrive (one on each side) and are reviewed
    folder = tmp_path / "more"
    folder.mkdir()
    f = built.fresh
    late = [_casebook(folder, "late_train", [f.take(), f.take()], held_out=False),
            _casebook(folder, "late_heldout", [f.take(), f.take()], held_out=True)]
    other = Store(tmp_path / "copy.db")
    for name in reversed(list(built.records)):  # the same documents, in the opposite order
        built.add(_path_of(built, name), store=other)
    for path in late:
        built.add(path, store=other)
    _copy_reviews(built.store, other)
    for path in late:
        for cid in built.ids(path.name):
            review(other, cid, pillar="live", items=[4])
    after = select_store_cases(other, built.taxonomy, built.seeds)
    other.close()

    assert {name: held_out_document(doc_id) for name, (doc_id, _f) in built.docs.items()
            if name in before} == before
    late_train, late_held = (built.ids(p.name) for p in late)
    assert after.used_case_ids == sorted(sel_before.used_case_ids + late_train)
    assert [c.case_id for c in after.held_out] == sorted([c.case_id for c in sel_before.held_out] + late_held)
    assert after.held_out_documents == sorted(sel_before.held_out_documents + [built.doc_id(late[1].name)])
    assert sel_before.held_out_case_ids <= after.held_out_case_ids


def _path_of(built: Built, name: str) -> Path:
    return Path(built.docs[name][1]["path"])


def _copy_reviews(src: Store, dst: Store) -> None:
    """Replay the reviewers' changes of one store onto another holding the same cases."""
    for record in src.query_cases(CaseQuery(reviewed=True))[0] + src.query_cases(CaseQuery(reviewed=False))[0]:
        for entry in src.history(record["case_id"]):
            if entry["who"] in ("batch",) or entry["field"] == "case":
                continue
            source = f"reviewer:{entry['who']}" if entry["field"] != "review_status" else None
            dst.set_field(record["case_id"], entry["field"], entry["new"], entry["who"], source=source)


def test_heldout_reviewed_cases_are_the_held_out_documents_reviewed_cases(built):
    h1 = built.ids_by["h1"]
    cases = heldout_reviewed_cases(built.store, built.seeds)
    assert [c.case_id for c in cases] == sorted(h1[:3])
    assert all(isinstance(c, GoldLabelledCase) and isinstance(c, StoreLabelledCase) for c in cases)
    assert all(c.split == "test" and c.source == "store" and c.doc == built.paths["h1"].name for c in cases)
    by_id = {c.case_id: c for c in cases}
    assert (by_id[h1[0]].pillar, by_id[h1[0]].items, by_id[h1[0]].reviewer_fields) == \
           ("interact", (9,), ("pillar", "action_items"))
    assert by_id[h1[1]].pillar == "nurture" and by_id[h1[1]].reviewer_fields == ("pillar",)
    accepted = built.store.case(h1[2])
    assert by_id[h1[2]].pillar == accepted["pillar"]["label"] and by_id[h1[2]].reviewer_fields == ()
    assert by_id[h1[2]].items == tuple(a["item"] for a in accepted["action_items"])
    # copies of seed training cases in a held-out document are not scored (they were trained on)
    assert not set(built.ids_by["r2"]) & set(by_id)


def test_train_with_db_records_the_corrections_and_relabel_follows(built, tmp_path, capsys):
    models = tmp_path / "models"
    code = main(["train", "--db", str(built.db), "--models", str(models), "--no-search",
                 "--seeds", str(built.seeds)])
    out = capsys.readouterr().out
    assert code == 0
    assert "4 corrections added" in out and "reviewed cases held out" in out and "jirei relabel" in out
    sel = built.selection
    assert f"{sel.held_out_reviewed} reviewed cases held out" in out
    card = json.loads((models / "model_card.json").read_text(encoding="utf-8"))
    data = card["training_data"]
    assert data["corrections"] == 4
    assert data["store"]["name"] == "jirei.db"
    assert data["store"]["sha256"] == hashlib.sha256("\n".join(sel.used_case_ids).encode()).hexdigest()
    assert data["store"]["held_out_documents"] == len(sel.held_out_documents) == 2
    assert data["by_origin"]["correction"] == 3
    base = training_rows(built.taxonomy, built.seeds)
    assert data["sha256"] == training_sha256(built.rows) != training_sha256(base)
    assert data["rows"] == len(base) + 3
    # the version follows the training data: the same settings without the store give another
    assert main(["train", "--models", str(tmp_path / "base"), "--no-search", "--seeds", str(built.seeds)]) == 0
    capsys.readouterr()
    base_card = json.loads((tmp_path / "base" / "model_card.json").read_text(encoding="utf-8"))
    assert base_card["hyperparameters"] == card["hyperparameters"]
    assert base_card["model_version"] != card["model_version"]
    assert "corrections" not in base_card["training_data"] and "store" not in base_card["training_data"]
    runs = [r for r in built.store.runs() if r["kind"] == "train"]
    assert runs and runs[-1]["status"] == "finished" and runs[-1]["counts"]["corrections"] == 4

    assert main(["relabel", "--db", str(built.db), "--models", str(models)]) == 0
    capsys.readouterr()
    t1 = built.store.case(built.ids_by["t1"][0])
    assert t1["pillar"]["label"] == "live" and t1["sources"]["pillar"] == ["reviewer:ana"]
    unreviewed = built.store.case(built.ids_by["seed"]["004"][30])
    assert unreviewed["sources"]["pillar"] == [f"model@{card['model_version']}"]


def test_train_with_a_missing_store_fails_in_one_line(tmp_path, capsys, seeds_dir):
    code = main(["train", "--db", str(tmp_path / "none.db"), "--models", str(tmp_path / "m"),
                 "--seeds", str(seeds_dir)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "no such store" in err
    assert not (tmp_path / "m").exists() and not (tmp_path / "none.db").exists()


def test_only_reviewer_values_are_corrections():
    taxonomy = load_taxonomy()
    record = {"pillar": {"label": "work"}, "theme": {"label": "work.employment"},
              "action_items": [{"item": 3}, {"item": 8}],
              "sources": {"pillar": ["reviewer:ana"], "theme": ["model@chiiki_kyoso-63f15ec4"],
                          "action_items": ["reviewer:ana", "model@chiiki_kyoso-63f15ec4"]}}
    labels = store_data.case_labels(record, taxonomy, reviewer_only=True)
    assert (labels.pillar, labels.theme, labels.items, labels.reviewers) == ("work", None, None, ("ana",))
    # a reviewer's value written back by an undo carries the value's own source, "reviewer"
    record["sources"] = {"pillar": ["reviewer"], "action_items": ["reviewer:bo", "reviewer:bo"]}
    labels = store_data.case_labels(record, taxonomy, reviewer_only=True)
    assert (labels.pillar, labels.items, labels.reviewers) == ("work", (3, 8), ("bo",))
    accepted = store_data.case_labels(record, taxonomy, reviewer_only=False)
    assert accepted.theme == "work.employment" and accepted.reviewer_fields == ("pillar", "action_items")
    with pytest.raises(store_data.InvalidLabel):
        store_data.case_labels({**record, "action_items": [{"item": 11}]}, taxonomy, reviewer_only=True)
