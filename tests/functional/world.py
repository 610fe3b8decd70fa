"""Scenario helpers shared by functional and end-to-end tests: roles, models, events, runs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from model_access.aws.clients import Clients
from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.core.settings import DEFAULT_ROLE_TAG
from model_access.handlers.provisioner import handle
from model_access.model.facts import RoleState
from model_access.runtime import Runtime, build_runtime
from model_access_cli.local import cloudtrail, native_events

ACCOUNT = "123456789012"
REGION = "us-east-1"
ELIGIBLE_TAG = dict([DEFAULT_ROLE_TAG])
"""What opts a role in under the default settings (`model-access:eligible=true`)."""
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def role_arn(name: str, path: str = "/") -> str:
    """A role's ARN in the test account, e.g. as the caller of a CloudTrail event."""
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


class World:
    """Builds AWS state and drives the provisioner through its public entry point."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.arns: dict[str, str] = {}

    # --- state ------------------------------------------------------------------------

    def role(self, name: str, path: str = "/", tags: Mapping[str, str] | None = None,
             *, eligible: bool = True) -> str:
        """A role; opted in with the default eligibility tag unless `eligible=False`."""
        all_tags = {**(ELIGIBLE_TAG if eligible else {}), **(tags or {})}
        kwargs: dict[str, Any] = {}
        if all_tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in all_tags.items()]
        return self.clients.iam.create_role(RoleName=name, Path=path,
                                            AssumeRolePolicyDocument=TRUST, **kwargs)["Role"]["Arn"]

    def model(self, name: str, owner: str | None = None,
              extra_tags: Mapping[str, str] | None = None) -> str:
        tags = dict(extra_tags or {})
        if owner is not None:
            tags["owner-role"] = owner
        kwargs: dict[str, Any] = {}
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        arn = self.clients.sagemaker.create_model(
            ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec",
            PrimaryContainer={"Image": "img"}, **kwargs)["ModelArn"]
        self.arns[name] = arn
        return arn

    def group(self, name: str, owner: str | None = None,
              extra_tags: Mapping[str, str] | None = None) -> str:
        """A model package group (Model Registry), owner-tagged like a model."""
        tags = dict(extra_tags or {})
        if owner is not None:
            tags["owner-role"] = owner
        kwargs: dict[str, Any] = {}
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        arn = self.clients.sagemaker.create_model_package_group(
            ModelPackageGroupName=name, **kwargs)["ModelPackageGroupArn"]
        self.arns["group:" + name] = arn
        return arn

    def version(self, group: str) -> str:
        """Register a new version in a group (no tags: versions use their group's)."""
        return self.clients.sagemaker.create_model_package(
            ModelPackageGroupName=group, ModelPackageDescription="trained",
            InferenceSpecification={"Containers": [{"Image": "img"}],
                                    "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["text/csv"]},
        )["ModelPackageArn"]

    def delete_group(self, name: str) -> None:
        """DeleteModelPackageGroup (moto lacks it: moto_extensions registers it)."""
        self.clients.sagemaker.delete_model_package_group(ModelPackageGroupName=name)

    def set_group_owner(self, name: str, owner: str | None) -> None:
        arn = self.arns["group:" + name]
        self.clients.sagemaker.delete_tags(ResourceArn=arn, TagKeys=["owner-role"])
        if owner is not None:
            self.clients.sagemaker.add_tags(ResourceArn=arn,
                                            Tags=[{"Key": "owner-role", "Value": owner}])

    def delete_model(self, name: str) -> None:
        self.clients.sagemaker.delete_model(ModelName=name)

    def set_owner(self, name: str, owner: str | None) -> None:
        """Re-point the owner tag as AWS AddTags would (moto appends, so delete first)."""
        arn = self.arns[name]
        self.clients.sagemaker.delete_tags(ResourceArn=arn, TagKeys=["owner-role"])
        if owner is not None:
            self.clients.sagemaker.add_tags(ResourceArn=arn,
                                            Tags=[{"Key": "owner-role", "Value": owner}])

    def attach_foreign_policies(self, role: str, count: int) -> None:
        """Attach policies the tool did not create (someone else's IaC)."""
        for i in range(count):
            arn = self.clients.iam.create_policy(
                PolicyName=f"other-{role}-{i}", PolicyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                            "Action": "s3:GetObject",
                                                            "Resource": "arn:aws:s3:::b/*"}]}),
            )["Policy"]["Arn"]
            self.clients.iam.attach_role_policy(RoleName=role, PolicyArn=arn)

    # --- runtime ----------------------------------------------------------------------

    def runtime(self, **env: str) -> Runtime:
        base = {"AWS_REGION": REGION, "MODEL_ACCESS_ACCOUNT_ID": ACCOUNT,
                "MODEL_ACCESS_LEASE_WAIT_SECONDS": "0.5",
                "MODEL_ACCESS_PROVISIONER_ROLE": "model-access-provisioner"}
        base.update(env)
        return build_runtime(base, clients=self.clients)

    # --- events -----------------------------------------------------------------------

    def create_event(self, name: str, owner: str | None = None, **kw: Any) -> dict[str, Any]:
        tags = {"owner-role": owner} if owner else None
        return cloudtrail.envelope(cloudtrail.create_model(name, self.arns[name], tags, **kw))

    def create_group_event(self, name: str, owner: str | None = None,
                           **kw: Any) -> dict[str, Any]:
        tags = {"owner-role": owner} if owner else None
        return cloudtrail.envelope(cloudtrail.create_model_package_group(
            name, self.arns["group:" + name], tags, **kw))

    def delete_group_event(self, name_or_arn: str, **kw: Any) -> dict[str, Any]:
        return cloudtrail.envelope(cloudtrail.delete_model_package_group(name_or_arn, **kw))

    def group_tags_event(self, name: str, owner: str, **kw: Any) -> dict[str, Any]:
        return cloudtrail.envelope(cloudtrail.add_tags(self.arns["group:" + name],
                                                       {"owner-role": owner}, **kw))

    def delete_event(self, name: str, **kw: Any) -> dict[str, Any]:
        return cloudtrail.envelope(cloudtrail.delete_model(name, **kw))

    def add_tags_event(self, name: str, owner: str, **kw: Any) -> dict[str, Any]:
        return cloudtrail.envelope(cloudtrail.add_tags(self.arns[name], {"owner-role": owner},
                                                       **kw))

    def native_event(self, name: str, *, tags: Mapping[str, str] | None = None,
                     arn: str | None = None) -> dict[str, Any]:
        """SageMaker's own "Model State Change" for a model (created or deleted: same shape)."""
        return native_events.envelope(arn or self.arns[name], name, tags=tags,
                                      event_id=str(uuid.uuid4()))

    def delete_tags_event(self, name: str, **kw: Any) -> dict[str, Any]:
        return cloudtrail.envelope(cloudtrail.delete_tags(self.arns[name], ["owner-role"], **kw))

    @staticmethod
    def batch(events: Iterable[Mapping[str, Any]], receive_count: int = 1) -> dict[str, Any]:
        """The SQS event the mapping would deliver (bodies without `account`, as moto's are)."""
        records = []
        for event in events:
            body = {k: v for k, v in event.items() if k != "account"}
            records.append(cloudtrail.sqs_record(json.dumps(body), message_id=str(uuid.uuid4()),
                                                 receive_count=receive_count))
        return {"Records": records}

    def send(self, runtime: Runtime, events: Iterable[Mapping[str, Any]],
             receive_count: int = 1) -> dict[str, Any]:
        """Deliver events as one SQS batch through the provisioner's entry point."""
        return handle(self.batch(events, receive_count), runtime)

    # --- observations -----------------------------------------------------------------

    def state(self, runtime: Runtime, role: str) -> RoleState:
        facts = runtime.iam.get_role(role)
        assert facts is not None, f"role {role} missing"
        return runtime.iam.read_role_state(facts)

    def granted(self, runtime: Runtime, role: str) -> frozenset[str]:
        return self.state(runtime, role).model_arns

    def record(self, runtime: Runtime, name: str, kind: str = "model") -> GrantRecord:
        key = ResourceKey.of(REGION, name, kind)
        return runtime.records.get_many([key])[key]

    def iam_writes(self) -> int:
        return self.clients.counter.total("iam", writes_only=True)
