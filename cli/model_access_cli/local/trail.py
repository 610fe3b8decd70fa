"""The CloudTrail stand-in: SageMaker calls made against the local server become events.

It also plays SageMaker's own "SageMaker Model State Change" events (`native_events.py`),
which AWS sends with or without a trail, sooner (`native_delay`).

On AWS a trail records each API call, and EventBridge receives it on the account's default
bus as an "AWS API Call via CloudTrail" event, minutes later, failed calls included. Here
`api_tap.SageMakerTap` hands every SageMaker call to `TrailStandIn`, which keeps those the
stack's rules listen to (the event names come from the pattern builder), builds the
CloudTrail `detail` (`cloudtrail.detail`, the shape of the fixtures in events/), with the
caller's `userIdentity` (`caller_identity.py`), request and response in CloudTrail's
lower-camel-case, and `errorCode`/`errorMessage` for a failed call. After `delay` seconds
it puts the event on the default bus with `PutEvents`, signed with the caller's key so it
lands in the caller's account; the EventBridge rules route it from there, as on AWS.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import sys
import threading
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import ListShape, MapShape, Shape, StructureShape

from model_access.deploy.patterns import sagemaker_model_calls_pattern
from model_access.model.events import CLOUDTRAIL_DETAIL_TYPE, SAGEMAKER_SOURCE
from model_access_cli.local import cloudtrail
from model_access_cli.local.api_tap import ApiCall
from model_access_cli.local.bus_event import BusEvent
from model_access_cli.local.caller_identity import PLACEHOLDER_SECRET, CallerIdentities
from model_access_cli.local.native_events import OBSERVED, NativeEvents

DEFAULT_DELAY_SECONDS: Final = 3.0
NATIVE_DELAY_SECONDS: Final = 0.5


def watched_event_names() -> frozenset[str]:
    """The CloudTrail event names the stack's rule routes (so the trail records those)."""
    return frozenset(sagemaker_model_calls_pattern()["detail"]["eventName"])


@cache
def _operation(name: str) -> Any:
    return botocore.session.get_session().get_service_model("sagemaker").operation_model(name)


def cloudtrail_shape(shape: Shape | None, value: Any) -> Any:
    """A request or response as CloudTrail writes it: structure members in lower camel case.

    Map keys are data (environment variable names, say) and keep their spelling.
    """
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {name[:1].lower() + name[1:]: cloudtrail_shape(shape.members.get(name), item)
                for name, item in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [cloudtrail_shape(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, Mapping):
        return {key: cloudtrail_shape(shape.value, item) for key, item in value.items()}
    return value


def cloudtrail_detail(call: ApiCall, user_identity: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudTrail record of one SageMaker call (what EventBridge puts in `detail`)."""
    operation = _operation(call.operation)
    request = cloudtrail_shape(operation.input_shape, call.request) or None
    response = None
    if call.response is not None and operation.output_shape is not None:
        response = cloudtrail_shape(operation.output_shape, call.response) or None
    return cloudtrail.detail(
        call.operation, request, response,
        account=str(user_identity.get("accountId", cloudtrail.DEFAULT_ACCOUNT)),
        region=call.region,
        error_code=call.error_code,
        error_message=call.error_message,
        when=call.when,
        user_identity=user_identity,
        source_ip=call.source_ip,
        user_agent=call.user_agent,
        request_id=call.request_id,
    )


def cloudtrail_events(call: ApiCall, user_identity: Mapping[str, Any]) -> list[BusEvent]:
    """What a trail with logging on sends EventBridge for this call."""
    label = f"CloudTrail {call.operation}" + (f" ({call.error_code})" if call.error_code else "")
    return [BusEvent(SAGEMAKER_SOURCE, CLOUDTRAIL_DETAIL_TYPE,
                     cloudtrail_detail(call, user_identity), label=label)]


class TrailStandIn:
    """A listener for `SageMakerTap`: records watched calls, delivers them after a delay.

    `cloudtrail=False` is an account with no trail (the stack's `native` trigger);
    `native=False` leaves SageMaker's own events out.
    """

    def __init__(self, endpoint_url: str, *, delay: float = DEFAULT_DELAY_SECONDS,
                 native_delay: float = NATIVE_DELAY_SECONDS, cloudtrail: bool = True,
                 native: bool = True,
                 on_delivered: Callable[[BusEvent, ApiCall], None] | None = None) -> None:
        self.endpoint_url = endpoint_url
        self.delay, self.native_delay = delay, native_delay
        self.cloudtrail, self.native = cloudtrail, native
        self.event_names = watched_event_names()
        self.native_events = NativeEvents()
        self.on_delivered = on_delivered
        self.identities = CallerIdentities(endpoint_url)
        self.delivered = 0
        self._intake: queue.Queue[tuple[ApiCall, bool, bool] | None] = queue.Queue()
        self._due: list[tuple[float, int, BusEvent, ApiCall]] = []
        self._order = itertools.count()
        self._busy = 0
        self._idle = threading.Condition()
        self._recording = threading.Event()
        self._recording.set()
        self._sending = threading.Event()
        self._sending.set()
        self._thread = threading.Thread(target=self._run, name="trail-stand-in", daemon=True)
        self._buses: dict[tuple[str, str], Any] = {}

    # --- the listener (runs on the server's request thread: only enqueue) ---------------

    def __call__(self, call: ApiCall) -> None:
        if call.operation not in self.event_names | OBSERVED:
            return
        sending = self._sending.is_set()
        with self._idle:
            self._busy += 1
        self._intake.put((call, sending and self.cloudtrail and self._recording.is_set(),
                          sending and self.native))

    # --- control --------------------------------------------------------------------------

    def start(self) -> TrailStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop delivering (events still waiting for their delay are dropped)."""
        self._intake.put(None)
        self._thread.join(timeout=10)

    def stop_logging(self) -> None:
        """Like `cloudtrail stop-logging`: calls from now on are never recorded by CloudTrail
        (SageMaker's own events still flow)."""
        self._recording.clear()

    def start_logging(self) -> None:
        self._recording.set()

    def lose_events(self, lost: bool = True) -> None:
        """While `lost`, no event of any kind reaches the bus (what only the sweep repairs)."""
        if lost:
            self._sending.clear()
        else:
            self._sending.set()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every call recorded so far is on the bus; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    # --- the worker -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            wait = max(0.0, self._due[0][0] - time.monotonic()) if self._due else None
            try:
                call = self._intake.get(timeout=wait)
            except queue.Empty:
                pass
            else:
                if call is None:
                    return
                self._record(*call)
            while self._due and self._due[0][0] <= time.monotonic():
                _, _, event, source = heapq.heappop(self._due)
                self._deliver(event, source)

    def _record(self, call: ApiCall, cloudtrail: bool, native: bool) -> None:
        now, scheduled = time.monotonic(), []
        for event in self.native_events(call, emit=native):
            scheduled.append((now + self.native_delay, event))
        if cloudtrail and call.operation in self.event_names:
            try:
                identity = self.identities.user_identity(call.access_key_id, call.region)
                scheduled += [(now + self.delay, e) for e in cloudtrail_events(call, identity)]
            except (ClientError, BotoCoreError, KeyError, ValueError) as exc:
                print(f"trail stand-in: could not record {call.operation}: {exc}",
                      file=sys.stderr)
        with self._idle:
            self._busy += len(scheduled) - 1
            self._idle.notify_all()
        for due, event in scheduled:
            heapq.heappush(self._due, (due, next(self._order), event, call))

    def _deliver(self, event: BusEvent, call: ApiCall) -> None:
        try:
            answer = self._bus(call.access_key_id, call.region).put_events(
                Entries=[event.entry()])
            if answer.get("FailedEntryCount"):
                print(f"trail stand-in: PutEvents refused {event.label}: {answer}",
                      file=sys.stderr)
            else:
                self.delivered += 1
                if self.on_delivered is not None:
                    self.on_delivered(event, call)
        except (ClientError, BotoCoreError) as exc:
            print(f"trail stand-in: could not deliver {event.label}: {exc}", file=sys.stderr)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _bus(self, access_key_id: str, region: str) -> Any:
        """An EventBridge client that moto maps to the caller's account (its key)."""
        key = (access_key_id, region)
        if key not in self._buses:
            self._buses[key] = boto3.client(
                "events", endpoint_url=self.endpoint_url, region_name=region,
                aws_access_key_id=access_key_id or "anonymous",
                aws_secret_access_key=PLACEHOLDER_SECRET)
        return self._buses[key]
