"""Text ingestion: encoding detection and normalisation of plain-text and markdown reports."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from jirei.records import Document, IngestError, sha256_bytes

# Japanese offices send UTF-8, CP932 (Windows Shift_JIS) and EUC-JP; these are the only
# encodings tried, so a detector cannot wander off to e.g. a Cyrillic code page.
CANDIDATE_ENCODINGS = ("utf_8", "cp932", "euc_jp")

_BOMS = ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"), (codecs.BOM_UTF16_BE, "utf_16"))

# Characters NFKC leaves alone but PDFs and Word emit in Japanese text: CJK Radicals
# Supplement look-alikes (fonts map 長 民 西 to ⻑ ⺠ ⻄; NFKC folds only the Kangxi block), the
# hyphenation point some fonts give for the middle dot ・, and dash and space variants.
_RADICAL_LOOKALIKES = {
    "⺟": "母", "⺠": "民", "⺬": "示", "⺮": "竹", "⻁": "虎", "⻄": "西", "⻆": "角", "⻑": "長", "⻘": "青",
    "⻝": "食", "⻤": "鬼", "⻨": "麦", "⻩": "黄", "⻫": "斉", "⻭": "歯", "⻯": "竜", "⻲": "亀", "⻖": "阝",
    # a glyph Japanese fonts share between 戸 and 戶, which PDF text maps back to 戶
    "戶": "戸",
}
_EXTRA_FOLDS = str.maketrans(
    {"\u2212": "-", "\u301c": "~", "\u00a0": " ", "\u3000": " ", "\u2027": "・", "\u2215": "/", **_RADICAL_LOOKALIKES}
)
_CIRCLED = re.compile(r"([\u2460-\u2473\u00b9\u00b2\u00b3\u2070\u2074-\u2079])")
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\ufeff]")


def normalise(text: str) -> str:
    """NFKC (folds Kangxi radicals ⼈→人 and full-width alphanumerics; circled numbers kept), unified newlines,
    control characters dropped, trailing spaces trimmed. Markdown marks are kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # NFKC would turn ①..⑳ into plain digits (they number case entries) and footnote marks
    # ¹²³ into digits glued to the word before them (取り組み¹ -> 取り組み1): both are kept.
    parts = _CIRCLED.split(text)
    text = "".join(p if _CIRCLED.fullmatch(p) else unicodedata.normalize("NFKC", p) for p in parts)
    text = text.translate(_EXTRA_FOLDS)
    text = _CONTROL.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def decode(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Decode report bytes; returns (text, encoding). Raises IngestError when nothing fits."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc), enc
    try:
        return data.decode("utf_8"), "utf_8"
    except UnicodeDecodeError:
        pass
    decodable = []
    for enc in CANDIDATE_ENCODINGS[1:]:
        try:
            decodable.append((enc, data.decode(enc)))
        except UnicodeDecodeError:
            continue
    if not decodable:
        raise IngestError(name, "not decodable as UTF-8, CP932 (Shift_JIS) or EUC-JP")
    if len(decodable) == 1:
        return decodable[0][1], decodable[0][0]
    # Both legacy encodings decode: let charset_normalizer judge which reads as language.
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=[enc for enc, _ in decodable]).best()
    if best is not None:
        enc = codecs.lookup(best.encoding).name.replace("-", "_")
        for cand, text in decodable:
            if codecs.lookup(cand).name.replace("-", "_") == enc:
                return text, cand
    return max(decodable, key=lambda et: _japanese_share(et[1]))[::-1]


def _japanese_share(text: str) -> float:
    if not text:
        return 0.0
    jp = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    return jp / len(text)


def read_text(path: str | Path) -> Document:
    """Read a .txt/.md report into a Document (no pages; heading marks stay in the text)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(str(path), f"cannot read file ({exc.strerror})") from exc
    if not data.strip():
        raise IngestError(str(path), "empty file")
    text, encoding = decode(data, str(path))
    text = normalise(text)
    if not text.strip():
        raise IngestError(str(path), "no text after decoding")
    return Document(
        doc_id=sha256_bytes(data),
        name=path.name,
        path=str(path),
        kind="text",
        text=text,
        encoding=encoding,
    )
