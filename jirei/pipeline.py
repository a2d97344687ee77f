"""One pipeline through the house: ingest → segment → entities → labels → records.

`Pipeline` is configured once (`PipelineConfig`) and used by every command that turns reports
into cases: `jirei extract`, the batch workers (local or Dask), the reviewer app's sample
stores and the evaluations. Each step is a typed, swappable callable (the Protocols below);
`Pipeline.load(config)` fills them with Jirei's own:

- `Ingester`: path → `Document` (`jirei.extract.ingest.ingest`); raises `IngestError` with a
  one-line problem for a bad file.
- `Segmenter`: `Document` → `[Case]` (`jirei.extract.segment.segment`, with the configured
  layout or the one the document's structure chooses).
- `Recogniser`: texts → entity mentions per text (plain records; GiNZA in this process, in
  worker processes, or none for rules only). The entity stage reads its mentions and adds the
  layout, gazetteer and year rules (`jirei.extract.entities.extract_entities`).
- `Labeller`: `[Case]` → the same cases with pillar, theme and action items
  (`jirei.classify.predict.CaseClassifier`), with its model `version`.

Nothing heavy loads before `load()`: argument checks come first. A pipeline holding worker
processes is closed with `close()` (or used as a context manager).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from jirei import paths
from jirei.extract.ocr import flag_ocr_cases
from jirei.records import Case, Document


@runtime_checkable
class Ingester(Protocol):
    def __call__(self, path: str | Path) -> Document: ...


@runtime_checkable
class Segmenter(Protocol):
    def __call__(self, document: Document) -> list[Case]: ...


@runtime_checkable
class Recogniser(Protocol):
    def __call__(self, texts: list[str]) -> list[list[dict]]: ...


@runtime_checkable
class Labeller(Protocol):
    version: str

    def classify(self, cases: list[Case]) -> list[Case]: ...


@dataclass(frozen=True)
class PipelineConfig:
    """What a pipeline does, decided once.

    `models_dir`: the classifier's models (default: the shipped ones, or $JIREI_MODELS).
    `layout`: force a segmentation layout (None: the document decides). `doc_date`
    (YYYY[-MM[-DD]]): resolve 本年/昨年度 against it instead of the report's own date.
    `entities`: "ner" (GiNZA + rules), "rules" (no statistical NER) or "none". `labels`: run
    the classifier. `ner_workers`: NER processes (1 = in this process)."""

    models_dir: Path = field(default_factory=paths.default_models)
    layout: str | None = None
    doc_date: str | None = None
    entities: str = "ner"
    labels: bool = True
    ner_workers: int = 1

    def __post_init__(self) -> None:
        if self.entities not in ("ner", "rules", "none"):
            raise ValueError(f"entities must be ner, rules or none, not {self.entities!r}")


class RulesOnly:
    """A `Recogniser` with no statistical NER: every text has no mentions, so only the rules
    (heading layout, legal forms in headings, gazetteer, years) fill the entities."""

    def __call__(self, texts: list[str]) -> list[list[dict]]:
        return [[] for _ in texts]


class KnownMentions:
    """A `Recogniser` answering from mentions computed elsewhere (the same texts, the same model:
    a long document's NER slices run as separate batch tasks), falling back to `recognise`."""

    def __init__(self, known: dict[str, list[dict]], recognise: Recogniser):
        self.known, self.recognise = known, recognise

    def __call__(self, texts: list[str]) -> list[list[dict]]:
        missing = [t for t in texts if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.recognise(missing)))
        return [self.known[t] for t in texts]


class PipelineError(RuntimeError):
    """A worker could not load GiNZA or the classifier: a batch stops, no document is blamed."""


def check_models(models_dir: str | Path):
    """The classifier in `models_dir`; a one-line RuntimeError naming the folder when it cannot load."""
    from jirei.classify.predict import CaseClassifier

    try:
        return CaseClassifier.load(Path(models_dir))
    except RuntimeError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"{models_dir}: cannot load the models ({type(exc).__name__}: {exc}); "
                           "run `jirei train`") from None


class Pipeline:
    """The configured steps; see the module docstring."""

    def __init__(self, config: PipelineConfig, *, ingest: Ingester, segment: Segmenter,
                 recognise: Recogniser | None, labeller: Labeller | None):
        self.config = config
        self.ingest = ingest
        self._segment = segment
        self.recognise = recognise
        self.labeller = labeller

    @classmethod
    def load(cls, config: PipelineConfig | None = None) -> "Pipeline":
        """Jirei's own steps for `config`: loads GiNZA (in this process or its NER workers) and
        the classifier. Raises a one-line RuntimeError for models that cannot load."""
        from jirei.extract.entities import MentionRecogniser
        from jirei.extract.ingest import ingest
        from jirei.extract.segment import segment

        config = config or PipelineConfig()
        labeller = check_models(config.models_dir) if config.labels else None
        recognise: Recogniser | None = None
        if config.entities == "ner":
            recognise = MentionRecogniser(config.ner_workers)
        elif config.entities == "rules":
            recognise = RulesOnly()

        def segment_document(document: Document) -> list[Case]:
            return segment(document, layout=config.layout)

        return cls(config, ingest=ingest, segment=segment_document, recognise=recognise, labeller=labeller)

    # --- the steps --------------------------------------------------------------------------------

    def read(self, path: str | Path) -> Document:
        return self.ingest(path)

    def segment(self, document: Document) -> list[Case]:
        return self._segment(document)

    def add_entities(self, document: Document, cases: list[Case], recognise: Recogniser | None = None) -> list[Case]:
        from jirei.extract.entities import extract_entities

        recognise = recognise or self.recognise
        if recognise is not None:
            extract_entities(document, cases, recognise, doc_date=self.config.doc_date)
        return cases

    def label(self, cases: list[Case]) -> list[Case]:
        if self.labeller is not None:
            self.labeller.classify(cases)
        return cases

    def finish(self, document: Document, cases: list[Case], recognise: Recogniser | None = None) -> list[Case]:
        """Entities and labels for segmented cases. Cases read from OCR'd pages need a reviewer,
        whatever the model says (set after the labeller, which sets `needs_review` too)."""
        self.label(self.add_entities(document, cases, recognise))
        flag_ocr_cases(document, cases)
        return cases

    def process(self, document: Document) -> list[Case]:
        """Segment, entities, labels for an ingested document."""
        return self.finish(document, self.segment(document))

    def run(self, path: str | Path) -> tuple[Document, list[Case]]:
        """A file through every step. Raises `IngestError` for a file that cannot be read."""
        document = self.read(path)
        return document, self.process(document)

    @property
    def model_version(self) -> str | None:
        return self.labeller.version if self.labeller is not None else None

    # --- lifetime ---------------------------------------------------------------------------------

    def close(self) -> None:
        close = getattr(self.recognise, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def document_fields(document: Document, *, path: str | None = None, doc_date: str | None = None) -> dict:
    """The document as the store keeps it (`Store.save_document`'s `doc`)."""
    return {"doc_id": document.doc_id, "name": document.name, "path": path or document.path,
            "kind": document.kind, "text": document.text,
            # [number, start, end, needs_ocr, label ("slide 3", "sheet 事例 row 5"), source (text | ocr),
            # OCR confidence]
            "pages": [[p.number, p.start, p.end, p.needs_ocr, p.label, p.source, p.ocr_confidence]
                      for p in document.pages],
            "doc_date": doc_date or document.doc_date, "encoding": document.encoding,
            "warnings": list(document.warnings),
            # where each PDF line is on its page: the reviewer app marks a case's region with it
            "page_boxes": list(document.page_boxes)}
