"""Threads raced against each other, for the tests of faults that need a thread switch at
one particular point."""

from __future__ import annotations

import sys
import threading


def run_switching_often(threads: list[threading.Thread]) -> None:
    """Start `threads` and wait for them all, the interpreter switching from one thread to
    the next as often as it can meanwhile (a race needing a switch at one point is then hit
    in most runs, not one in thousands)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
