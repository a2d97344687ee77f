"""Ingestion: a path (file or folder) in, Documents out; unreadable files reported, not fatal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from jirei.records import Document, IngestError

from .text import read_text

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
PDF_SUFFIXES = {".pdf"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES


def ingest(path: str | Path) -> Document:
    """Read one report. Raises IngestError with a one-line problem for a bad file."""
    path = Path(path)
    if not path.exists():
        raise IngestError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        from .pdf import read_pdf  # pdfplumber is only imported when a PDF comes in

        return read_pdf(path)
    if suffix in TEXT_SUFFIXES:
        return read_text(path)
    raise IngestError(str(path), f"unsupported file type {suffix or '(none)'} (expected .pdf, .txt or .md)")


def expand_inputs(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the report files under named folders (sorted, recursive)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            yield p
