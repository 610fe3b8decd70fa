"""EventBridge patterns and the queue policy that admits their rules: one builder each, used
by the Pulumi stack, `local up` and the tests."""

from __future__ import annotations

import json
from typing import Any

from model_access.events import (
    CLOUDTRAIL_DETAIL_TYPE,
    HANDLED_EVENT_NAMES,
    RECONCILE_DETAIL_TYPE,
    RECONCILE_SOURCE,
    SAGEMAKER_EVENT_SOURCE,
    SAGEMAKER_SOURCE,
)


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


def sagemaker_model_calls_pattern_json() -> str:
    """The pattern as the JSON text EventBridge's PutRule takes."""
    return json.dumps(sagemaker_model_calls_pattern(), separators=(",", ":"), sort_keys=True)


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
