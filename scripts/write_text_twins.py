"""Write the real PDFs with segmentation gold as the text files a user might send instead of the PDF,
so that the shipped model's reading of them can be scored:

    .venv/bin/python scripts/write_text_twins.py out/text-twins
    .venv/bin/jirei evaluate segmentation --gold corpus/segmentation/pdfs out/text-twins/*.txt

Per PDF in the shared `pdfs/` folder with gold in corpus/segmentation/pdfs/:
- `<stem>.as-text.txt`: its text as Jirei's PDF reader gives it, without pages or typography (the
  `… as text` twin of `jirei evaluate segmentation --cv document`);
- `<stem>.exported.txt`: its text as PDF-to-text exporters write it (pdfplumber's plain
  `extract_text`: one line per printed line, no blank lines, a form feed between pages);
- `<stem>.pdftotext.txt`: its text as poppler's `pdftotext` writes it (blocks set apart by blank
  lines, often mid-paragraph where the line spacing varied; a form feed between pages), when
  `pdftotext` (Debian poppler-utils) is installed;
- `<stem>.pdfminer.txt`: its text as pdfminer.six's `extract_text` writes it (a text box per block,
  often one per printed line with a blank line after each; a form feed between pages), as the
  PDF-to-markdown converters built on pdfminer give it.
Every name starts with the PDF's stem, so `jirei evaluate segmentation` pairs it with its gold.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pdfplumber
from pdfminer.high_level import extract_text as pdfminer_text

from jirei import paths
from jirei.evaluation.segmentation_cv import as_text
from jirei.extract.ingest import ingest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    pdfs = paths.shared_dir() / "pdfs"
    for gold in sorted((paths.SEGMENTATION_GOLD / "pdfs").glob("*.json")):
        pdf = pdfs / f"{gold.stem}.pdf"
        if not pdf.is_file():
            print(f"{pdf}: not found, skipped", file=sys.stderr)
            continue
        (out / f"{gold.stem}.as-text.txt").write_text(as_text(ingest(pdf)).text, encoding="utf-8")
        with pdfplumber.open(pdf) as doc:
            exported = "\f".join(page.extract_text() or "" for page in doc.pages)
        (out / f"{gold.stem}.exported.txt").write_text(exported, encoding="utf-8")
        (out / f"{gold.stem}.pdfminer.txt").write_text(pdfminer_text(str(pdf)), encoding="utf-8")
        written = "as-text, exported, pdfminer"
        if shutil.which("pdftotext"):
            subprocess.run(["pdftotext", str(pdf), str(out / f"{gold.stem}.pdftotext.txt")], check=True,
                           capture_output=True)
            written += " and pdftotext"
        print(f"{gold.stem}: {written} written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
