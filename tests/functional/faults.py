"""Inject failures into the AWS calls of a `Clients` through botocore's event hooks.

`Faults` answers chosen calls before they leave the client (a `before-send` hook, which
runs ahead of moto's own and of any HTTP): 400 Throttling, 500 InternalFailure, a
connection error, a read timeout, or a delay. botocore's standard retry mode sees these
exactly as it would see AWS's, so its bounded retries (and its retry quota) are exercised
for real. `Crash` stops a process between two writes: after the N-th state-changing call
has succeeded, it raises a BaseException and refuses every later call, as a Lambda that
times out or is killed would.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from model_access.aws.calls import is_write
from model_access.aws.clients import Clients

SERVICES = ("iam", "sagemaker", "tagging", "dynamodb", "sts")
TOTAL_ATTEMPTS = 6
"""botocore's `max_attempts=5` (Clients' DEFAULT_CONFIG) means 5 retries: 6 attempts a call."""

IAM_ANSWERS = {
    "entity-exists": "EntityAlreadyExists",  # a name taken at another path
    "limit-exceeded": "LimitExceeded",  # the account's managed policy quota
    "delete-conflict": "DeleteConflict",  # still attached, as IAM may say right after detach
    "concurrent-modification": "ConcurrentModification",
}
_QUERY = {"iam", "sts"}  # XML error bodies; the others speak JSON
UNREACHED = "https://fault-injected.invalid/"
"""In-process moto answers from a before-send hook too, and every such hook runs; a request
pointed here matches no moto backend, so an injected failure never reaches the backend."""


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def error_response(request: Any, service: str, status: int, code: str) -> AWSResponse:
    """An AWS error answer the way `service` encodes it."""
    if service in _QUERY:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>injected {code}</Message></Error><RequestId>fault</RequestId>"
                "</ErrorResponse>").encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
    return AWSResponse(request.url, status, headers, _Raw(body))


@dataclass
class Rule:
    """Which calls fail and how.

    `kind`: throttle (400), error500 (not applied), error500-applied (applied, then a 500
    answer: the ambiguous case), connection (refused), timeout (after `delay`), slow (delayed
    by `delay`, then answered normally), access-denied (403 AccessDenied: a member role
    that is missing or does not trust the hub), or one of IAM_ANSWERS (a 409 IAM error).
    """

    kind: str
    services: tuple[str, ...] = ("iam",)
    operations: tuple[str, ...] = ()
    """Only these operations (all of the services' when empty)."""
    share: float = 1.0
    """Probability that one matching attempt fails (seeded, so runs repeat)."""
    budget: int | None = None
    """Stop after this many injected failures (None: for as long as the rule is active)."""
    delay: float = 0.0
    body_contains: str = ""
    """Only requests whose body contains this text (a role name, a policy name)."""
    injected: int = 0

    def matches(self, service: str, operation: str, body: str) -> bool:
        return (service in self.services
                and (not self.operations or operation in self.operations)
                and self.body_contains in body)


@dataclass
class Faults:
    """The fault-injecting layer in front of one `Clients` (use as a context manager)."""

    clients: Clients
    rules: list[Rule] = field(default_factory=list)
    seed: int = 0
    sleep: Callable[[float], None] = time.sleep
    """How a delay passes (a test clock's `advance` makes a slow endpoint take no time)."""
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """HTTP attempts per (service, operation), retries included."""
    injected: Counter[str] = field(default_factory=Counter)
    max_attempts: int = 0
    """The most attempts any single call made (botocore's retries are bounded by this)."""

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._hooks: list[tuple[Any, str, str]] = []
        self._this_call = 0

    def _new_call(self, **_: Any) -> None:
        self._this_call = 0

    def __enter__(self) -> Faults:
        for name in SERVICES:
            client = getattr(self.clients, name)
            service_id = client.meta.service_model.service_id.hyphenize()
            event = f"before-send.{service_id}"
            handler = self._handler(name)
            uid = f"faults-{id(self)}"
            client.meta.events.register_first(event, handler, unique_id=uid + "-send")
            client.meta.events.register(f"before-call.{service_id}", self._new_call,
                                        unique_id=uid + "-call")
            self._hooks += [(client, event, uid + "-send"),
                            (client, f"before-call.{service_id}", uid + "-call")]
        return self

    def __exit__(self, *_: object) -> None:
        for client, event, uid in self._hooks:
            client.meta.events.unregister(event, unique_id=uid)
        self._hooks.clear()

    def _handler(self, service: str) -> Callable[..., AWSResponse | None]:
        def before_send(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
            operation = event_name.rsplit(".", 1)[-1]
            self.attempts[(service, operation)] += 1
            self._this_call += 1
            self.max_attempts = max(self.max_attempts, self._this_call)
            body = request.body.decode() if isinstance(request.body, bytes) else str(
                request.body or "")
            for rule in self.rules:
                if not rule.matches(service, operation, body):
                    continue
                if rule.budget is not None and rule.injected >= rule.budget:
                    continue
                if self._random.random() >= rule.share:
                    continue
                rule.injected += 1
                self.injected[rule.kind] += 1
                if rule.kind == "slow":
                    self.sleep(rule.delay)
                    continue
                if rule.kind == "error500-applied":  # the write happened; only the answer failed
                    return error_response(request, service, 500, "InternalFailure")
                request.url = UNREACHED  # moto's stubber (a later before-send hook) skips it
                if rule.kind == "throttle":
                    code = "ThrottlingException" if service == "dynamodb" else "Throttling"
                    return error_response(request, service, 400, code)
                if rule.kind == "error500":
                    return error_response(request, service, 500, "InternalFailure")
                if rule.kind == "access-denied":
                    return error_response(request, service, 403, "AccessDenied")
                if rule.kind in IAM_ANSWERS:  # IAM rules moto does not enforce, said by IAM
                    return error_response(request, service, 409, IAM_ANSWERS[rule.kind])
                if rule.kind == "connection":
                    raise EndpointConnectionError(endpoint_url=request.url)
                if rule.kind == "timeout":
                    self.sleep(rule.delay)
                    raise ReadTimeoutError(endpoint_url=request.url)
                raise AssertionError(f"unknown fault kind {rule.kind}")
            return None
        return before_send


def fast_backoff(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.001) -> None:
    """Keep botocore's retries (count, quota, which errors) but shrink its sleeps."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount",
                        lambda _self, _context: seconds)


class Crash(BaseException):
    """The process stopped (timeout, OOM, kill): nothing after it runs, not even `finally`."""


@dataclass
class CrashAfter:
    """Count state-changing calls; after the `after`-th one succeeds, the process is dead."""

    clients: Clients
    after: int | None = None
    """None: never crash (count only)."""
    writes: list[str] = field(default_factory=list)
    dead: bool = False

    @contextmanager
    def armed(self) -> Iterator[CrashAfter]:
        uid = f"crash-{id(self)}"
        hooked = []
        for name in SERVICES:
            client = getattr(self.clients, name)
            service_id = client.meta.service_model.service_id.hyphenize()
            client.meta.events.register_first(f"before-call.{service_id}", self._before,
                                              unique_id=uid)
            client.meta.events.register(f"after-call.{service_id}", self._make_after(name),
                                        unique_id=uid + "-after")
            hooked.append((client, service_id))
        try:
            yield self
        finally:
            for client, service_id in hooked:
                client.meta.events.unregister(f"before-call.{service_id}", unique_id=uid)
                client.meta.events.unregister(f"after-call.{service_id}",
                                              unique_id=uid + "-after")

    def _before(self, **_: Any) -> None:
        if self.dead:
            raise Crash("the process is gone")

    def _make_after(self, service: str) -> Callable[..., None]:
        def after_call(model: Any, http_response: Any = None, **_: Any) -> None:
            status = getattr(http_response, "status_code", 200)
            if not is_write(model.name) or status >= 300:
                return
            self.writes.append(f"{service}:{model.name}")
            if self.after is not None and len(self.writes) >= self.after:
                self.dead = True
                raise Crash(f"stopped after write {len(self.writes)} ({self.writes[-1]})")
        return after_call


LAGGING_OPERATIONS = ("GetPolicy", "GetPolicyVersion", "ListAttachedRolePolicies",
                      "ListPolicyVersions", "ListPolicies", "ListEntitiesForPolicy")


class LaggingReads:
    """IAM reads that lag one write behind, as IAM's eventual consistency allows.

    moto is strongly consistent. With this layer, a read answers what the same read answered
    before the latest IAM write (when it was made before that write): right after
    CreatePolicyVersion, GetPolicy still shows the previous default version, and
    ListAttachedRolePolicies the previous attachments. A plan built on such a read drops the
    newest grant; the engine must never build one.
    """

    def __init__(self, clients: Clients, operations: tuple[str, ...] = LAGGING_OPERATIONS) -> None:
        self.client = clients.iam
        self.operations = operations
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.writes = 0
        self.lagged = 0

    def __enter__(self) -> LaggingReads:
        events = self.client.meta.events
        events.register("before-call.iam", self._before, unique_id="lag-before")
        events.register("after-call.iam", self._after, unique_id="lag-after")
        return self

    def __exit__(self, *_: object) -> None:
        events = self.client.meta.events
        events.unregister("before-call.iam", unique_id="lag-before")
        events.unregister("after-call.iam", unique_id="lag-after")

    def _before(self, model: Any, params: Any, context: Any, **_: Any) -> None:
        if is_write(model.name):
            self.writes += 1
        elif model.name in self.operations:
            context["lag_key"] = f"{model.name}:{json.dumps(params, sort_keys=True, default=str)}"

    def _after(self, parsed: Any, context: Any, model: Any, **_: Any) -> None:
        key = context.get("lag_key")
        if key is None or not isinstance(parsed, dict) or "Error" in parsed:
            return
        import copy

        fresh = copy.deepcopy(parsed)
        previous = self.answers.get(key)
        if previous is not None and previous[0] < self.writes:
            parsed.clear()
            parsed.update(copy.deepcopy(previous[1]))
            self.lagged += 1
        self.answers[key] = (self.writes, fresh)
