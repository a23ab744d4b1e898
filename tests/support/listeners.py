"""Waiting for the listeners' work after the acknowledgement (views.open, respond, queued
messages): a positive event, so a late duplicate call is seen by the assertions after it."""

from __future__ import annotations

import threading

from bot import acks

WAIT = 10.0  # seconds: far beyond any listener of a test


def listeners_done(timeout: float = WAIT) -> None:
    """Return once every listener run handed to the worker pool before this call has
    finished. Occupying every worker at once with a barrier proves it: the pool takes work
    first in, first out, so no worker is free for the barrier until what came before it ran
    to its end."""
    workers = acks._workers
    size = workers._max_workers
    barrier = threading.Barrier(size + 1, timeout=timeout)
    held = [workers.submit(barrier.wait) for _ in range(size)]
    barrier.wait()
    for f in held:
        f.result(timeout)
