"""The baseline: what people write first, one managed policy per model.

A faithful naive Lambda, kept deliberately simple:

- CreateModel: read the model's tags (SageMaker ListTags on the ARN from the event), take
  the owner role from the owner tag, create one managed policy for that model (Resource =
  that model ARN, the same actions as model-access's default access level), attach it to
  the owner role.
- DeleteModel: the event only has the model name; the policy name is derived from it, so
  find who has it attached, detach it, delete it.
- Backfill: ListModels, then the CreateModel steps for every model (an existing policy is
  reused, as a hand-written re-run would).

It reads the same events from the same queue (it is handed the same SQS batches by the same
poller) and writes only under its own path, so it never touches model-access's policies.
What it does not do is part of the comparison: no quota check (real IAM refuses the 11th
attached policy on a role; moto does not), no coalescing, no re-read on AddTags.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from model_access.aws.clients import Clients
from model_access.core.arns import Scope
from model_access.core.settings import Settings
from model_access.model.access import profile_from_settings
from model_access.policy.render import PolicyShape, to_json

BASELINE_PATH: Final = "/model-access-baseline/"
BASELINE_PREFIX: Final = "baseline-"


def baseline_policy_name(model_name: str) -> str:
    """`baseline-<model name>`: unique per model name, at most 72 characters."""
    return f"{BASELINE_PREFIX}{model_name}"


@dataclass
class BaselineStats:
    """What the baseline handled; errors are per record (the record is retried)."""

    granted: int = 0
    revoked: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


class NaiveProvisioner:
    """The per-model design, as a Lambda handler (`__call__`) and a backfill."""

    def __init__(self, clients: Clients, settings: Settings, account: str) -> None:
        self.clients = clients
        self.settings = settings
        self.account = account
        # Same document as model-access writes for one model at the default access level.
        self.shape = PolicyShape(profile_from_settings(settings),
                                 Scope(settings.partition, settings.region, account))
        self.stats = BaselineStats()

    # --- Lambda entry point (SQS batch from the event source mapping) -----------------

    def __call__(self, event: Mapping[str, Any], _context: Any) -> dict[str, Any]:
        failures: list[dict[str, str]] = []
        for record in event.get("Records", []):
            try:
                self.handle_event(json.loads(record["body"]))
            except (ClientError, KeyError, ValueError) as exc:
                self.stats.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    def handle_event(self, event: Mapping[str, Any]) -> None:
        detail = event["detail"]
        name = detail.get("eventName")
        if detail.get("errorCode"):
            self.stats.skipped += 1
        elif name == "CreateModel":
            arn = (detail.get("responseElements") or {}).get("modelArn")
            if not arn:
                model = detail["requestParameters"]["modelName"]
                arn = self.clients.sagemaker.describe_model(ModelName=model)["ModelArn"]
            self.grant(arn)
        elif name == "DeleteModel":
            self.revoke(detail["requestParameters"]["modelName"])
        else:
            self.stats.skipped += 1

    # --- the two operations -----------------------------------------------------------

    def owner_of(self, model_arn: str) -> str | None:
        tags = self.clients.sagemaker.list_tags(ResourceArn=model_arn).get("Tags", [])
        value = next((t["Value"] for t in tags if t["Key"] == self.settings.owner_tag_key),
                     None)
        if not value:
            return None
        return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value

    def grant(self, model_arn: str) -> None:
        owner = self.owner_of(model_arn)
        if owner is None:
            self.stats.skipped += 1
            return
        name = baseline_policy_name(model_arn.rsplit("/", 1)[-1])
        iam = self.clients.iam
        try:
            arn = iam.create_policy(
                PolicyName=name, Path=BASELINE_PATH,
                PolicyDocument=to_json(self.shape.render([model_arn])),
            )["Policy"]["Arn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
            arn = self.policy_arn(name)
        iam.attach_role_policy(RoleName=owner, PolicyArn=arn)
        self.stats.granted += 1

    def revoke(self, model_name: str) -> None:
        iam = self.clients.iam
        arn = self.policy_arn(baseline_policy_name(model_name))
        try:
            entities = iam.list_entities_for_policy(PolicyArn=arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchEntity":
                self.stats.skipped += 1
                return
            raise
        for role in entities.get("PolicyRoles", []):
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        iam.delete_policy(PolicyArn=arn)
        self.stats.revoked += 1

    def policy_arn(self, name: str) -> str:
        return f"arn:{self.settings.partition}:iam::{self.account}:policy{BASELINE_PATH}{name}"

    # --- backfill ---------------------------------------------------------------------

    def backfill(self) -> int:
        """Grant every existing model; returns how many models were listed."""
        seen = 0
        for arn in self._list_model_arns():
            seen += 1
            self.grant(arn)
        return seen

    def _list_model_arns(self) -> Iterable[str]:
        pages = self.clients.sagemaker.get_paginator("list_models")
        for page in pages.paginate(PaginationConfig={"PageSize": 100}):
            for model in page.get("Models", []):
                yield model["ModelArn"]
