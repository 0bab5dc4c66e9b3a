"""The build's per-article work, run across all cores: `run` maps `worker.process` over jobs
in a process pool (or in this process for a handful of jobs), a bounded number of chunks in
flight so memory stays flat whatever the corpus size. `cache` keeps each article's output
and the manifest; `progress` draws the progress line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from kg.batch import worker
from kg.batch.worker import Job, Outcome

CHUNK = 8  # articles per task: large enough to amortise the hand-off, small for balance
IN_FLIGHT = 4  # tasks queued per worker
INLINE_BELOW = 2 * CHUNK  # fewer jobs than this run in this process: no pool to start
SEGMENT = 25_000  # articles per worker pool


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run(jobs: list[Job], workers: int, initargs: tuple) -> Iterator[Outcome]:
    """The outcome of every job, in the order they finish."""
    if not jobs:
        return
    if workers <= 1 or len(jobs) < INLINE_BELOW:
        worker.init(*initargs)
        for i in range(0, len(jobs), CHUNK):
            yield from worker.process(jobs[i : i + CHUNK])
        return
    # A fresh pool per segment: memory that a worker leaves behind (pySHACL, where it stands
    # in for the compiled engine, and rdflib) cannot pile up over a long build; each pool
    # start leaves the cores idle for about a second.
    for start in range(0, len(jobs), SEGMENT):
        yield from _run_pool(jobs[start : start + SEGMENT], workers, initargs)


def _run_pool(jobs: list[Job], workers: int, initargs: tuple) -> Iterator[Outcome]:
    chunks = (jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK))
    with ProcessPoolExecutor(workers, initializer=worker.init, initargs=initargs) as pool:
        pending: set[Future[list[Outcome]]] = set()

        def submit_next() -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                pending.add(pool.submit(worker.process, chunk))

        for _ in range(workers * IN_FLIGHT):
            submit_next()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                submit_next()
                yield from future.result()
