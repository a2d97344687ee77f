"""Batch runs: reports in, the case store out; resumable, parallel on local processes or Dask.

One function does the work for one document, wherever it runs: `process_document(job)` ingests,
segments, extracts entities and classifies, and returns a plain `DocumentResult` (picklable, no
spaCy objects). Workers load GiNZA and the classifier once per process (`worker_pipeline`).
Only the process that opened the store writes to it, one transaction per document, so a batch
killed at any moment leaves every document either fully stored or absent; the next run skips
what is stored (by the sha256 of the bytes) and does the rest.

Backends
- local: a pool of worker processes (forked from a server that loaded GiNZA once, or spawned where
  the platform has no fork server; one thread each, since Sudachi's tokenizer is not thread-safe).
- dask: the same function as Dask tasks, on a `LocalCluster` or the scheduler at an address. A
  worker plugin loads the pipeline when each worker starts. Jobs carry the file's bytes, so
  workers need no shared file system.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jirei import paths
from jirei.records import IngestError
from jirei.pipeline import PipelineError, check_models, worker_context
from jirei.store import StoreError
from jirei.workers import blas_threads, warm_worker, worker_pipeline


# --- the per-document function ---------------------------------------------------------------------


@dataclass
class DocumentJob:
    """One file to process. `data` is the file's bytes when the worker may not see the path."""

    doc_id: str
    name: str
    path: str
    size: int
    data: bytes | None = None
    layout: str | None = None
    doc_date: str | None = None
    models_dir: str = str(paths.MODELS)


@dataclass
class DocumentResult:
    """What a worker sends back: the document, its case records, or the reason it failed."""

    doc: dict[str, Any]
    cases: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    model_version: str | None = None
    seconds: float = 0.0
    worker: dict[str, Any] = field(default_factory=dict)


def _job_pipeline(job: "DocumentJob"):
    return worker_pipeline(job.models_dir, job.layout, job.doc_date)


def _worker_stats() -> dict[str, Any]:
    # ru_maxrss is in KiB on Linux
    return {"pid": os.getpid(), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


# Documents whose case texts exceed this are split: their NER runs as several tasks, so one
# long report does not keep one worker busy while the others wait.
SPLIT_CHARS = 16000


@dataclass
class PreparedDocument:
    """A long document after ingest and segmentation, waiting for its NER slices."""

    job: DocumentJob
    document: Any  # jirei.records.Document
    cases: list  # [jirei.records.Case]
    texts: list[str]  # what the NER reads (`mention_texts`)
    seconds: float = 0.0


def process_document(job: DocumentJob, split_chars: int | None = None) -> DocumentResult | PreparedDocument:
    """Ingest → segment → entities → classify for one file. Never raises for a bad file: the
    result carries the one-line reason instead. With `split_chars`, a document whose NER texts
    are longer comes back as a PreparedDocument for `recognise_texts` + `finish_document`."""
    from jirei.extract.entities import mention_texts

    t0 = time.perf_counter()
    try:
        pipeline = _job_pipeline(job)
    except Exception as exc:
        # Not the file's fault: recording it as a failed document would make later runs skip it.
        raise PipelineError(f"cannot load the pipeline in a worker: {type(exc).__name__}: {exc}") from None
    try:
        document = _ingest_job(job, pipeline.read)
        cases = pipeline.segment(document)
    except Exception as exc:
        return _failed(job, exc, t0)
    texts = mention_texts(cases)
    if split_chars is not None and sum(map(len, texts)) > split_chars:
        # the bytes are not needed again: the rest of the work travels without them
        return PreparedDocument(replace(job, data=None), document, cases, texts, seconds=time.perf_counter() - t0)
    return finish_document(PreparedDocument(job, document, cases, texts, seconds=time.perf_counter() - t0))


def recognise_texts(models_dir: str, texts: list[str]) -> list[list[dict]]:
    """NER mentions for a slice of a long document's texts (plain records)."""
    return worker_pipeline(models_dir).recognise(texts)


def finish_document(prepared: PreparedDocument, mentions: list[list[dict]] | None = None) -> DocumentResult:
    """Entities and labels for a segmented document; `mentions` are the NER results for
    `prepared.texts` when they were computed in slices, else the NER runs here."""
    from jirei.pipeline import KnownMentions, document_fields

    t0 = time.perf_counter()
    job, document, cases = prepared.job, prepared.document, prepared.cases
    try:
        pipeline = _job_pipeline(job)
        recognise = pipeline.recognise
        if mentions is not None:
            recognise = KnownMentions(dict(zip(prepared.texts, mentions)), pipeline.recognise)
        pipeline.finish(document, cases, recognise)
    except Exception as exc:
        return _failed(job, exc, t0 - prepared.seconds)
    doc_info = document_fields(document, path=job.path, doc_date=job.doc_date)
    doc_info.update(doc_id=job.doc_id, name=job.name)
    return DocumentResult(doc=doc_info, cases=[c.to_json() for c in cases], model_version=pipeline.model_version,
                          seconds=prepared.seconds + time.perf_counter() - t0, worker=_worker_stats())


def _failed(job: DocumentJob, exc: Exception, t0: float) -> DocumentResult:
    doc_info = {"doc_id": job.doc_id, "name": job.name, "path": job.path}
    # a bug on one document must not stop the batch: it is recorded like a bad file
    reason = exc.problem if isinstance(exc, IngestError) else f"internal error: {type(exc).__name__}: {exc}"
    return DocumentResult(doc=doc_info, error=reason, seconds=time.perf_counter() - t0, worker=_worker_stats())


def slice_texts(texts: list[str], pieces: int) -> list[list[int]]:
    """Indices of `texts` in `pieces` groups of about equal length, keeping order within a group."""
    total = sum(map(len, texts))
    target = total / max(1, pieces)
    groups, current, size = [], [], 0
    for i, t in enumerate(texts):
        current.append(i)
        size += len(t)
        if size >= target and len(groups) < pieces - 1:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    return groups


def _ingest_job(job: DocumentJob, ingest):
    if job.data is None:
        document = ingest(job.path)
    else:
        # ingest reads files; a job that carries bytes is written under its own name first
        with tempfile.TemporaryDirectory(prefix="jirei-") as tmp:
            local = Path(tmp) / job.name
            local.write_bytes(job.data)
            document = ingest(local)
    if document.doc_id != job.doc_id:
        raise IngestError(job.path, "file changed while the batch was running")
    document.path = job.path
    return document


# --- planning: what is new ----------------------------------------------------------------------


@dataclass
class Plan:
    jobs: list[DocumentJob]
    skipped: list[tuple[str, str]]  # (path, why)
    unreadable: list[tuple[DocumentJob, str]]


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def plan_batch(inputs: Iterable[str | Path], known: dict[str, str], *, retry_failed: bool = False,
               layout: str | None = None, doc_date: str | None = None,
               models_dir: str = str(paths.MODELS), store_path: str | Path | None = None) -> Plan:
    """Files to process: those whose bytes the store does not hold (failed ones too with
    `retry_failed`). A renamed copy of a stored file is skipped; so is a second copy in the batch.
    The store's own files are never read (a plain read would drop SQLite's locks on them)."""
    from jirei.extract.ingest import expand_inputs
    from jirei.store import store_files

    jobs, skipped, unreadable = [], [], []
    seen: dict[str, str] = {}
    own = store_files(store_path) if store_path is not None else set()
    for path in expand_inputs(inputs):
        spath = str(path)
        if path.resolve() in own:
            skipped.append((spath, "the case store itself"))
            continue
        try:
            if path.exists() and not path.is_file():
                raise OSError(0, "not a regular file")
            digest = file_digest(path)
            size = path.stat().st_size
        except OSError as exc:
            # No bytes, no content hash: the failure is keyed by the path instead.
            digest = hashlib.sha256(f"unreadable:{path.resolve()}".encode()).hexdigest()
            job = DocumentJob(digest, path.name, spath, 0)
            unreadable.append((job, "no such file" if not path.exists() else f"cannot read file ({exc.strerror})"))
            continue
        if digest in seen:
            skipped.append((spath, f"same bytes as {seen[digest]}"))
            continue
        seen[digest] = spath
        status = known.get(digest)
        if status == "done" or (status == "failed" and not retry_failed):
            skipped.append((spath, "already stored" if status == "done" else "failed before (use --retry-failed)"))
            continue
        jobs.append(DocumentJob(digest, path.name, spath, size, layout=layout, doc_date=doc_date,
                                models_dir=models_dir))
    # Largest first: the long documents start early and the workers finish together.
    jobs.sort(key=lambda j: -j.size)
    return Plan(jobs, skipped, unreadable)


# --- backends ------------------------------------------------------------------------------------


class LocalBackend:
    """Worker processes on this machine, each loading the pipeline once."""

    name = "local"

    def __init__(self, workers: int, models_dir: str):
        from concurrent.futures import ProcessPoolExecutor

        self.workers = max(1, workers)
        # forked from a server that loaded GiNZA once, as the pipeline's own stage workers are
        self._pool = ProcessPoolExecutor(self.workers, mp_context=worker_context(), initializer=warm_worker,
                                         initargs=(models_dir, blas_threads(self.workers)))

    def submit(self, fn: Callable, *args):
        return self._pool.submit(fn, *args)

    def wait_first(self, futures) -> set:
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(futures, return_when=FIRST_COMPLETED).done

    @staticmethod
    def with_bytes(job: DocumentJob) -> DocumentJob:
        return job  # workers read the file themselves

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class DaskBackend:
    """The same functions as Dask tasks; only this process writes the store."""

    name = "dask"

    def __init__(self, workers: int, models_dir: str, scheduler: str | None = None):
        try:
            from distributed import Client, LocalCluster

            from jirei.dask_worker import JireiPipelinePlugin
        except ImportError:
            raise RuntimeError("the dask backend needs dask[distributed]: pip install 'jirei[dask]'") from None
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise RuntimeError(f"{scheduler}: cannot reach the Dask scheduler ({exc})") from None
        else:
            self._cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=40)
            self.client = Client(self._cluster)
        # A LocalCluster shares this machine's cores; a cluster's workers are sized by whoever
        # started them (`--nthreads 1`), so each keeps to one BLAS thread there.
        threads = blas_threads(workers) if self._cluster is not None else 1
        self.client.register_plugin(JireiPipelinePlugin(models_dir, threads), name=JireiPipelinePlugin.name)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)

    def submit(self, fn: Callable, *args):
        return self.client.submit(fn, *args, pure=False)

    def wait_first(self, futures) -> set:
        from distributed import wait

        return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    @staticmethod
    def with_bytes(job: DocumentJob) -> DocumentJob:
        # workers may be on other machines: the task carries the file
        return replace(job, data=Path(job.path).read_bytes())

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_backend(name: str, workers: int, models_dir: str, scheduler: str | None = None):
    if name == "local":
        return LocalBackend(workers, models_dir)
    if name == "dask":
        return DaskBackend(workers, models_dir, scheduler)
    raise ValueError(f"unknown backend {name!r} (expected local or dask)")


# --- the run ------------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    run_id: int
    new_documents: int = 0
    cases: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    workers: dict[int, float] = field(default_factory=dict)  # pid → peak MB

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "new_documents": self.new_documents, "cases": self.cases,
                "skipped": len(self.skipped), "failed": len(self.failed), "seconds": round(self.seconds, 2),
                "worker_peak_mb": sorted(self.workers.values())}

    def lines(self) -> list[str]:
        rate = self.new_documents / self.seconds * 60 if self.seconds else 0.0
        out = [f"run {self.run_id}: {self.new_documents} new documents, {self.cases} cases, "
               f"{len(self.skipped)} skipped, {len(self.failed)} failed in {self.seconds:.1f}s"
               + (f" ({rate:.1f} documents/min)" if self.new_documents else "")]
        for path, why in self.skipped:
            out.append(f"  skipped {path}: {why}")
        for path, why in self.failed:
            out.append(f"  FAILED {path}: {why}")
        return out


class Progress:
    """A tqdm bar on a terminal (files, cases, rate, ETA); plain log lines otherwise."""

    def __init__(self, total: int, stream=None, bar: bool | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.cases = 0
        self.done = 0
        self.total = total
        use_bar = self.stream.isatty() if bar is None else bar
        self._bar = None
        if use_bar and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="doc", file=self.stream, dynamic_ncols=True)

    def update(self, result: DocumentResult) -> None:
        self.done += 1
        self.cases += len(result.cases)
        what = f"FAILED: {result.error}" if result.error else f"{len(result.cases)} cases"
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.set_postfix(cases=self.cases, refresh=False)
            self._bar.update(1)
            if result.error:
                self._bar.write(f"{result.doc['name']}: {what}")
        else:
            print(f"[{self.done}/{self.total}] {result.doc['name']}: {what} ({result.seconds:.1f}s)",
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_batch(store, inputs: list[str], *, workers: int = 1, backend: str = "local", scheduler: str | None = None,
              retry_failed: bool = False, layout: str | None = None, doc_date: str | None = None,
              models_dir: str = str(paths.MODELS), progress: bool | None = None, quiet: bool = False,
              stream=None) -> BatchSummary:
    """Process what is new under `inputs` into `store`; see the module docstring."""
    t0 = time.perf_counter()
    settings = {"inputs": [str(p) for p in inputs], "workers": workers, "backend": backend, "scheduler": scheduler,
                "retry_failed": retry_failed, "layout": layout, "doc_date": doc_date, "models": models_dir}
    run_id = store.start_run("batch", settings)
    summary = BatchSummary(run_id=run_id)
    plan = plan_batch(inputs, store.document_status(), retry_failed=retry_failed, layout=layout,
                      doc_date=doc_date, models_dir=models_dir, store_path=store.path)
    summary.skipped = plan.skipped
    for job, why in plan.unreadable:
        store.record_failure({"doc_id": job.doc_id, "name": job.name, "path": job.path}, why, run_id)
        summary.failed.append((job.path, why))
    timings = {"plan": round(time.perf_counter() - t0, 3)}
    status = "failed"
    bar = Progress(len(plan.jobs), stream=stream, bar=progress, quiet=quiet)
    runner = None
    try:
        if plan.jobs:
            check_models(models_dir)  # here, in one line, rather than in every worker
            card = _model_card(models_dir)
            if card:
                store.register_model(card["model_version"], card)
            runner = make_backend(backend, min(workers, len(plan.jobs)), models_dir, scheduler)
            t1 = time.perf_counter()
            for result in run_documents(runner, plan.jobs):
                _store_result(store, result, run_id, summary)
                bar.update(result)
            timings["process"] = round(time.perf_counter() - t1, 3)
            store.analyze()  # fresh planner statistics for the queries of `jirei cases` and the app
        status = "finished"
    finally:
        bar.close()
        if runner is not None:
            runner.close()
        summary.seconds = time.perf_counter() - t0
        timings["total"] = round(summary.seconds, 3)
        try:
            store.finish_run(run_id, summary.as_dict(), timings, status=status)
        except StoreError:
            if status == "finished":
                raise
            # the run is failing already (e.g. the disk is full): its own error is the one to report
    return summary


def run_documents(runner, jobs: list[DocumentJob]) -> Iterator[DocumentResult]:
    """Results of `jobs` as they complete. A long document comes back from its first task
    segmented (PreparedDocument); its NER texts then go out as one task per worker and a last
    task assembles entities and labels, so the workers share it. Only a few documents are
    started ahead of the workers, so a large batch is not held in memory."""
    pending = iter(jobs)
    window = 2 * runner.workers
    started = 0  # documents in flight
    in_flight: dict[Any, tuple] = {}
    split = SPLIT_CHARS if runner.workers > 1 else None

    def start_more() -> None:
        nonlocal started
        while started < window:
            job = next(pending, None)
            if job is None:
                return
            in_flight[runner.submit(process_document, runner.with_bytes(job), split)] = ("document", None)
            started += 1

    start_more()
    while in_flight:
        for fut in runner.wait_first(in_flight):
            kind, state = in_flight.pop(fut)
            result = fut.result()
            if kind == "slice":
                prepared, parts, index = state
                parts[index] = result
                if all(p is not None for p in parts):
                    mentions = [None] * len(prepared.texts)
                    for idx, part in zip(slice_texts(prepared.texts, len(parts)), parts):
                        for i, m in zip(idx, part):
                            mentions[i] = m
                    in_flight[runner.submit(finish_document, prepared, mentions)] = ("finish", None)
                continue
            if isinstance(result, PreparedDocument):
                groups = slice_texts(result.texts, runner.workers)
                parts: list = [None] * len(groups)
                for index, idx in enumerate(groups):
                    texts = [result.texts[i] for i in idx]
                    fut2 = runner.submit(recognise_texts, result.job.models_dir, texts)
                    in_flight[fut2] = ("slice", (result, parts, index))
                continue
            started -= 1
            yield result
            start_more()


def _store_result(store, result: DocumentResult, run_id: int, summary: BatchSummary) -> None:
    if result.worker:
        pid = result.worker["pid"]
        summary.workers[pid] = max(summary.workers.get(pid, 0.0), result.worker["peak_mb"])
    if result.error:
        store.record_failure(result.doc, result.error, run_id)
        summary.failed.append((result.doc["path"], result.error))
        return
    if not store.save_document(result.doc, result.cases, run_id, result.model_version):
        summary.skipped.append((result.doc["path"], "stored meanwhile (by another run, or as a copy)"))
        return
    summary.new_documents += 1
    summary.cases += len(result.cases)


def _model_card(models_dir: str) -> dict | None:
    try:
        return json.loads((Path(models_dir) / "model_card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
