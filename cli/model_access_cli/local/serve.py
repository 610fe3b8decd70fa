"""`model-access local serve`: an AWS account with the stack deployed and a trail on, locally.

One process holds it all, each part standing in for the AWS piece named:

- the moto server (`server.py`) with SageMaker's own answers where moto is lenient
  (`sagemaker_guards.py`), seen through `api_tap.SageMakerTap`;
- `local up`'s resources: table, queue + DLQ, the EventBridge rules (`local_stack.py`);
- CloudTrail: `trail.TrailStandIn` puts each watched SageMaker call, by any client, on the
  default bus after a delay;
- the SQS event source mapping: `poller.LocalPoller.run` feeds the real provisioner handler;
- the EventBridge schedule: with `sweep_every`, the real backfill handler as drift sweep.

The terminal shows one line per processed record, built from the provisioner's own JSON
log line, and one per event put on the bus.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from model_access.aws.clients import Clients
from model_access.core.settings import Settings
from model_access.deploy.patterns import TriggerMode
from model_access_cli.local.api_tap import ApiCall, SageMakerTap
from model_access_cli.local.bus_event import BusEvent
from model_access_cli.local.lambdas import LocalInvoker, MetricTally, load_function
from model_access_cli.local.poller import LocalContext, LocalPoller
from model_access_cli.local.sagemaker_guards import SAGEMAKER_GUARDS
from model_access_cli.local.server import moto_server, use_dummy_credentials
from model_access_cli.local.stack import LocalStack, local_up
from model_access_cli.local.trail import DEFAULT_DELAY_SECONDS, TrailStandIn

ACCOUNT = "123456789012"
CONSUMER_VISIBILITY_SECONDS = 10
"""How long a received record stays hidden: a failed record comes back after this."""


@dataclass(frozen=True)
class ServeOptions:
    """What `local serve` runs (its command-line flags)."""

    port: int = 5000
    region: str = "us-east-1"
    trail: bool = True
    trail_delay: float = DEFAULT_DELAY_SECONDS
    consumer: bool = True
    sweep_every: float | None = None
    verbose: bool = False
    trigger: TriggerMode = TriggerMode.BOTH


class Terminal:
    """Thread-safe one-line reports: processed records, bus deliveries, sweeps."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            print(f"{datetime.now():%H:%M:%S}  {text}", file=self.out, flush=True)

    def record(self, line: Mapping[str, Any]) -> None:
        """A provisioner log line with an outcome; other lines are not records."""
        text = record_line(line)
        if text:
            self.say(text)

    def sweep(self, line: Mapping[str, Any]) -> None:
        summary = line.get("summary")
        if isinstance(summary, Mapping):
            fields = ("seen", "granted", "moved", "revoked", "refused", "unchanged", "failed")
            self.say("sweep     " + ", ".join(f"{f} {summary.get(f, 0)}" for f in fields))

    def bus(self, event: BusEvent, call: ApiCall) -> None:
        subject = call.request.get("ModelName") or call.request.get("ResourceArn") or ""
        self.say(f"bus       {event.label}: {str(subject).rsplit('/', 1)[-1]}")


CHANGES = frozenset({"Granted", "Moved", "Repaired"})


def record_line(line: Mapping[str, Any]) -> str | None:
    """`Granted  churn-v3  +data-scientist  CreateModel  reason` from one JSON log line."""
    outcome = line.get("outcome")
    if not isinstance(outcome, str):
        return None
    arn, name = line.get("model_arn"), line.get("model_name")
    model = name if isinstance(name, str) else (
        arn.rsplit("/", 1)[-1] if isinstance(arn, str) else f"event {line.get('event_id')}")
    granted = line.get("granted_to") if outcome in CHANGES else None
    roles = ([f"+{granted}"] if granted else []) + [f"-{r}" for r in line.get("revoked_from")
                                                   or []]
    shown = " ".join(roles) or str(line.get("owner") or line.get("role") or "-")
    trigger = line.get("trigger") or "-"
    return f"{outcome:<17} {model:<30} {shown:<28} {trigger:<16} {line.get('message', '')}"


class LocalServe:
    """Starts the stand-ins around a running server; `stop` ends them in reverse order."""

    def __init__(self, url: str, tap: SageMakerTap, options: ServeOptions,
                 terminal: Terminal) -> None:
        self.url, self.options, self.terminal = url, options, terminal
        self.clients = Clients(region=options.region, endpoint_url=url)
        self.stack: LocalStack = local_up(
            self.clients, Settings.from_mapping(dict(os.environ, AWS_REGION=options.region)),
            options.trigger)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.trail: TrailStandIn | None = None
        if options.trail:
            # SageMaker sends its own events in every mode; a trail exists unless `native`.
            self.trail = TrailStandIn(url, delay=options.trail_delay,
                                      cloudtrail=options.trigger.uses_cloudtrail,
                                      on_delivered=terminal.bus).start()
            tap.listeners.append(self.trail)
        lock, tally = threading.Lock(), MetricTally()
        if options.consumer:
            provisioner = LocalInvoker(load_function("provisioner"), tally, lock=lock,
                                       on_log=terminal.record, echo=options.verbose)
            poller = LocalPoller(self.clients.sqs, self.stack.queue_url, self.stack.queue_arn,
                                 provisioner, account=ACCOUNT, window_seconds=0.5,
                                 visibility_timeout=CONSUMER_VISIBILITY_SECONDS)
            self._thread("event-source-mapping", lambda: poller.run(self.stop_event))
        if options.sweep_every:
            backfill = LocalInvoker(load_function("backfill"), tally, lock=lock,
                                    on_log=terminal.sweep, echo=options.verbose)
            self._thread("sweep-schedule", lambda: self._sweep(backfill))

    def _thread(self, name: str, target: Callable[[], Any]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _sweep(self, backfill: LocalInvoker) -> None:
        every = float(self.options.sweep_every or 0)
        arn = f"arn:aws:lambda:{self.options.region}:{ACCOUNT}:function:model-access-backfill"
        while not self.stop_event.wait(every):
            backfill({"dryRun": False}, LocalContext("model-access-backfill", arn))

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if self.trail is not None:
            self.trail.stop()


def serve(options: ServeOptions, out: TextIO = sys.stdout,
          stop: threading.Event | None = None) -> int:
    """Run until Ctrl-C (or `stop` is set); 0 on a clean stop."""
    use_dummy_credentials(options.region)
    if os.environ.get("POWERTOOLS_LOG_LEVEL", "").upper() != "DEBUG":
        os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # the per-record lines are INFO lines
    terminal = Terminal(out)
    tap = SageMakerTap(SAGEMAKER_GUARDS)
    with moto_server(options.port, tap.around) as url:
        os.environ["AWS_ENDPOINT_URL"] = url  # the functions' clients, as Lambda's would
        local = LocalServe(url, tap, options, terminal)
        try:
            _banner(local, out)
            waiting = stop or threading.Event()
            while not waiting.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            print("stopping ...", file=out, flush=True)
            local.stop()
    return 0


def _banner(local: LocalServe, out: TextIO) -> None:
    options, stack = local.options, local.stack
    trail = (f"trail stand-in (delay {options.trail_delay:g} s) and SageMaker's own events"
             if options.trigger.uses_cloudtrail else "SageMaker's own events (no trail)")
    parts = [f"trigger {options.trigger}", trail if options.trail
             else "no trail, no SageMaker events (--no-trail)",
             "event source mapping -> provisioner" if options.consumer
             else "no consumer (--no-consumer)",
             f"drift sweep every {options.sweep_every:g} s" if options.sweep_every
             else "no sweep (--sweep-every SECONDS)"]
    print(f"moto server on {local.url} with table {stack.table}, queue {stack.queue_url}, "
          f"rules {', '.join(stack.rules)}", file=out)
    print("  " + "; ".join(parts), file=out)
    print(f"  export AWS_ENDPOINT_URL={local.url}   # then use the AWS CLI, boto3, your "
          "pipeline ...", file=out)
    print("Ctrl-C stops it (its state is in memory only).", file=out, flush=True)
