"""The source file behind a case: is it still there, unchanged, and a PNG of a PDF page.

The store keeps each document's path and sha256 (its doc_id). A case page shows the PDF page
only when the file at that path still has those bytes; otherwise it says the file is gone or
now holds another version. Pages are rendered with pypdfium2 (pdfplumber's own dependency) and
kept in a small in-memory cache; PDFium is not thread-safe, so rendering is serialised."""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

RENDER_SCALE = 1.6  # 72 dpi × 1.6 ≈ 115 dpi: A4 about 950 px wide, sharp enough for Japanese text
CACHE_PAGES = 48


@dataclass(frozen=True)
class SourceFile:
    status: str  # ok | missing | changed | unreadable
    path: Path | None
    note: str  # what the case page says when status is not ok


class PageImages:
    def __init__(self, search_dirs: list[Path]):
        self.search_dirs = search_dirs  # where relative document paths are looked for
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, int, int], str] = {}
        self._pngs: OrderedDict[tuple[str, int], bytes] = OrderedDict()

    def _candidates(self, stored_path: str) -> list[Path]:
        p = Path(stored_path)
        return [p] if p.is_absolute() else [Path.cwd() / p] + [d / p for d in self.search_dirs]

    def _digest(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._digests:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            self._digests[key] = h.hexdigest()
        return self._digests[key]

    def source(self, doc: dict) -> SourceFile:
        """The document's file as it is now."""
        for path in self._candidates(doc["path"]):
            if not path.is_file():
                continue
            try:
                digest = self._digest(path)
            except OSError as exc:
                return SourceFile("unreadable", path, f"The file {doc['path']} cannot be read ({exc.strerror}).")
            if digest != doc["doc_id"]:
                return SourceFile("changed", path,
                                  f"The file {doc['path']} now holds other bytes than the version this case was "
                                  "extracted from; its pages are not shown. The text below is the stored extraction.")
            return SourceFile("ok", path, "")
        return SourceFile("missing", None,
                          f"The file {doc['path']} is no longer there (moved or deleted). "
                          "The text below is the stored extraction; no page image can be shown.")

    def png(self, doc: dict, page: int) -> bytes | None:
        """PNG bytes of a 1-based page of the document's PDF, or None when the file is not the
        stored one or has no such page."""
        source = self.source(doc)
        if source.status != "ok" or doc.get("kind") != "pdf":
            return None
        key = (doc["doc_id"], page)
        with self._lock:
            if key in self._pngs:
                self._pngs.move_to_end(key)
                return self._pngs[key]
            data = _render(source.path, page)
            if data is not None:
                self._pngs[key] = data
                while len(self._pngs) > CACHE_PAGES:
                    self._pngs.popitem(last=False)
            return data


def _render(path: Path, page: int) -> bytes | None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page <= len(pdf):
            return None
        bitmap = pdf[page - 1].render(scale=RENDER_SCALE)
        buf = io.BytesIO()
        bitmap.to_pil().save(buf, format="PNG", optimize=False)
        return buf.getvalue()
    finally:
        pdf.close()
