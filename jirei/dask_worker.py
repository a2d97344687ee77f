"""The Dask side of `jirei batch --backend dask` (imported only when that backend is used)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin


class JireiPipelinePlugin(WorkerPlugin):
    """Loads GiNZA and the classifier once when each Dask worker starts, so the first task
    does not pay for it and every later task reuses them (`jirei.batch.worker_pipeline`)."""

    name = "jirei-pipeline"

    def __init__(self, models_dir: str):
        self.models_dir = models_dir

    def setup(self, worker) -> None:
        from jirei.batch import worker_pipeline

        worker_pipeline(self.models_dir)
