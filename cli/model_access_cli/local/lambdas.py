"""Load the real Lambda entry points from functions/ and invoke them locally.

The functions are not a package (each folder is what Lambda deploys), so they are loaded
by file path. What they print to stdout (EMF metrics and Powertools' JSON log lines, which
Lambda would send to CloudWatch) is captured per invocation: metrics are tallied, so the
demo can show what the dashboard would, and log lines are handed to `on_log`, so the
local stack can print one line per processed record from the functions' own logs.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from model_access_cli.demo.emf import parse_line

REPO_ROOT = Path(__file__).resolve().parents[3]
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
    """Sums the EMF metrics a handler printed (what CloudWatch would turn into metrics) and
    keeps the EMF lines themselves (the dashboard can be drawn from them)."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()
        self.lines: list[str] = []

    def feed(self, text: str) -> None:
        for raw in text.splitlines():
            points = parse_line(raw.strip())
            if points:
                self.lines.append(raw.strip())
            for point in points:
                self.totals[point.name] += int(point.value)


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


def _install_proxy() -> _PerThreadStdout:
    """Install the proxy once; log handlers bound to the old stdout write through it too."""
    with _install_lock:
        if not isinstance(sys.stdout, _PerThreadStdout):
            original = sys.stdout
            sys.stdout = _PerThreadStdout(original)
            for candidate in logging.root.manager.loggerDict.values():
                for handler in getattr(candidate, "handlers", []):
                    if isinstance(handler, logging.StreamHandler) and handler.stream is original:
                        handler.setStream(sys.stdout)
        return sys.stdout


@contextmanager
def _capture_stdout() -> Iterator[io.StringIO]:
    proxy = _install_proxy()
    buffer = io.StringIO()
    proxy.local.buffer = buffer
    try:
        yield buffer
    finally:
        proxy.local.buffer = None


LogSink = Callable[[dict[str, Any]], None]


def log_lines(text: str) -> Iterator[dict[str, Any]]:
    """The structured (JSON) log lines in captured output, EMF blobs left out."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("{") or '"_aws"' in line:
            continue
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if isinstance(blob, dict):
            yield blob


class LocalInvoker:
    """Call a Lambda handler in-process, capturing its metrics and log lines.

    `lock` (shared by several invokers) runs one invocation at a time: Powertools keeps
    its metrics and log context in module-level objects that two threads would mix.
    `echo` copies what the function printed to the terminal, as `--verbose` asks.
    """

    def __init__(self, module: ModuleType, tally: MetricTally | None = None, *,
                 on_log: LogSink | None = None, lock: threading.Lock | None = None,
                 echo: bool = False) -> None:
        self.module = module
        self.tally = tally or MetricTally()
        self.on_log = on_log
        self.lock: AbstractContextManager[Any] = lock or nullcontext()
        self.echo = echo

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        buffer = io.StringIO()
        with self.lock:
            try:
                with _capture_stdout() as buffer:
                    return self.module.handler(event, context)
            finally:
                self._feed(buffer.getvalue())  # after the capture: sinks may print

    def _feed(self, text: str) -> None:
        self.tally.feed(text)
        if self.echo:
            sys.stdout.write(text)
        if self.on_log is not None:
            for line in log_lines(text):
                self.on_log(line)
