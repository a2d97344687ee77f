"""The Dask side of `jirei batch --backend dask` (imported only when that backend is used)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from jirei.workers import warm_worker


class JireiPipelinePlugin(WorkerPlugin):
    """Loads GiNZA and the classifier once when each Dask worker starts, so the first task
    does not pay for it and every later task reuses them (`jirei.workers.worker_pipeline`)."""

    name = "jirei-pipeline"

    def __init__(self, models_dir: str, blas_threads: int = 1):
        self.models_dir = models_dir
        self.blas_threads = blas_threads

    def setup(self, worker) -> None:
        warm_worker(self.models_dir, self.blas_threads)
