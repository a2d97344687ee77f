"""Ingestion: a path (file or folder) in, Documents out; unreadable files reported, not fatal.

Text (.txt/.md), PDF and Office files (.docx/.pptx/.xlsx; legacy, encrypted and macro-enabled ones
are refused with one line) are read; the contact fields of a submission form are then taken out of
the text (`jirei.extract.forms.separate_contacts`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from jirei.records import Document, IngestError

from .text import read_text

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
PDF_SUFFIXES = {".pdf"}
# Office suffixes include the refused ones (.doc, .docm …) so that a folder's legacy or
# macro-enabled files get their one-line reason instead of being skipped silently.
OFFICE_SUFFIXES = {".docx", ".pptx", ".xlsx", ".doc", ".ppt", ".xls", ".docm", ".pptm", ".xlsm"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | OFFICE_SUFFIXES


def ingest(path: str | Path) -> Document:
    """Read one report. Raises IngestError with a one-line problem for a bad file."""
    from .forms import separate_contacts

    return separate_contacts(_read(Path(path)))


def _read(path: Path) -> Document:
    path = Path(path)
    if not path.exists():
        raise IngestError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        from .pdf import read_pdf  # pdfplumber is only imported when a PDF comes in

        return read_pdf(path)
    if suffix in TEXT_SUFFIXES:
        return read_text(path)
    from .office import SUFFIXES as OFFICE

    if suffix in OFFICE:
        from .office import read_office  # python-docx/pptx/openpyxl only when an Office file comes in

        return read_office(path)
    raise IngestError(str(path), f"unsupported file type {suffix or '(none)'} "
                                 "(expected .pdf, .txt, .md, .docx, .pptx or .xlsx)")


def expand_inputs(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the report files under named folders (sorted, recursive)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            yield p
