"""EventBridge patterns and the queue policy that admits their rules: one builder each, used
by the Pulumi stack, `local up` and the tests."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Final

from model_access.errors import ConfigurationError
from model_access.events import (
    CLOUDTRAIL_DETAIL_TYPE,
    HANDLED_EVENT_NAMES,
    MODEL_STATE_DETAIL_TYPE,
    RECONCILE_DETAIL_TYPE,
    RECONCILE_SOURCE,
    SAGEMAKER_EVENT_SOURCE,
    SAGEMAKER_SOURCE,
)


class TriggerMode(StrEnum):
    """Which SageMaker events feed the queue (stack setting `trigger`).

    `cloudtrail`: API calls recorded by a trail (caller known, minutes late); `native`:
    SageMaker's own model state changes (near real time, no trail, no caller); `both`.
    """

    CLOUDTRAIL = "cloudtrail"
    NATIVE = "native"
    BOTH = "both"

    @classmethod
    def parse(cls, text: str) -> TriggerMode:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ConfigurationError(
                f"trigger {text!r}: expected one of {', '.join(m.value for m in cls)}") from None

    @property
    def uses_cloudtrail(self) -> bool:
        return self is not TriggerMode.NATIVE

    @property
    def uses_native(self) -> bool:
        return self is not TriggerMode.CLOUDTRAIL


MODEL_CALLS_RULE: Final = "sagemaker-model-calls"
MODEL_STATE_RULE: Final = "sagemaker-model-state"


def trigger_patterns(mode: TriggerMode) -> dict[str, dict[str, Any]]:
    """The SageMaker rules a mode needs, by name suffix (the stack and `local up` use both)."""
    rules: dict[str, dict[str, Any]] = {}
    if mode.uses_cloudtrail:
        rules[MODEL_CALLS_RULE] = sagemaker_model_calls_pattern()
    if mode.uses_native:
        rules[MODEL_STATE_RULE] = sagemaker_model_state_pattern()
    return rules


def pattern_json(pattern: dict[str, Any]) -> str:
    """A pattern as the JSON text EventBridge's PutRule takes."""
    return json.dumps(pattern, separators=(",", ":"), sort_keys=True)


def sagemaker_model_state_pattern() -> dict[str, Any]:
    """SageMaker's own events for models created or deleted (no trail needed)."""
    return {"source": [SAGEMAKER_SOURCE], "detail-type": [MODEL_STATE_DETAIL_TYPE]}


def sagemaker_model_calls_pattern() -> dict[str, Any]:
    """Successful SageMaker model calls recorded by CloudTrail (failed calls carry errorCode)."""
    return {
        "source": [SAGEMAKER_SOURCE],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {
            "eventSource": [SAGEMAKER_EVENT_SOURCE],
            "eventName": [str(name) for name in HANDLED_EVENT_NAMES],
            "errorCode": [{"exists": False}],
        },
    }


def reconcile_requests_pattern() -> dict[str, Any]:
    """Operators' re-drive requests (`model-access` source, "Reconcile Model") sent to the bus."""
    return {"source": [RECONCILE_SOURCE], "detail-type": [RECONCILE_DETAIL_TYPE]}


def queue_policy(queue_arn: str, rule_arns: list[str]) -> dict[str, Any]:
    """Only our rules, through EventBridge, may send to the queue; nobody over plain HTTP."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyTheModelCallsRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
