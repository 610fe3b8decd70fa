"""A time budget handed down from the caller (the Lambda context, the CLI's flags, a test).

Long work checks it before each unit of work and hands back what it did not start, instead
of running into the Lambda's timeout mid-write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deadline:
    """`remaining()` seconds left in all; `reserve` of them is kept for wrapping up."""

    remaining: Callable[[], float]
    reserve: float = 0.0

    def left(self) -> float:
        """Seconds that may still be spent on new work."""
        return self.remaining() - self.reserve

    def expired(self) -> bool:
        return self.left() <= 0

    @classmethod
    def unlimited(cls) -> Deadline:
        return cls(lambda: float("inf"))

    @classmethod
    def within(cls, seconds: float, clock: Callable[[], float] = time.monotonic,
               reserve: float = 0.0) -> Deadline:
        end = clock() + seconds
        return cls(lambda: end - clock(), reserve)

    @classmethod
    def from_context(cls, context: Any, reserve: float) -> Deadline:
        """From a Lambda context (`get_remaining_time_in_millis`); unlimited without one."""
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining_ms):
            return cls(lambda: float("inf"), reserve)
        return cls(lambda: float(remaining_ms()) / 1000.0, reserve)
