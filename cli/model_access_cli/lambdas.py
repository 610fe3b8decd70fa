"""Load the real Lambda entry points from functions/ and invoke them locally.

The functions are not a package (each folder is what Lambda deploys), so they are loaded
by file path. Their EMF metrics (printed to stdout by Powertools) are captured and tallied,
so the demo can show what the dashboard would.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py as module `model_access_fn_<name>`."""
    path = FUNCTIONS_DIR / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"model_access_fn_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MetricTally:
    """Sums the EMF metrics a handler printed (what CloudWatch would turn into metrics)."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()

    def feed(self, text: str) -> None:
        for raw in text.splitlines():
            line = raw.strip()
            if not line.startswith("{") or '"_aws"' not in line:
                continue
            blob = json.loads(line)
            for directive in blob["_aws"].get("CloudWatchMetrics", []):
                for metric in directive.get("Metrics", []):
                    value = blob.get(metric["Name"], 0)
                    values = value if isinstance(value, list) else [value]
                    self.totals[metric["Name"]] += int(sum(values))


class _PerThreadStdout(io.TextIOBase):
    """sys.stdout that sends a capturing thread's writes to its own buffer.

    `contextlib.redirect_stdout` swaps a process-wide global, which concurrent pollers
    (one thread each) would tangle; this proxy is installed once and is thread-safe.
    """

    def __init__(self, original: TextIO) -> None:
        self.original = original
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        return (buffer or self.original).write(text)

    def flush(self) -> None:
        self.original.flush()


_install_lock = threading.Lock()


@contextmanager
def _capture_stdout() -> Iterator[io.StringIO]:
    with _install_lock:
        if not isinstance(sys.stdout, _PerThreadStdout):
            sys.stdout = _PerThreadStdout(sys.stdout)
        proxy = sys.stdout
    buffer = io.StringIO()
    proxy.local.buffer = buffer
    try:
        yield buffer
    finally:
        proxy.local.buffer = None


class LocalInvoker:
    """Call a Lambda handler in-process, capturing its metric output."""

    def __init__(self, module: ModuleType, tally: MetricTally | None = None) -> None:
        self.module = module
        self.tally = tally or MetricTally()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with _capture_stdout() as buffer:
            try:
                return self.module.handler(event, context)
            finally:
                self.tally.feed(buffer.getvalue())
