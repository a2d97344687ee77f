"""What every batch worker process holds: its pipeline, loaded once, and its share of the BLAS
threads. Used by the local backend's process pool and by the Dask worker plugin alike."""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path


@functools.lru_cache(maxsize=4)
def worker_pipeline(models_dir: str, layout: str | None = None, doc_date: str | None = None):
    """The pipeline of one worker process for these settings (GiNZA in the process, the
    classifier), loaded once per process."""
    from jirei.pipeline import Pipeline, PipelineConfig

    return Pipeline.load(PipelineConfig(models_dir=Path(models_dir), layout=layout, doc_date=doc_date))


def blas_threads(workers: int) -> int:
    """BLAS threads for each of `workers` processes on this machine: the cores shared out.

    Sudachi makes a worker one process with one thread, but GiNZA's dense layers go through
    BLAS (`jirei.nlp.BlasOps`), which starts a thread per core. One worker alone gains from them;
    several workers each starting a thread per core fight over the cores (on 2 cores, the
    bench batch of 54 documents took 2 workers 84.5 s with 2 BLAS threads each, 70.2 s with 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def limit_blas(threads: int) -> None:
    """Hold every BLAS/OpenMP pool loaded in this process to `threads`. threadpoolctl acts only
    on libraries already loaded, and numpy and scipy each bring their own OpenBLAS: call this
    after the pipeline is loaded."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def warm_worker(models_dir: str, threads: int) -> None:
    """Load the pipeline in a new worker process, then share the cores' BLAS threads out."""
    # Ctrl-C reaches the whole process group: the batch process stops the pool and records the
    # run; workers printing their own KeyboardInterrupt tracebacks would only bury that line.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        worker_pipeline(models_dir)
    except Exception:
        return  # raised again, as a PipelineError, by the worker's first task (an initializer
        # that raises breaks the pool and prints a traceback instead)
    limit_blas(threads)
