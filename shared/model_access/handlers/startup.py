"""What a Lambda function's module does while it initializes (both functions' app.py)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

LAMBDA_RUNTIME_PREFIX = "AWS_Lambda_"
"""How AWS_EXECUTION_ENV starts in a Lambda container (a reserved variable Lambda sets)."""


def in_lambda_runtime() -> bool:
    """Whether this process is a Lambda container (not a test, the demo or the bench)."""
    return os.environ.get("AWS_EXECUTION_ENV", "").startswith(LAMBDA_RUNTIME_PREFIX)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic collector for the imports of a function's init.

    They create only objects that live as long as the container (modules, classes,
    functions): the collector would walk an ever larger heap while they run and find
    nothing to free (README, Benchmarks, "Cold start as deployed"). It is left as it was
    found: a local run loads the module into a process that may have turned it off.

    In a Lambda container (AWS_EXECUTION_ENV says so) everything the process
    holds at the end is moved out of the collector's reach (`gc.freeze()`): otherwise the
    first allocation after the pause starts a collection that walks every object the
    imports made, once more for nothing, inside the init. Elsewhere (tests, the demo, the
    bench's in-process runs) the process also holds state that must stay collectable, so
    nothing is frozen there.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if in_lambda_runtime():
            gc.freeze()
        if collecting:
            gc.enable()
