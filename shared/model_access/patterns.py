"""The EventBridge event pattern: one builder used by the Pulumi stack, `local up` and tests."""

from __future__ import annotations

import json
from typing import Any

from model_access.events import (
    CLOUDTRAIL_DETAIL_TYPE,
    HANDLED_EVENT_NAMES,
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
    from model_access.events import RECONCILE_DETAIL_TYPE, RECONCILE_SOURCE

    return {"source": [RECONCILE_SOURCE], "detail-type": [RECONCILE_DETAIL_TYPE]}
