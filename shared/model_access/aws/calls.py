"""Count AWS API calls per service and operation through botocore's event hooks.

The counts feed the IamCalls/IamWrites/AwsCalls metrics, the demo's table and the
benchmarks. A call is counted once however many HTTP attempts its retries take.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial
from typing import Any, Final

_WRITE_PREFIXES: Final = (
    "Create", "Delete", "Attach", "Detach", "Put", "Update", "Tag", "Untag", "Set", "Add",
    "Remove", "Send", "Transact", "BatchWrite",
)


def is_write(operation: str) -> bool:
    """Whether an operation name changes state (CreatePolicyVersion yes, GetPolicy no)."""
    return operation.startswith(_WRITE_PREFIXES)


class CallCounter:
    """Thread-safe tallies of API calls, keyed by (service, operation)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def watch(self, client: Any) -> None:
        """Hook a boto3 client so that each of its calls is counted here."""
        service = client.meta.service_model.service_name
        event_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{event_id}", partial(self._on_call, service))

    def _on_call(self, service: str, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[(service, model.name)] += 1

    def total(self, service: str | None = None, *, writes_only: bool = False) -> int:
        """Calls made, optionally of one service and only state-changing ones."""
        with self._lock:
            return sum(
                n
                for (svc, op), n in self.calls.items()
                if (service is None or svc == service) and (not writes_only or is_write(op))
            )

    def snapshot(self) -> dict[str, int]:
        """`service:Operation -> count`, for tables and JSON reports."""
        with self._lock:
            return {f"{svc}:{op}": n for (svc, op), n in sorted(self.calls.items())}

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
