"""SageMaker's own "SageMaker Model State Change" events, as the local stand-in emits them.

On AWS, SageMaker puts one (or several) of these on the default bus when a model is created
or deleted, in near real time, with or without a trail: `resources` holds the model ARN,
`detail` describes the model (`ModelName`, `ModelArn`, `PrimaryContainer`,
`ExecutionRoleArn`, `CreationTime` in epoch milliseconds, `Tags` as a map), and nothing
names the caller. A deleted model's event still describes it; the stand-in remembers what
it saw of each model (every SageMaker call passes the tap) to describe it on delete.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Final

from model_access.model.events import MODEL_STATE_DETAIL_TYPE, SAGEMAKER_SOURCE
from model_access_cli.local.api_tap import ApiCall
from model_access_cli.local.bus_event import BusEvent

STATE_CHANGES: Final = frozenset({"CreateModel", "DeleteModel"})
"""The calls that change a model's state (tag edits do not)."""
OBSERVED: Final = STATE_CHANGES | {"AddTags", "DeleteTags"}
"""The calls the stand-in follows to describe a model when it goes."""


def model_state_event(description: Mapping[str, Any]) -> BusEvent:
    """The event for one model's state change, from its description."""
    arn = str(description["ModelArn"])
    return BusEvent(SAGEMAKER_SOURCE, MODEL_STATE_DETAIL_TYPE, dict(description),
                    resources=(arn,), label="SageMaker Model State Change")


class NativeEvents:
    """Follows successful model calls; emits a state-change event for creates and deletes."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, call: ApiCall, *, emit: bool) -> list[BusEvent]:
        """Update what is known of the model; with `emit`, the event SageMaker would send."""
        if call.error_code is not None or call.operation not in OBSERVED:
            return []
        with self._lock:
            description = self._observe(call)
        if not emit or description is None or call.operation not in STATE_CHANGES:
            return []
        return [model_state_event(description)]

    def _observe(self, call: ApiCall) -> dict[str, Any] | None:
        request, response = call.request, call.response or {}
        if call.operation == "CreateModel":
            tags = _list(request.get("Tags"))
            container = request.get("PrimaryContainer")
            description = {
                "ModelName": request.get("ModelName"),
                "PrimaryContainer": {"ContainerHostname": None, **container}
                if isinstance(container, Mapping) else None,
                "Containers": request.get("Containers"),
                "ExecutionRoleArn": request.get("ExecutionRoleArn"),
                "CreationTime": int(call.when.timestamp() * 1000),
                "ModelArn": response.get("ModelArn"),
                "Tags": {t.get("Key"): t.get("Value") for t in tags if isinstance(t, Mapping)},
            }
            self._models[(call.region, str(request.get("ModelName")).lower())] = description
            return description
        if call.operation == "DeleteModel":
            name = str(request.get("ModelName"))
            return self._models.pop((call.region, name.lower()), None)
        arn = str(request.get("ResourceArn", ""))
        known = self._models.get((call.region, arn.rsplit("/", 1)[-1].lower()))
        if known is None or ":model/" not in arn:
            return None
        if call.operation == "AddTags":
            known["Tags"].update({t.get("Key"): t.get("Value") for t in _list(request.get("Tags"))
                                  if isinstance(t, Mapping)})
        else:
            for key in _list(request.get("TagKeys")):
                known["Tags"].pop(key, None)
        return known


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def envelope(model_arn: str, model_name: str, *, tags: Mapping[str, str] | None = None,
             event_id: str = "5e1c2f4a-8b3d-4c6e-9f0a-1b2c3d4e5f60",
             time: str = "2026-11-28T09:30:13Z") -> dict[str, Any]:
    """A native event as EventBridge delivers it (the shape of events/lambda/native-*.json)."""
    _, _, _, region, account, _ = model_arn.split(":", 5)
    return {
        "version": "0", "id": event_id, "detail-type": MODEL_STATE_DETAIL_TYPE,
        "source": SAGEMAKER_SOURCE, "account": account, "time": time, "region": region,
        "resources": [model_arn],
        "detail": {"ModelName": model_name, "ModelArn": model_arn, "CreationTime": 0,
                   "PrimaryContainer": {"ContainerHostname": None, "Image": "img"},
                   "Containers": None, "ExecutionRoleArn": None, "Tags": dict(tags or {})},
    }
