"""What a Lambda function's module does while it initializes (both functions' app.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic collector for the imports of a function's init.

    They create only objects that live as long as the container (modules, classes,
    functions): the collector would walk an ever larger heap while they run and find
    nothing to free (README, Benchmarks, "Cold start as deployed"). It is left as it was
    found: a local run loads the module into a process that may have turned it off.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
