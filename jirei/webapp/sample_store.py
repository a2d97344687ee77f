"""Case stores built from real reports without GiNZA, for the reviewer app's tests, load bench
and screenshots.

The reports go through the real stages: ingest, segment, the entity stage with its layout,
gazetteer and year rules, and the trained classifier. Only GiNZA's NER is left out
(`jirei.pipeline.RulesOnly`), so a store of the seeds is built in about two seconds instead of a minute;
organisations the heading layout names are still found, places and years completely.

`copies` > 1 stores each report again under a distinct doc_id (sha256 of its bytes and the copy
number) to make large stores cheaply: the bench's 10,000 cases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jirei.pipeline import Pipeline, PipelineConfig, document_fields
from jirei.records import case_id_for
from jirei.store import Store



@dataclass
class ProcessedReport:
    doc: dict  # the fields Store.save_document takes
    cases: list[dict]  # `jirei extract` records
    model_version: str | None


def process_reports(paths: Iterable[str | Path], *, labels: bool = True) -> list[ProcessedReport]:
    """Ingest, segment, find entities (rules only) and label each report."""
    out = []
    with Pipeline.load(PipelineConfig(entities="rules", labels=labels)) as pipeline:
        for path in paths:
            document, cases = pipeline.run(path)
            doc = document_fields(document, path=str(Path(path).resolve()))
            out.append(ProcessedReport(doc, [c.to_json() for c in cases], pipeline.model_version))
    return out


def copy_of(report: ProcessedReport, n: int) -> ProcessedReport:
    """The same report stored as another document: new doc_id, case ids, name and path."""
    doc_id = hashlib.sha256(f"{report.doc['doc_id']}:copy {n}".encode()).hexdigest()
    stem, dot, suffix = report.doc["name"].rpartition(".")
    name = f"{stem}.copy{n:03d}.{suffix}" if dot else f"{report.doc['name']}.copy{n:03d}"
    doc = {**report.doc, "doc_id": doc_id, "name": name, "path": f"{report.doc['path']}.copy{n:03d}"}
    cases = [{**c, "doc_id": doc_id, "doc": name, "case_id": case_id_for(doc_id, c["ordinal"])} for c in report.cases]
    return ProcessedReport(doc, cases, report.model_version)


def build_store(db_path: str | Path, paths: Iterable[str | Path], *, copies: int = 1, labels: bool = True) -> int:
    """A store at `db_path` holding the reports (each `copies` times). Returns the case count."""
    reports = process_reports(paths, labels=labels)
    with Store(db_path) as store:
        for report in reports:
            if report.model_version:
                store.register_model(report.model_version)
            for n in range(copies):
                stored = report if n == 0 else copy_of(report, n)
                store.save_document(stored.doc, stored.cases, run_id=None, model_version=stored.model_version)
        return store.case_count()


def add_users(db_path: str | Path, users: dict[str, tuple[str, str]]) -> None:
    """Accounts for a test or demo store: {name: (role, password)}."""
    from .auth import hash_password

    with Store(db_path) as store:
        for name, (role, password) in users.items():
            store.add_user(name, role, hash_password(password))
