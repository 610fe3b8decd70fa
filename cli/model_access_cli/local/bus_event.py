"""One event a local stand-in puts on the default bus (CloudTrail's or SageMaker's own)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BusEvent:
    """A PutEvents entry, and a short label for the terminal."""

    source: str
    detail_type: str
    detail: Mapping[str, Any]
    resources: tuple[str, ...] = ()
    label: str = ""

    def entry(self) -> dict[str, Any]:
        return {"Source": self.source, "DetailType": self.detail_type,
                "Detail": json.dumps(self.detail), "Resources": list(self.resources)}
