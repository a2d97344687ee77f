"""The case-boundary model across documents: `jirei evaluate segmentation --cv document`, and the
committed model's card (training documents, held-out rule, routes chosen by the evidence)."""

import json
from pathlib import Path

import pytest

from jirei import paths
from jirei.cli import main
from jirei.evaluation.segmentation import SegmentationScore
from jirei.evaluation.segmentation_cv import micro

CARD = paths.MODELS / "segmenter_card.json"
MODEL = paths.MODELS / "segmenter.crfsuite"


def test_card_describes_the_committed_model_and_keeps_the_heldout_out():
    import hashlib

    card = json.loads(CARD.read_text(encoding="utf-8"))
    assert card["sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    names = [d["name"] for d in card["training_documents"]]
    assert any("001" in n and "part I)" in n for n in names)
    for d in card["training_documents"]:
        # seed 001 part II, 003 and 004 (text, renderings, re-typeset layouts) never train
        assert "part II" not in d["name"] and "heldout" not in d["name"]
        assert not d["name"].startswith(("003_", "004_"))
    assert {"declared", "fallback"} <= set(card["routes"])
    for route in card["routes"].values():
        assert route["path"] in ("crf", "rules")


def test_routes_are_looked_up_from_a_kind_in_its_medium_to_the_pooled_pdf_evidence(tmp_path):
    from jirei.extract.segment import find_route, rules_decide
    from jirei.extract.text import read_text

    card = json.loads(CARD.read_text(encoding="utf-8"))
    routes = card["routes"]
    # a declared layout without evidence of its own in a medium takes the declared layouts' pooled route
    assert find_route(routes, "no-such-layout", "/text") == routes["declared/text"]
    assert find_route(routes, "no-such-layout", "") == routes["declared"]
    # the fallback never borrows the declared layouts' evidence: without its own it is the CRF's
    assert find_route({"declared": routes["declared"]}, "fallback", "/text") == {}
    assert find_route(routes, "fallback", "/paged") == routes["fallback/paged"]
    # a card chosen before media had keys: the PDFs' route, whose evidence check rules on text
    pdf_only = {"fallback": {"path": "crf", "documents": ["a.pdf", "b.pdf"]}}
    (tmp_path / "report.txt").write_text("令和6年度の取組\n村の事業を紹介します。\n", encoding="utf-8")
    doc = read_text(tmp_path / "report.txt")
    assert find_route(pdf_only, "fallback", "/text") == pdf_only["fallback"]
    assert rules_decide(pdf_only, doc, "fallback")  # no text among the route's evidence


def test_a_route_chosen_on_one_document_of_its_medium_leaves_the_rules_deciding(tmp_path):
    from jirei.evaluation.segmentation_cv import CVRow, DevDoc, format_cv_table
    from jirei.evaluation.segmentation import Gold
    from jirei.extract.segment import route_path
    from jirei.extract.text import read_text

    one_text = {"path": "crf", "documents": ["001.txt (part I)"]}
    two_texts = {"path": "crf", "documents": ["001.txt (part I)", "report.pdf as text"]}
    assert route_path(one_text, pdf=False) == "rules" and route_path(two_texts, pdf=False) == "crf"
    assert route_path({"path": "rules", "documents": ["a.pdf", "b.pdf"]}, pdf=True) == "rules"
    # the CV table says what decides in effect, not only what the route chose
    (tmp_path / "report.txt").write_text("令和6年度の取組\n村の事業を紹介します。\n", encoding="utf-8")
    doc = read_text(tmp_path / "report.txt")
    score = SegmentationScore(doc="report.txt", layout="crf", predicted=0, gold=0, matched=0, ends_included=0,
                              missed=[], spurious=[], truncated=[])
    row = CVRow(DevDoc("report.txt", "report", "text", doc, Gold(doc="report.txt", sha256=doc.doc_id, cases=[]), "seed text"),
                score, score, score)
    table = format_cv_table([row], "cv", {"casebook/text": one_text, "fallback/text": two_texts})
    assert "casebook/text: crf (too few documents: rules)" in table and "fallback/text: crf)" in table


@pytest.mark.slow
def test_cv_document_prints_per_document_figures_and_beats_the_page_baseline_on_real_pdfs(
    seeds_dir, pdfs_dir, tmp_path, capsys
):
    empty = tmp_path / "none"  # no renderings: seed texts and real PDFs only, to keep the test short
    args = ["evaluate", "segmentation", "--cv", "document", "--seeds", str(seeds_dir), "--pdfs", str(pdfs_dir),
            "--renderings", str(empty), "--layouts", str(empty)]
    assert main(args) == 0
    table = capsys.readouterr().out
    for needle in ("leave-one-document-out", "page F1", "rules F1", "overall: all", "overall, as segment() routes",
                   "otoineppu_kouhou_2023-09.pdf", "mhlw_model_shugyo_kisoku_R4-11.pdf",
                   "001_7db842c1dad96953.txt (part I)", "held-out seeds", "001_7db842c1dad96953.txt (part II)",
                   "003_a912029e63bdb806.txt", "004_1e7916743c47c828.txt"):
        assert needle in table, needle

    assert main(args + ["--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = [r for r in result["cv"] if r["kind"] == "real PDF"]
    assert len(rows) == 6

    def pooled(system: str) -> float:
        scores = [SegmentationScore(r["doc"], "-", r[system]["predicted"], r[system]["gold"], r[system]["matched"],
                                    0) for r in rows]
        return micro(scores)["F1"]

    routed = result["routes"]["fallback"]["path"]
    assert pooled(routed) > pooled("page")
    # the held-out seeds were scored by a model fitted on the development documents only
    assert {r["doc"] for r in result["heldout"]} >= {"003_a912029e63bdb806.txt", "004_1e7916743c47c828.txt"}


def test_the_medium_a_text_file_is_routed_by(tmp_path):
    """A text file marking page breaks is paged text; one without them but with markdown heading
    marks (a converter that reads font sizes) is markdown; other text is text. Each has its own
    route in the card, chosen by the cross-validation on the real PDFs' twins in that medium."""
    from jirei.extract.segment import find_route, route_medium
    from jirei.extract.text import read_text

    article = "## 夏の新たな風物詩!\n\n8月17日、第1回目となる納涼まつりが行われました。\n\n"
    (tmp_path / "paged.md").write_text("\n---\n\n".join([article] * 3), encoding="utf-8")
    (tmp_path / "unpaged.md").write_text(article * 3, encoding="utf-8")
    (tmp_path / "plain.txt").write_text(article.replace("## ", "") * 3, encoding="utf-8")
    media = [route_medium(read_text(tmp_path / n)) for n in ("paged.md", "unpaged.md", "plain.txt")]
    assert media == ["/paged", "/markdown", "/text"]
    routes = json.loads(CARD.read_text(encoding="utf-8"))["routes"]
    documents = find_route(routes, "fallback", "/markdown")["documents"]
    assert documents and all(d.endswith("as unpaged markdown") for d in documents)
