"""Imported once by the fork server that starts the pipeline's worker processes
(`jirei.pipeline.StageWorkers`): GiNZA's NER pipeline loads here, once, and every worker forked
from the server starts with it, while the process that asked for the workers loads the
classifier. A failure here is left to the workers' own load (`_stage_worker_init` in
`jirei.pipeline`), which reports it."""

import signal

# Ctrl-C reaches the whole process group: the process that started the server stops the workers
# and says so (the server would otherwise print a traceback if it came during this load).
signal.signal(signal.SIGINT, signal.SIG_IGN)

try:
    from jirei.nlp import load_pipeline

    load_pipeline(ner=True)
except Exception:  # noqa: BLE001 - the workers load again and report what went wrong
    pass
