"""Per format: cases found vs expected and declared fields recovered, on files built from the seeds.

The same files the tests build (`tests/office_fixtures.py`): seed 001's entries declared as
submission forms in UTF-8 and CP932 text, Word (label table, label paragraphs), PDF (Chromium)
and a 20-row Excel case list; seed 003 as a PowerPoint deck; bad Office files. Prints a table;
asserts nothing.

    .venv/bin/python scripts/office_forms_report.py [--forms N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import unicodedata
from collections import defaultdict
from pathlib import Path

from jirei import paths
from jirei.extract.entities import extract_entities
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.records import IngestError

sys.path.insert(0, str(paths.REPO / "tests"))
import office_fixtures as of  # noqa: E402
import pdf_fixtures  # noqa: E402
from conftest import seed_file  # noqa: E402
from test_office import bad_office_files  # noqa: E402

FIELDS = ("organisation", "title", "place", "period", "partners", "summary", "results")


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--forms", type=int, default=10, help="seed entries per single-form format (default: %(default)s)")
    args = ap.parse_args()
    s001, s003 = seed_file("001"), seed_file("003")
    if s001 is None or s003 is None:
        print("seeds 001 and 003 are needed (../shared/seeds)")
        return 1
    from jirei.extract.entities import MentionRecogniser

    nlp = MentionRecogniser(1)
    subs = [s for s in of.seed_submissions(s001) if _cp932_ok(of.form_text(s))]
    singles, listed = subs[: args.forms], subs[:20]
    rows = defaultdict(lambda: defaultdict(int))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = []
        for n, s in enumerate(singles):
            p = tmp / f"f{n}.txt"
            p.write_text(of.form_text(s), encoding="utf-8")
            files.append(("form .txt UTF-8", p, s))
            p = tmp / f"f{n}.cp932.txt"
            p.write_bytes(of.form_text(s).encode("cp932"))
            files.append(("form .txt CP932", p, s))
            files.append(("form .docx table", of.form_docx(s, tmp / f"t{n}.docx", True), s))
            files.append(("form .docx paragraphs", of.form_docx(s, tmp / f"p{n}.docx", False), s))
            if not pdf_fixtures.chromium_missing_reason():
                files.append(("form .pdf (Chromium)", pdf_fixtures.render_pdf(of.form_html(s), tmp / f"f{n}.pdf"), s))
                files.append(("form .pdf table (Chromium)",
                              pdf_fixtures.render_pdf(of.form_html(s, True), tmp / f"ft{n}.pdf"), s))
        for fmt, path, s in files:
            doc = ingest(path)
            cases = segment(doc)
            extract_entities(doc, cases, nlp)
            _score(rows[fmt], cases, [s], doc)
        doc = ingest(of.cases_xlsx(listed, tmp / "list.xlsx"))
        cases = segment(doc)
        extract_entities(doc, cases, nlp)
        _score(rows[".xlsx case list (20 rows)"], cases, listed, doc)

        seed_cases = segment(ingest(s003))
        path, two = of.deck_pptx(seed_cases, tmp / "003.pptx")
        deck = ingest(path)
        deck_cases = segment(deck)
        bad = bad_office_files(tmp / "bad")
        refused = 0
        for p, words in bad.items():
            try:
                ingest(p)
            except IngestError as exc:
                refused += words in str(exc) and "\n" not in str(exc)

    print(f"{'format':<28} {'files':>5} {'cases/expected':>15} {'lead=gold':>9} {'place=gold':>10} "
          f"{'title':>5}  declared fields recovered / declared")
    for fmt, r in rows.items():
        fields = "  ".join(f"{f} {r['got_' + f]}/{r['want_' + f]}" for f in FIELDS if r["want_" + f])
        print(f"{fmt:<28} {r['files']:>5} {str(r['cases']) + '/' + str(r['expected']):>15} {r['lead']:>9} "
              f"{r['place']:>10} {r['title']:>5}  {fields}")
    equal = sum(a.text == b.text for a, b in zip(seed_cases, deck_cases))
    print(f"{'.pptx seed 003 deck':<28} {1:>5} {str(len(deck_cases)) + '/' + str(len(seed_cases)):>15}  "
          f"texts equal to the seed's: {equal}/{len(seed_cases)}; entries over two slides: {two}; "
          f"slides: {len(deck.pages)}; speaker notes kept apart: {len(deck.speaker_notes)}")
    print(f"bad Office files refused in one line: {refused}/{len(bad)} ({', '.join(p.name for p in bad)})")
    return 0


def _cp932_ok(text: str) -> bool:
    try:
        text.encode("cp932")
        return True
    except UnicodeEncodeError:
        return False


def _score(r, cases, subs, doc) -> None:
    r["files"] += 1
    r["cases"] += len(cases)
    r["expected"] += len(subs)
    if len(cases) != len(subs):
        return
    for case, s in zip(cases, subs):
        lead = [o["name"] for o in case.organisations if o["role"] == "lead" and o["source"] == "declared"]
        r["lead"] += lead == [s.organisation]
        declared = [(p["prefecture"], p["municipality"]) for p in case.places if p["source"] == "declared"]
        in_field = [g for g in s.gold_places if g[1] and g[1] in s.place_text] \
            or [g for g in s.gold_places if g[1] is None and g[0] in s.place_text]
        r["place"] += declared == in_field
        r["title"] += case.title == nfkc(s.title)
        want = {"organisation": True, "title": True, "place": True, "period": bool(s.period),
                "partners": doc.kind != "xlsx", "summary": True, "results": doc.kind != "xlsx"}
        for f in FIELDS:
            if want[f]:
                r["want_" + f] += 1
                r["got_" + f] += f in case.declared


if __name__ == "__main__":
    raise SystemExit(main())
