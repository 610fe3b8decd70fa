"""Powertools Logger, Metrics (EMF) and Tracer, shared by both functions.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE
(defaults below), so every metric carries the one `service` dimension.

The X-Ray SDK costs about 0.4 s of cold start (it builds two boto3 clients at import), and
Powertools' Tracer imports it even when disabled. So with POWERTOOLS_TRACE_DISABLED=true
the Tracer is never built and its decorators are pass-throughs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from model_access.aws.calls import CallCounter, is_write
from model_access.core.outcomes import CallMetric, Outcome
from model_access.core.settings import DEFAULT_NAMESPACE, DEFAULT_SERVICE

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE)
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE)

F = TypeVar("F", bound=Callable[..., Any])


class TracerLike(Protocol):
    """The part of Powertools' Tracer the functions use."""

    def capture_lambda_handler(self, lambda_handler: F) -> F: ...


class _NoTracer:
    """Stands in for Tracer when tracing is disabled, without importing the X-Ray SDK."""

    def capture_lambda_handler(self, lambda_handler: F) -> F:
        return lambda_handler


def tracing_disabled(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return env.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in {"1", "true", "yes"}


def _tracer() -> TracerLike:
    if tracing_disabled():
        return _NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)  # type: ignore[return-value]


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = _tracer()


def count_outcome(outcome: Outcome, value: int = 1) -> None:
    """One EMF count for an outcome (metric name = the outcome's value)."""
    metrics.add_metric(name=outcome.value, unit=MetricUnit.Count, value=value)


def count_calls(counter: CallCounter, before: dict[str, int]) -> None:
    """Emit this invocation's AWS call counts (the difference since `before`)."""
    now = counter.snapshot()
    delta = {k: v - before.get(k, 0) for k, v in now.items() if v - before.get(k, 0) > 0}
    iam = sum(v for k, v in delta.items() if k.startswith("iam:"))
    iam_writes = sum(
        v for k, v in delta.items() if k.startswith("iam:") and is_write(k.split(":", 1)[1])
    )
    metrics.add_metric(name=CallMetric.IAM_CALLS.value, unit=MetricUnit.Count, value=iam)
    metrics.add_metric(name=CallMetric.IAM_WRITES.value, unit=MetricUnit.Count, value=iam_writes)
    metrics.add_metric(name=CallMetric.AWS_CALLS.value, unit=MetricUnit.Count,
                       value=sum(delta.values()))

