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

With `ner_workers` > 1 the two heavy steps of a document, GiNZA's NER (entities) and the
classifier's features (GiNZA lemmas and the e5 embedding), run in `StageWorkers` processes,
both at once and each split over the workers, so every core works on every document; this
process keeps reading, segmenting, the rules and the (cheap) classifiers. The workers start
first, on the feature settings the model card states (`jirei.classify.card`), forked from a fork
server that loads GiNZA once while this process loads the classifier. `begin` hands a document's
heavy steps to the workers and returns the function that finishes it, so a caller (`jirei
extract`) hands over the next document before finishing the one before, and the workers do not
wait while this process applies the rules.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from jirei import paths
from jirei.classify.card import read_feature_settings
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

    def classify(self, cases: list[Case], features=None) -> list[Case]: ...


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


def _interleaved(n: int, parts: int) -> list[list[int]]:
    """Indices 0..n-1 dealt round-robin into `parts` slices (long and short texts balance)."""
    return [idx for idx in (list(range(i, n, parts)) for i in range(parts)) if idx]


def worker_context(preload_ginza: bool = True):
    """The multiprocessing context worker processes start from: forked from a server that loaded
    GiNZA once (`jirei.worker_preload`, with `preload_ginza`) where the platform has a fork server
    (Linux, macOS), so no worker pays for starting Python, importing spaCy and loading GiNZA;
    spawned elsewhere, each worker loading its own."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    if preload_ginza:
        context.set_forkserver_preload(["jirei.worker_preload"])
    return context


class StageWorkers:
    """Worker processes for a pipeline's heavy steps (see the module docstring): each holds GiNZA's
    NER pipeline (`ner`) and the classifier's tokenizer and e5 encoder (`features`: the
    `CaseClassifier.feature_settings`), and shares the machine's BLAS threads with the others.

    Where the platform has a fork server (Linux, macOS), the workers are forked from one that
    loaded GiNZA once (`jirei.worker_preload`): GiNZA loads once instead of once per worker, and
    no worker pays for starting Python and importing spaCy. Elsewhere each worker is spawned and
    loads its own. The workers start in a thread of their own, so the caller goes on (loading the
    classifier) while the server loads GiNZA; the first task waits for them."""

    def __init__(self, workers: int, ner: bool, features: dict | None):
        import threading

        self.workers = workers
        self._pool = None
        self._failed: BaseException | None = None
        self._starting = threading.Thread(target=self._start, args=(ner, features), name="jirei-stage-workers",
                                          daemon=True)
        self._starting.start()

    def _start(self, ner: bool, features: dict | None) -> None:
        from concurrent.futures import ProcessPoolExecutor

        try:
            threads = max(1, (os.cpu_count() or 1) // self.workers)
            context = worker_context(preload_ginza=ner)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_stage_worker_init,
                                             initargs=(ner, features, threads))
            # One task per worker starts them all now, so they load while the caller loads.
            for _ in range(self.workers):
                self._pool.submit(_stage_worker_ready)
        except BaseException as exc:  # noqa: BLE001 - reported by `_ready`, to the first task
            self._failed = exc

    def _ready(self):
        self._starting.join()
        if self._pool is None:
            raise PipelineError(f"cannot start the worker processes: {type(self._failed).__name__}: {self._failed}")
        return self._pool

    def _map(self, func, texts: list[str], *args) -> Callable[[], list]:
        slices = _interleaved(len(texts), self.workers)
        pool = self._ready()
        futures = [pool.submit(func, [texts[j] for j in idx], *args) for idx in slices]

        def result() -> list:
            out: list = [None] * len(texts)
            for idx, future in zip(slices, futures):
                for j, value in zip(idx, future.result()):
                    out[j] = value
            return out

        return result

    def mentions(self, texts: list[str]) -> list[list[dict]]:
        """A `Recogniser`: entity mentions of `texts`, split over the workers."""
        return self.submit_mentions(texts)()

    def submit_mentions(self, texts: list[str]) -> Callable[[], list[list[dict]]]:
        """Start `mentions(texts)` in the workers; the returned function waits for it."""
        return self._map(_stage_mentions, texts)

    def submit_features(self, cases: list[Case], settings: dict) -> Callable[[], object]:
        """Start computing the classifier's input rows for `cases` in the workers; the returned
        function waits for them (a matrix, rows in the order of `cases`)."""
        import numpy

        from jirei.classify.features import case_input

        rows = self._map(_stage_features, [case_input(c.title, c.text) for c in cases], settings)
        return lambda: numpy.array(rows(), dtype=object).reshape(len(cases), -1)

    def close(self) -> None:
        self._starting.join()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _stage_worker_init(ner: bool, features: dict | None, threads: int) -> None:
    import signal

    from threadpoolctl import threadpool_limits

    # Ctrl-C reaches the whole process group: the parent stops the pool and says so.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if ner:
            from jirei.nlp import load_pipeline

            load_pipeline(ner=True)
        if features is not None:
            from jirei.classify import features as classify_features

            classify_features.tokenizer()
            if features.get("sentences"):
                classify_features.sentence_encoder()
    except Exception:
        return  # raised again by the worker's first task (an initializer that raises breaks the pool)
    threadpool_limits(limits=threads)


def _stage_worker_ready() -> bool:
    return True


def _stage_mentions(texts: list[str]) -> list[list[dict]]:
    from jirei.extract.entities import entity_mentions
    from jirei.nlp import load_pipeline

    return entity_mentions(load_pipeline(ner=True), texts)


def _stage_features(texts: list[str], settings: dict) -> list:
    from jirei.classify.features import feature_matrix

    return list(feature_matrix(texts, sentences=settings["sentences"], sentence_chars=settings["sentence_chars"],
                               sentence_view=settings.get("sentence_view", "prefix")))


class PipelineError(RuntimeError):
    """A worker could not load GiNZA or the classifier: a batch stops, no document is blamed."""


def check_models(models_dir: str | Path):
    """The classifier in `models_dir`; a one-line RuntimeError naming the folder when it cannot load."""
    from jirei.classify.predict import CaseClassifier

    try:
        return CaseClassifier.load(Path(models_dir))
    except RuntimeError:
        raise
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:  # skops files are zips
        raise RuntimeError(f"{models_dir}: cannot load the models ({type(exc).__name__}: {exc}); "
                           "run `jirei train`") from None


class Pipeline:
    """The configured steps; see the module docstring."""

    def __init__(self, config: PipelineConfig, *, ingest: Ingester, segment: Segmenter,
                 recognise: Recogniser | None, labeller: Labeller | None, workers: StageWorkers | None = None):
        self.config = config
        self.ingest = ingest
        self._segment = segment
        self.recognise = recognise
        self.labeller = labeller
        self.workers = workers

    @classmethod
    def load(cls, config: PipelineConfig | None = None) -> "Pipeline":
        """Jirei's own steps for `config`: loads GiNZA (in this process or its NER workers) and
        the classifier. Raises a one-line RuntimeError for models that cannot load."""
        from jirei.extract.entities import MentionRecogniser
        from jirei.extract.ingest import ingest
        from jirei.extract.segment import segment

        config = config or PipelineConfig()
        # The workers start on the card's feature settings, before this process loads the models,
        # so that their loads (GiNZA, e5) and this one's (the classifier) overlap.
        settings = read_feature_settings(Path(config.models_dir)) if config.labels else None

        def start_workers(features: dict | None) -> StageWorkers:
            return StageWorkers(config.ner_workers, ner=config.entities == "ner", features=features)

        workers = None
        if config.ner_workers > 1 and (config.entities == "ner" or settings is not None):
            workers = start_workers(settings)
        try:
            labeller = check_models(config.models_dir) if config.labels else None
        except BaseException:
            if workers is not None:
                workers.close()
            raise
        if workers is not None and labeller is not None and labeller.feature_settings != settings:
            # the card changed between the two reads (a model promoted meanwhile): start again
            workers.close()
            workers = start_workers(labeller.feature_settings)
        recognise: Recogniser | None = None
        if config.entities == "ner":
            recognise = workers.mentions if workers is not None else MentionRecogniser(1)
        elif config.entities == "rules":
            recognise = RulesOnly()

        def segment_document(document: Document) -> list[Case]:
            return segment(document, layout=config.layout)

        return cls(config, ingest=ingest, segment=segment_document, recognise=recognise, labeller=labeller,
                   workers=workers)

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

    def label(self, cases: list[Case], features=None) -> list[Case]:
        """Labels for `cases`; `features`: their classifier input rows, computed already."""
        if self.labeller is not None:
            self.labeller.classify(cases, features)
        return cases

    def begin(self, document: Document, cases: list[Case],
              recognise: Recogniser | None = None) -> Callable[[], list[Case]]:
        """Start entities and labels for segmented cases; the returned function finishes them and
        returns the cases. With worker processes, the NER and the label features start in the
        workers now, side by side, so a caller that begins the next document before finishing
        this one keeps the workers busy while this process applies the rules."""
        features = mentions = None
        if self.workers is not None and cases:
            if self.labeller is not None:
                features = self.workers.submit_features(cases, self.labeller.feature_settings)
            if recognise is None and self.recognise == self.workers.mentions:
                from jirei.extract.entities import mention_texts

                texts = mention_texts(cases)
                mentions = (texts, self.workers.submit_mentions(texts))

        def finish() -> list[Case]:
            found = recognise
            if mentions is not None:
                texts, result = mentions
                found = KnownMentions(dict(zip(texts, result())), self.recognise)
            self.add_entities(document, cases, found)
            self.label(cases, features() if features is not None else None)
            # Cases read from OCR'd pages need a reviewer, whatever the model says (set after the
            # labeller, which sets `needs_review` too).
            flag_ocr_cases(document, cases)
            return cases

        return finish

    def finish(self, document: Document, cases: list[Case], recognise: Recogniser | None = None) -> list[Case]:
        """Entities and labels for segmented cases (`begin`, then its finishing)."""
        return self.begin(document, cases, recognise)()

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
        if self.workers is not None:
            self.workers.close()
            self.workers = None

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
