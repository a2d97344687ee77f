"""Typed records passed between Jirei's stages.

ingest -> Document; segment -> [Case]; later stages return Cases with more fields filled.
One schema serves JSONL output, the case store and the reviewer app, so it lives here and
nowhere else.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Page:
    """A page of a PDF (or a slide, a sheet's row) as a span of the document's extracted text.

    `number` is 1-based. `label` names the page as the source does ("slide 3", "sheet 事例一覧
    row 5"; None for PDF pages, which are named by number). `source` is "text" (a text layer or
    the file's own text) or "ocr" (recognised from the page image, with its mean word
    confidence 0-100 in `ocr_confidence`). `needs_ocr` marks a page whose text could not be read."""

    number: int
    start: int
    end: int
    needs_ocr: bool = False
    label: str | None = None
    source: str = "text"
    ocr_confidence: float | None = None


@dataclass
class Document:
    """A report after ingestion.

    `text` is the normalised (NFKC) extracted text that every span refers to.
    `pages` is empty for text files. `line_levels` maps the offset where a line starts to a
    heading level (1 = most prominent) that the source's typography gave it (font size and
    weight in a PDF, styles and outline levels in Word, slide titles in PowerPoint); text files
    carry their heading levels as markdown marks in `text` instead.
    `page_boxes` place a PDF's lines on their pages (the reviewer app marks a case's region).
    `speaker_notes` ({"page", "text"}) are a slide deck's notes, kept out of `text` (they are not
    case text). `contacts` ({"label", "value", "page"}) are the contact fields of a submission form
    (担当者, 電話, メール …): personal data, taken out of `text` at ingestion so that no later stage,
    store or model sees them.
    """

    doc_id: str  # sha256 of the file's bytes
    name: str  # file name
    path: str
    kind: str  # "pdf" | "text" | "docx" | "pptx" | "xlsx"
    text: str
    pages: list[Page] = field(default_factory=list)
    line_levels: dict[int, int] = field(default_factory=dict)
    encoding: str | None = None
    doc_date: str | None = None
    warnings: list[str] = field(default_factory=list)
    speaker_notes: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    # Where each line of a PDF page is: {"page", "width", "height" (PDF points), "lines": [[start,
    # end, x0, top, x1, bottom], ...]} with document offsets (pages read by OCR have none).
    page_boxes: list[dict[str, Any]] = field(default_factory=list)

    def page_for(self, offset: int) -> Page | None:
        """The Page holding `offset`, or None for documents without pages."""
        if not self.pages:
            return None
        starts = [p.start for p in self.pages]
        i = bisect.bisect_right(starts, offset) - 1
        return self.pages[max(i, 0)]

    def page_at(self, offset: int) -> int | None:
        """1-based page number holding `offset`, or None for documents without pages."""
        if not self.pages:
            return None
        starts = [p.start for p in self.pages]
        i = bisect.bisect_right(starts, offset) - 1
        return self.pages[max(i, 0)].number


@dataclass
class Case:
    """One case entry of a report: heading + body, as a span of the document's text."""

    doc: str  # file name
    doc_id: str
    ordinal: int  # 1-based position in the document
    title: str
    text: str  # document.text[span[0]:span[1]]
    span: tuple[int, int]
    page: int | None
    section: list[str]  # headings above the entry, outermost first
    layout: str  # the rule set that segmented it
    organisations: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    year_mentions: list[dict[str, Any]] = field(default_factory=list)
    # Labels: {"label", "score", "source": "declared" | "model"}; see jirei.classify.
    pillar: dict[str, Any] | None = None
    pillars: list[dict[str, Any]] = field(default_factory=list)
    theme: dict[str, Any] | None = None
    action_items: list[dict[str, Any]] = field(default_factory=list)  # chosen items, best first
    item_scores: list[dict[str, Any]] = field(default_factory=list)  # every item's calibrated score, best first
    declared_pillar: dict[str, Any] | None = None
    needs_review: bool = False
    # A submission form's declared fields, by key (organisation, title, place, period, partners,
    # summary, results, outlook): {"label", "value", "span"}; see jirei.extract.forms.
    declared: dict[str, Any] = field(default_factory=dict)
    # The form's contact fields (personal data): written out only on request (--include-contacts).
    contacts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def case_id(self) -> str:
        return case_id_for(self.doc_id, self.ordinal)

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "Case":
        """A Case back from its `to_json()` record (or a stored case); extra keys are ignored."""
        names = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in record.items() if k in names}
        kwargs["span"] = tuple(record["span"])
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["span"] = list(self.span)
        out = {"doc": d.pop("doc"), "case_id": self.case_id}
        out.update(d)
        return out


# How the case store keeps a Case (jirei.store derives its row <-> record mapping from these):
# the entry itself as columns of `cases`; every other field as rows of `case_values`, one per
# value: list fields (default []) any number, single fields (default None) at most one.
ENTRY_COLUMNS = ("doc", "doc_id", "ordinal", "title", "text", "span", "page", "section", "layout", "needs_review")
CASE_VALUE_FIELDS = tuple(f.name for f in fields(Case) if f.name not in ENTRY_COLUMNS)  # in record order
CASE_LIST_FIELDS = tuple(f.name for f in fields(Case) if f.name not in ENTRY_COLUMNS and f.default_factory is list)
CASE_SINGLE_FIELDS = tuple(f.name for f in fields(Case) if f.name not in ENTRY_COLUMNS and f.default_factory is not list)


def empty_value(name: str) -> Any:
    """What a Case field holds when it has no value (None, [] or {})."""
    f = Case.__dataclass_fields__.get(name)
    if f is None or f.default_factory is MISSING:
        return None if f is None else f.default
    return f.default_factory()
# Fields only reviewers set (the reviewer app): secondary pillars, notes, and a mark on the case
# boundaries ({"flag": not_a_case | merge_previous | split_here, "offset": ...}).
REVIEW_LIST_FIELDS = ("secondary_pillars", "notes")
REVIEW_SINGLE_FIELDS = ("segmentation",)
# What a model (re)labels.
LABEL_FIELDS = ("pillar", "pillars", "theme", "action_items", "item_scores")


def case_id_for(doc_id: str, ordinal: int) -> str:
    """Stable id: the document's content hash (first 16 hex digits) + ordinal."""
    return f"{doc_id[:16]}-{ordinal:04d}"


class IngestError(Exception):
    """A file that cannot be read as a report; the message names the problem in one line."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")
