"""EventBridge patterns and the queue policy that admits their rules: one builder each, used
by the Pulumi stack, `local up` and the tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final

from model_access.core.errors import ConfigurationError
from model_access.model.events import (
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


def queue_policy(
    queue_arn: str,
    rule_arns: list[str],
    *,
    trusted_sources: Sequence[str] = (),
    redrive_principals: Sequence[str] = (),
) -> dict[str, Any]:
    """Only our rules, through EventBridge, may put a message on the queue; nobody over HTTP.

    The provisioner believes the caller named in a body only because of this policy, so it
    *denies* `sqs:SendMessage` to everyone (an Allow alone would not stop a principal whose
    own policy allows SendMessage) unless `aws:SourceArn` is one of our rules or one of
    `trusted_sources`: the paired queue, so that SQS itself may move messages between the
    queue and its DLQ (maxReceiveCount, and an operator's DLQ redrive). A negated condition
    on a key the request lacks is true (IAM condition operators reference), so a direct
    SendMessage, which has no `aws:SourceArn`, is denied. `redrive_principals` (operator
    role ARNs) are exempt too, in case a redrive task sends with its starter's identity:
    they are trusted exactly like EventBridge, so list only administrators.
    """
    not_ours: dict[str, Any] = {"aws:SourceArn": [*rule_arns, *trusted_sources]}
    if redrive_principals:
        not_ours["aws:PrincipalArn"] = list(redrive_principals)
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
                "Sid": "NoMessagesFromAnyoneElse",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnNotEquals": not_ours},
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


def event_queue_policies(
    queue_arn: str,
    dlq_arn: str,
    rule_arns: list[str],
    redrive_principals: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event queue's and its DLQ's policies: each trusts our rules and the other queue.

    The DLQ is guarded as tightly as the queue: a message planted there would be believed
    once an operator redrives it.
    """
    return (
        queue_policy(queue_arn, rule_arns, trusted_sources=[dlq_arn],
                     redrive_principals=redrive_principals),
        queue_policy(dlq_arn, rule_arns, trusted_sources=[queue_arn],
                     redrive_principals=redrive_principals),
    )
