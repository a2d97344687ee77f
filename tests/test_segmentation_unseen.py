"""Real PDFs in layouts no declared rule set knows: the general fallback must still give sensible entries."""

import pytest

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

PDFS = paths.shared_dir() / "pdfs"
pytestmark = pytest.mark.skipif(not PDFS.is_dir(), reason=f"real PDFs not found at {PDFS}")


def test_village_newsletter_articles_become_entries():
    doc = ingest(PDFS / "otoineppu_kouhou_2023-09.pdf")
    cases = segment(doc)
    assert {c.layout for c in cases} == {"fallback"}
    titles = {c.title: c for c in cases}
    assert len(cases) >= 10
    festival = titles["森と匠の村ふるさと納涼まつり"]
    workshop = titles["エコミュージアムでワークショップ"]
    assert festival.page == 2 and workshop.page == 3
    assert festival.span[1] <= workshop.span[0]  # one article does not swallow the next
    assert all(doc.text[c.span[0] : c.span[1]] == c.text for c in cases)


def test_model_rules_and_official_notice_are_not_read_as_slide_decks():
    # no place-naming heads over bullets: the slide rule set must not claim these documents
    for name in ("mhlw_model_shugyo_kisoku_R4-11.pdf", "otoineppu_sogosenryaku.pdf"):
        cases = segment(ingest(PDFS / name))
        assert cases and {c.layout for c in cases} == {"fallback"}, name
