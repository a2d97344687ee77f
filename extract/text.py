"""Text ingestion: encoding detection and normalisation of plain-text and markdown reports.

Contract:
    read_text(path) -> Document     kind "text"; heading marks stay in the text
    text_pages(text) -> list[Page]  the parts a text marks as pages, else []
    is_scattered_text(text) -> bool most of the text single characters set apart by spaces
    despaced(text) -> str           such lines with the spaces between their characters dropped
    word_share(text) -> float       share of characters in Sudachi dictionary words of two or more
    without_running_lines(text) -> (text, n)  paged text without its running headers and footers
    rejoined(text) -> str           lines set apart here and there with their Japanese words joined
    vertical_columns_joined(text) -> str
                                    vertical text exported a character per line, each column one line

A text whose characters are mostly set apart by spaces is letter-spaced (`地 域 の 取 組 み`, as some
OCR tools write Japanese) or a PDF of vertical pages exported line by line across its columns
(`を 成 す ( 報 労 料`: the n-th character of each column on one line). Without its spaces the first
reads as words again and is read so; the second does not (MIN_WORD_SHARE of its characters in words
of two characters or more: letter-spaced reports 0.6-0.7, the MHLW notice exported across 0.17), and
`read_text` refuses it with a one-line error rather than read hundreds of fragments as cases. In
a text with such lines here and there only (justified lines an exporter set apart, `お と 高 祭 が
開 催`), those lines' Japanese characters are joined again; digits, marks and table cells keep
their spaces (`2 0 2 5`, `| | |`).

Pages in text: a report exported or converted from a paged original marks its page breaks with a
form feed (`pdftotext`) or a thematic break (`---`, `***`, `___` alone on a line after a blank line,
as PDF-to-markdown converters write them). With at least two breaks (three parts or more), the
parts are the document's pages (`label` "part N"), so segmentation reads a page's first heading as
it reads a PDF's. A `---` right under a line of text is a markdown heading underline, no break.

Vertical pages exported a character per line: pdfminer (and the PDF-to-markdown converters built on
it) writes a vertical column as a stack of one-character lines (`本` / `則` / `を` / `次` …), a
legal notice so read giving a hundred fragments. A run of VERTICAL_RUN_MIN or more one-character
lines, nothing between them, is one column and is read as one line
(`vertical_columns_joined`); no horizontal text sets three characters on three lines.

Running headers and footers in paged text: a PDF exported to text (`pdftotext`, a converter) keeps
the masthead, issue number and date printed at the top or foot of every page (`Otoineppu` /
`public` / `relations` / `magazine`, `no.611`, `第六一一号`). Opening each page, they would stand
where a page's first heading stands. As the PDF reader drops lines repeating in a page's margin,
`read_text` drops a line found among the first or last RUNNING_EDGE lines of three pages or more
(four pages at least); a line repeated atop a few consecutive pages only (TITLE_RUN_MAX) is a
case's title over the pages it runs over, and stays.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from jirei.extract.forms import FIELD_LABELS
from jirei.nlp import sudachi_tokenizer
from jirei.normalise import normalise  # noqa: F401  (the stages' text normalisation)
from jirei.records import Document, IngestError, Page, sha256_bytes

# Japanese offices send UTF-8, CP932 (Windows Shift_JIS) and EUC-JP; these are the only
# encodings tried, so a detector cannot wander off to e.g. a Cyrillic code page.
CANDIDATE_ENCODINGS = ("utf_8", "cp932", "euc_jp")

_BOMS = ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"), (codecs.BOM_UTF16_BE, "utf_16"))

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


_PAGE_BREAK = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.M)
MIN_BREAKS = 2


def text_pages(text: str) -> list[Page]:
    """The parts between a text's page breaks, as pages covering the text (each break line ends
    the part before it); [] when the text marks fewer than MIN_BREAKS breaks."""
    starts = [0]
    for m in _PAGE_BREAK.finditer(text):
        before = text[: m.start()].rstrip(" \t")
        if before and not before.endswith("\n\n"):
            continue  # `見出し\n---`: a heading's underline
        if not text[starts[-1] : m.start()].strip():
            continue  # nothing since the last break (a leading break, front matter, a double rule)
        starts.append(min(m.end() + 1, len(text)))
    if not text[starts[-1] :].strip():
        starts.pop()  # a closing break with nothing after it
    if len(starts) < MIN_BREAKS + 1:
        return []
    ends = starts[1:] + [len(text)]
    return [Page(number=i, start=s, end=e, label=f"part {i}") for i, (s, e) in enumerate(zip(starts, ends), 1)]


def read_text(path: str | Path) -> Document:
    """Read a .txt/.md report into a Document (heading marks stay in the text; pages where the text
    marks page breaks, `text_pages`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(str(path), f"cannot read file ({exc.strerror})") from exc
    if not data.strip():
        raise IngestError(str(path), "empty file")
    text, encoding = decode(data, str(path))
    text = normalise(text.replace("\f", "\n\n---\n\n"))  # a form feed is a page break
    if not text.strip():
        raise IngestError(str(path), "no text after decoding")
    text = vertical_columns_joined(text)
    text, _ = without_running_lines(text)
    if is_scattered_text(text):
        # letter-spaced text (`地 域 の 取 組 み`, as some OCR tools write Japanese) reads once its
        # spaces go; a vertical page exported across its columns does not
        text = despaced(text)
        if word_share(text) < MIN_WORD_SHARE:
            raise IngestError(str(path), "most of the text is single characters set apart by spaces, and joined "
                                         "they make no words (vertical pages exported across their columns?): "
                                         "no sentence can be read; submit the PDF")
    else:
        text = rejoined(text)
    return Document(
        doc_id=sha256_bytes(data),
        name=path.name,
        path=str(path),
        kind="text",
        text=text,
        pages=text_pages(text),
        encoding=encoding,
    )


_SPACES = re.compile(r"[ \t\u3000]+")
RUNNING_EDGE = 6  # lines at the top and at the foot of a page where a running header or footer stands
RUNNING_PAGES = 3  # pages a line must repeat on to be a running header or footer
RUNNING_MIN_PAGES = 4  # pages a text must have for any line to be one
RUNNING_MAX_CHARS = 40
TITLE_RUN_MAX = 5  # as the PDF reader: a title repeated atop at most this many consecutive pages
# A line opening with a numbering or box mark or a markdown heading mark is a part label
# (`[現状と課題]` atop each measure of a strategy, `【概要】`, `## 成果`), which the segmentation
# reads, not a running header; nor is a sentence or a field label (`_is_field_label`).
_MARKED = re.compile(r"^[#\[［【〔〈《<＜≪(（■□◆◇●○◎★☆▲△▼▽▶✓✔☑※①-⑳㉑-㉟㊱-㊿]")
_LABELS = frozenset(label for labels in FIELD_LABELS.values() for label in labels)


def _is_field_label(key: str) -> bool:
    """A form's or a case sheet's field label on a line of its own (`事業名`, `実施主体:`), which
    every page of such a report repeats near its top: the fields read it, it is no running header."""
    return key.endswith((":", "：")) or key in _LABELS


def without_running_lines(text: str) -> tuple[str, int]:
    """`text` without the lines repeating at its pages' edges (see the module docstring), and how
    many lines went. Text without pages (`text_pages`) is returned as it is."""
    pages = text_pages(text)
    if len(pages) < RUNNING_MIN_PAGES:
        return text, 0
    # each page's non-blank lines as (offset, key); the key ignores spacing (`A u g .` = `Aug.`)
    page_lines = []
    for page in pages:
        lines, pos = [], page.start
        after_label = False
        for raw in text[page.start : page.end].split("\n"):
            key = _SPACES.sub("", raw)
            if key and not _PAGE_BREAK.match(raw):
                # a field label and the value under it (`実施主体` / `長野県`, the same on every
                # sheet of a prefecture's list) are the report's fields: never running lines
                label = _is_field_label(key)
                if not (label or after_label):
                    lines.append((pos, pos + len(raw) + 1, key))
                after_label = label
            pos += len(raw) + 1
        page_lines.append(lines)
    edges = [set(lines[:RUNNING_EDGE] + lines[-RUNNING_EDGE:]) for lines in page_lines]
    where: dict[str, list[int]] = {}
    for n, edge in enumerate(edges):
        for key in {k for _, _, k in edge}:
            if len(key) <= RUNNING_MAX_CHARS and not _MARKED.match(key) and not key.endswith("。"):
                where.setdefault(key, []).append(n)
    running = {key for key, on in where.items()
               if len(on) >= RUNNING_PAGES and not (len(on) <= TITLE_RUN_MAX and on[-1] - on[0] == len(on) - 1)}
    if not running:
        return text, 0
    drop = [(a, z) for edge in edges for a, z, k in edge if k in running]
    out, last = [], 0
    for a, z in sorted(drop):
        out.append(text[last:a])
        last = min(z, len(text))
    out.append(text[last:])
    return "".join(out), len(drop)


SCATTERED_SHARE = 0.7  # share of a text's characters in scattered lines that makes it scattered
MIN_WORD_SHARE = 0.4  # share of characters in dictionary words under which joined text makes no words
WORD_SAMPLE = 20000  # characters of a text `word_share` reads
WORD_LINE = 4000  # characters of one line it reads (12 KB of UTF-8 at most)


_CJK = "\u3041-\u309f\u30a0-\u30ff\u4e00-\u9fff々〆"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")


def _scattered(line: str) -> bool:
    pieces = line.split()
    return len(pieces) >= 3 and sum(len(p) == 1 for p in pieces) >= 0.8 * len(pieces)


def rejoined(text: str) -> str:
    """`text` with its scattered lines' Japanese characters joined (a justified line an exporter set
    apart, `お と 高 祭 が 開 催`); digits, marks and table cells keep their spaces (`2 0 2 5`)."""
    return "\n".join(_CJK_GAP.sub("", ln) if _scattered(ln) else ln for ln in text.split("\n"))


def is_scattered_text(text: str) -> bool:
    """Are most of `text`'s characters (SCATTERED_SHARE) on lines of single characters set apart by
    spaces, three or more, four in five of the line's pieces? A letter-spaced cover line or date
    (`2 0 2 5`) here and there is not: a whole text so is a vertical page read across its columns
    (a village newsletter exported to text has up to a third of its characters so; the MHLW
    notice's vertical pages, 97%)."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    total = sum(len(ln) for ln in lines)
    return total > 0 and sum(len(ln) for ln in lines if _scattered(ln)) >= SCATTERED_SHARE * total


def despaced(text: str) -> str:
    """`text` with its scattered lines' pieces joined (a space kept only between two Latin words)."""
    out = []
    for line in text.split("\n"):
        if not _scattered(line):
            out.append(line)
            continue
        joined = ""
        for piece in line.split():
            latin = joined[-1:].isascii() and joined[-1:].isalnum() and piece[:1].isascii() and piece[:1].isalnum()
            joined += (" " if latin and len(piece) > 1 and len(joined.split(" ")[-1]) > 1 else "") + piece
        out.append(joined)
    return "\n".join(out)


def word_share(text: str) -> float:
    """The share of the first WORD_SAMPLE characters (spaces aside) that Sudachi reads as dictionary
    words of two characters or more: about two thirds in Japanese prose, a sixth in characters
    thrown together."""
    tokenizer = sudachi_tokenizer()
    total = words = 0
    for line in text[:WORD_SAMPLE].split("\n"):
        line = _SPACES.sub("", line)[:WORD_LINE]  # Sudachi refuses inputs over ~49 KB
        if not line:
            continue
        for m in tokenizer.tokenize(line):
            n = len(m.surface())
            total += n
            words += n if n >= 2 and not m.is_oov() else 0
    return words / total if total else 0.0


VERTICAL_RUN_MIN = 3  # one-character lines in a row that make a vertical column


def vertical_columns_joined(text: str) -> str:
    """`text` with each run of VERTICAL_RUN_MIN or more one-character lines (a vertical column
    exported a character per line) joined into one line."""
    lines = text.split("\n")
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= VERTICAL_RUN_MIN:
            out.append("".join(c.strip() for c in run))
        else:
            out.extend(run)
        run.clear()

    for line in lines:
        if len(line.strip()) == 1:
            run.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return "\n".join(out)
