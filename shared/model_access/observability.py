"""Powertools Logger, Metrics (EMF) and Tracer, shared by both functions.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE
(defaults below), so every metric carries the one `service` dimension.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from model_access.aws.calls import CallCounter, is_write
from model_access.outcomes import CallMetric, Outcome
from model_access.settings import DEFAULT_NAMESPACE, DEFAULT_SERVICE

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE)
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE)

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


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

