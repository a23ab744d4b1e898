"""Fixtures shared by the end-to-end modules."""

from tests.e2e.test_figures import hand_sprint

__all__ = ["hand_sprint"]  # the hand-computed sprint of test_figures, for other modules too
