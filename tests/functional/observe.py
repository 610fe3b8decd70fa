"""What the hostile-input and fault tests observe: IAM snapshots, emitted metrics, log lines.

`iam_snapshot` is everything an attacker would want changed in IAM (every role's and user's
attached and inline policies, every customer managed policy's versions and default
document), so "nothing else in IAM changed" is one dictionary comparison. `Observed` runs
the public handler while capturing the EMF metrics Powertools prints and the log records
the provisioner writes, one per SQS record.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from model_access.core.outcomes import Outcome
from model_access.handlers.observability import logger, metrics
from model_access.handlers.provisioner import handle
from model_access.policy.naming import parse_policy_name
from model_access.runtime import Runtime
from model_access_cli.local.lambdas import MetricTally

OUTCOME_METRICS = frozenset(o.value for o in Outcome)


def iam_snapshot(iam: Any) -> dict[str, Any]:
    """Every principal's policies and every customer managed policy's versions and documents.

    One paginated GetAccountAuthorizationDetails: roles, users and groups with their attached
    and inline policies (documents included), and every local policy with all its versions.
    """
    snap: dict[str, Any] = {}
    pages = iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["Role", "User", "Group", "LocalManagedPolicy"])
    for page in pages:
        for kind, rows, name, inline in (
                ("role", page["RoleDetailList"], "RoleName", "RolePolicyList"),
                ("user", page["UserDetailList"], "UserName", "UserPolicyList"),
                ("group", page["GroupDetailList"], "GroupName", "GroupPolicyList")):
            for row in rows:
                snap[f"{kind}:{row[name]}"] = (
                    sorted(p["PolicyArn"] for p in row.get("AttachedManagedPolicies", [])),
                    sorted((p["PolicyName"], json.dumps(_document(p["PolicyDocument"]),
                                                        sort_keys=True))
                           for p in row.get(inline, [])),
                )
        for policy in page["Policies"]:
            versions = {v["VersionId"]: _document(v["Document"])
                        for v in policy["PolicyVersionList"]}
            snap[f"policy:{policy['Arn']}"] = (
                policy["DefaultVersionId"], sorted(versions), versions[policy["DefaultVersionId"]])
    return snap


def _document(raw: Any) -> Any:
    return raw if isinstance(raw, dict) else json.loads(unquote(str(raw)))


def owned_keys(snapshot: Mapping[str, Any], role: str, prefix: str = "model-access-") -> set[str]:
    """The snapshot entries a grant to `role` may change: the role and its tool policies."""
    keys = {f"role:{role}"}
    for key in snapshot:
        if key.startswith("policy:"):
            parsed = parse_policy_name(prefix, key.rsplit("/", 1)[-1])
            if parsed is not None and parsed.role_name == role:
                keys.add(key)
    return keys


def holders(snapshot: Mapping[str, Any], model_arn: str) -> set[str]:
    """Every principal (role:/user:/group:) whose attached customer policies name `model_arn`."""
    naming = {key.removeprefix("policy:") for key, value in snapshot.items()
              if key.startswith("policy:") and json.dumps(model_arn) in json.dumps(value[2])}
    return {key for key, value in snapshot.items()
            if key.startswith(("role:", "user:", "group:")) and naming & set(value[0])}


@dataclass
class Observed:
    """Metrics and per-record log lines of the handler calls made through `run`."""

    tally: MetricTally = field(default_factory=MetricTally)
    lines: list[logging.LogRecord] = field(default_factory=list)

    def run(self, event: Any, runtime: Runtime) -> Any:
        """Call the public handler; capture what it printed (EMF) and logged."""
        metrics.clear_metrics()
        buffer = io.StringIO()
        with redirect_stdout(buffer), self._logs():
            try:
                return handle(event, runtime)
            finally:
                metrics.flush_metrics()
                self.tally.feed(buffer.getvalue())

    @property
    def outcome_metrics(self) -> Counter[str]:
        return Counter({k: v for k, v in self.tally.totals.items() if k in OUTCOME_METRICS})

    def by_message(self) -> dict[str, logging.LogRecord]:
        """The log line of each SQS record, by message id."""
        return {line.message_id: line for line in self.lines  # type: ignore[attr-defined]
                if getattr(line, "message_id", None)}

    @contextmanager
    def _logs(self) -> Iterator[None]:
        """Record the provisioner's INFO lines here without printing them."""
        lines = self.lines

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(record)

        base = logger._logger  # the stdlib logger behind Powertools'
        keep = Keep(logging.INFO)
        quiet = [(h, h.level) for h in base.handlers]
        level = base.level
        for handler, _ in quiet:
            handler.setLevel(logging.WARNING)
        base.addHandler(keep)
        base.setLevel(logging.INFO)
        try:
            yield
        finally:
            base.removeHandler(keep)
            base.setLevel(level)
            for handler, old in quiet:
                handler.setLevel(old)
