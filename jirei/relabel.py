"""`jirei relabel`: the current model's labels for stored cases.

A field holding a reviewer's value is never touched; every change the model makes goes into
the store's history under `model@<version>`, within the relabel run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from jirei.records import Case
from jirei.store import CaseQuery, Store

CHUNK = 64  # cases classified together; each case is written in its own short transaction


@dataclass
class RelabelSummary:
    run_id: int
    model_version: str
    cases: int = 0
    changed_cases: int = 0
    changes: dict[str, int] = field(default_factory=dict)  # field → cases changed
    kept_reviewer: int = 0  # cases with at least one reviewer field left alone
    seconds: float = 0.0

    def lines(self) -> list[str]:
        by_field = ", ".join(f"{k} {v}" for k, v in sorted(self.changes.items())) or "none"
        return [f"run {self.run_id}: relabelled {self.cases} cases with model {self.model_version} in "
                f"{self.seconds:.1f}s: {self.changed_cases} changed ({by_field}); "
                f"{self.kept_reviewer} cases keep reviewer labels"]


def relabel_store(store: Store, classifier, query: CaseQuery | None = None,
                  progress: Callable[[int], None] | None = None) -> RelabelSummary:
    """Classify the stored cases (all, or those of `query`) with `classifier`; `progress` is
    called with the number of cases done after each chunk."""
    t0 = time.perf_counter()
    version = classifier.version
    store.register_model(version, classifier.models.card)
    run_id = store.start_run("relabel", {"model": version})
    summary = RelabelSummary(run_id=run_id, model_version=version)
    status = "failed"
    try:
        ids = store.iter_case_ids(query)
        for start in range(0, len(ids), CHUNK):
            records = store.cases(ids[start:start + CHUNK])
            cases = [Case.from_json(r) for r in records]
            classifier.classify(cases)
            for record, case in zip(records, cases):
                labels = {"pillar": case.pillar, "pillars": case.pillars, "theme": case.theme,
                          "action_items": case.action_items, "item_scores": case.item_scores}
                changed = store.relabel_case(record["case_id"], labels, case.needs_review, version, run_id)
                summary.cases += 1
                if changed:
                    summary.changed_cases += 1
                for f in changed:
                    summary.changes[f] = summary.changes.get(f, 0) + 1
                if store.reviewer_fields(record["case_id"], labels):
                    summary.kept_reviewer += 1
            if progress is not None:
                progress(summary.cases)
        status = "finished"
    finally:
        summary.seconds = time.perf_counter() - t0
        store.finish_run(run_id, {"cases": summary.cases, "changed": summary.changed_cases, **summary.changes},
                         {"total": round(summary.seconds, 3)}, status=status)
    return summary
