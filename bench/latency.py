"""What the ratios become when AWS calls are slow: the latency sensitivity study (issue 13).

moto answers every call in about the same few milliseconds, which hides the point of the
design: IAM writes are slow and IAM throttles them. This study gives every AWS call a
latency, the same for both designs, and IAM writes a rate cap (a token bucket), then asks
how long the burst and the backfill of each design take.

How, without sleeping for hours: a botocore hook (`before-call` / `after-call`, put on every
client that botocore sessions create while a `CallTrace` is installed, so both designs'
clients get it alike) records each call a design makes inside the measured windows (its
handler invocations, its backfill run): start, end, service, operation, thread. `simulate`
then replays the trace: the time between calls (the design's own work, measured) is kept,
each call's measured moto time is replaced by the injected latency, and each IAM write first
waits for a token. For code that makes its calls one after another, as both designs do (the
trace records the threads, and `sleep_check` runs a small burst with the hook really
sleeping to compare), that is the time a run with those latencies would take.

Every number here is a parameter we chose, not an AWS fact; no published AWS figure is used
for any of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Final

IAM_WRITE_MS_SWEEP: Final = (50, 150, 400)
"""IAM write latencies swept (chosen)."""
OTHER_MS: Final = 20.0
"""Every other call: IAM reads, DynamoDB, tagging, SageMaker (chosen)."""
IAM_WRITES_PER_SECOND: Final = 10.0
IAM_WRITE_BURST: Final = 10
"""Token bucket for IAM writes: refill rate and capacity (chosen; starts full)."""


@dataclass(frozen=True)
class LatencyProfile:
    """What each call costs in the study."""

    iam_write_ms: float
    other_ms: float = OTHER_MS
    iam_writes_per_second: float = IAM_WRITES_PER_SECOND
    iam_write_burst: int = IAM_WRITE_BURST

    def latency(self, service: str, operation: str) -> float:
        """Seconds one call takes on the wire."""
        return (self.iam_write_ms if is_iam_write(service, operation) else self.other_ms) / 1000


def is_iam_write(service: str, operation: str) -> bool:
    from model_access.aws.calls import is_write

    return service == "iam" and is_write(operation)


class TokenBucket:
    """`rate` tokens a second up to `capacity`, starting full; `take(now)` says how long the
    caller waits for its token (and takes it)."""

    def __init__(self, rate: float, capacity: int) -> None:
        self.rate, self.capacity = rate, float(capacity)
        self.tokens, self.last = float(capacity), 0.0

    def take(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        wait = (1 - self.tokens) / self.rate
        self.tokens, self.last = 0.0, now + wait
        return wait


@dataclass
class Call:
    service: str
    operation: str
    started: float
    ended: float
    thread: int
    slept: float = 0.0
    """Seconds the hook slept just before the call (only when it sleeps)."""


@dataclass
class Window:
    """One measured stretch (a handler invocation, a backfill run) and the calls inside it."""

    started: float
    ended: float = 0.0
    calls: list[Call] = field(default_factory=list)


class CallTrace:
    """Records the calls made inside `window()`s; optionally sleeps for `sleep_profile`."""

    def __init__(self, sleep_profile: LatencyProfile | None = None) -> None:
        self.windows: list[Window] = []
        self._open: Window | None = None
        self._lock = threading.Lock()
        self._sleep = sleep_profile
        self._bucket = (TokenBucket(sleep_profile.iam_writes_per_second,
                                    sleep_profile.iam_write_burst) if sleep_profile else None)
        self._clock0 = time.perf_counter()
        self.oversleep = 0.0
        """Seconds time.sleep overran what was asked (the OS's doing, not the model's)."""

    @contextmanager
    def installed(self) -> Iterator[CallTrace]:
        """Hook every botocore session created meanwhile (each boto3.Session() makes one)."""
        import botocore.handlers

        specs = [("before-call", self._before), ("after-call", self._after),
                 ("after-call-error", self._after)]
        botocore.handlers.BUILTIN_HANDLERS.extend(specs)
        try:
            yield self
        finally:
            for spec in specs:
                botocore.handlers.BUILTIN_HANDLERS.remove(spec)

    @contextmanager
    def window(self) -> Iterator[None]:
        opened = Window(time.perf_counter())
        self._open = opened
        try:
            yield
        finally:
            opened.ended = time.perf_counter()
            self._open = None
            self.windows.append(opened)

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if self._open is None:
            return
        service = model.service_model.service_name
        slept = 0.0
        if self._sleep is not None and self._bucket is not None:
            delay = self._sleep.latency(service, model.name)
            if is_iam_write(service, model.name):
                delay += self._bucket.take(time.perf_counter() - self._clock0)
            before = time.perf_counter()
            time.sleep(delay)
            slept = time.perf_counter() - before
            self.oversleep += slept - delay
        context["bench_latency_call"] = (service, model.name, time.perf_counter(), slept)

    def _after(self, context: dict[str, Any], **_: Any) -> None:
        begun = context.pop("bench_latency_call", None)
        opened = self._open
        if begun is None or opened is None:
            return
        service, operation, started, slept = begun
        with self._lock:
            opened.calls.append(Call(service, operation, started, time.perf_counter(),
                                     threading.get_ident(), slept))

    def calls(self) -> int:
        return sum(len(w.calls) for w in self.windows)

    def threads(self) -> int:
        return len({c.thread for w in self.windows for c in w.calls})

    def sequence(self) -> list[tuple[str, str]]:
        """Every call, in order: what the design did, whatever each call cost."""
        return [(c.service, c.operation) for w in self.windows for c in w.calls]


def simulate(windows: Sequence[Window], profile: LatencyProfile, *,
             keep_call_time: bool = False) -> dict[str, float]:
    """Seconds the windows would take with `profile`'s latencies, back to back.

    The time between calls is kept as measured (less what the hook slept, if it did); a call
    costs its latency (plus its measured time when `keep_call_time`, to compare with the
    run's wall time) and, for an IAM write, its wait for a token. The bucket's clock is the
    simulated one.
    """
    bucket = TokenBucket(profile.iam_writes_per_second, profile.iam_write_burst)
    now = own = on_wire = waited = 0.0
    for window in windows:
        cursor = window.started
        for call in sorted(window.calls, key=lambda c: c.started):
            gap = max(0.0, call.started - call.slept - cursor)
            now += gap
            own += gap
            if is_iam_write(call.service, call.operation):
                wait = bucket.take(now)
                now += wait
                waited += wait
            cost = profile.latency(call.service, call.operation)
            cost += (call.ended - call.started) if keep_call_time else 0.0
            now += cost
            on_wire += cost
            cursor = max(cursor, call.ended)
        tail = max(0.0, window.ended - cursor)
        now += tail
        own += tail
    return {"seconds": round(now, 3), "own_work_seconds": round(own, 3),
            "calls_seconds": round(on_wire, 3), "token_wait_seconds": round(waited, 3)}


def sweep(traces: Mapping[str, CallTrace],
          sweep_ms: Sequence[float] = IAM_WRITE_MS_SWEEP) -> dict[str, Any]:
    """Simulated times of each design at each IAM write latency, and baseline / ours."""
    out: dict[str, Any] = {"simulated": {}, "wall_ratio_by_iam_write_ms": {}}
    for ms in sweep_ms:
        profile = LatencyProfile(iam_write_ms=ms)
        times = {design: simulate(trace.windows, profile) for design, trace in traces.items()}
        key = f"{ms:g}"
        out["simulated"][key] = times
        out["wall_ratio_by_iam_write_ms"][key] = round(
            times["baseline"]["seconds"] / times["model-access"]["seconds"], 2)
    return out


def sleep_check(run: Callable[[CallTrace], Any], profile: LatencyProfile) -> dict[str, Any]:
    """Run the same small scenario twice: recorded at moto's speed, then with the hook really
    sleeping. Replaying a recording is sound when (1) the design makes the same calls in the
    same order however slow they are, and (2) the replay of the sleeping run (its own work
    and moto's time as measured there, plus the model's latencies and token waits) adds up to
    that run's wall time. Comparing the two runs' wall times directly would mostly measure
    this machine's noise."""
    recorded, slept = CallTrace(), CallTrace(sleep_profile=profile)
    with recorded.installed():
        run(recorded)
    with slept.installed():
        run(slept)
    replayed = simulate(slept.windows, profile, keep_call_time=True)["seconds"]
    measured = sum(w.ended - w.started for w in slept.windows)
    return {"profile": asdict(profile), "calls": recorded.calls(),
            "same_calls_in_same_order": recorded.sequence() == slept.sequence(),
            "slept_seconds": round(measured, 3), "replayed_seconds": replayed,
            "oversleep_seconds": round(slept.oversleep, 3),
            "error_percent": round((replayed - measured) / measured * 100, 1)
            if measured else None}


def time_split(trace: CallTrace, wall_seconds: float) -> dict[str, Any]:
    """Where a traced run's wall time went: inside AWS calls (per operation: the client's
    time from sending to the parsed answer, i.e. HTTP, moto and botocore's parsing), in the
    design's own code (its handler time outside calls, botocore's request building
    included), and outside the handler (the poller standing in for the event source
    mapping, between batches)."""
    by_operation: dict[str, dict[str, float]] = {}
    for window in trace.windows:
        for call in window.calls:
            entry = by_operation.setdefault(f"{call.service}:{call.operation}",
                                            {"calls": 0, "seconds": 0.0})
            entry["calls"] += 1
            entry["seconds"] += call.ended - call.started
    inside = sum(w.ended - w.started for w in trace.windows)
    in_calls = sum(e["seconds"] for e in by_operation.values())
    ordered = sorted(by_operation.items(), key=lambda kv: -kv[1]["seconds"])
    return {
        "wall_seconds": round(wall_seconds, 3),
        "handler_seconds": round(inside, 3),
        "in_aws_calls_seconds": round(in_calls, 3),
        "own_code_seconds": round(inside - in_calls, 3),
        "outside_handler_seconds": round(wall_seconds - inside, 3),
        "by_operation": {op: {"calls": int(e["calls"]), "seconds": round(e["seconds"], 3),
                              "ms_per_call": round(1000 * e["seconds"] / e["calls"], 2)}
                         for op, e in ordered},
    }
