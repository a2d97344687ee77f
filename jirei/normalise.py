"""Text normalisation shared by every floor: ingestion, the store's search, evaluation.

`normalise(text)` is what every span in Jirei refers to: NFKC, with the folds report text
needs on top. Part of the ground floor: imports nothing from Jirei.
"""

from __future__ import annotations

import re
import unicodedata

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
