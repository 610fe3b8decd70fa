"""Check CloudFormation templates offline: structure, references, and `Fn::Sub` resolved.

Not a full `cfn-lint`: what a template must have for CloudFormation to accept it at all
(format version, typed resources, references that resolve, outputs with values), and the
resource types and properties our templates use, as the CloudFormation reference names them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

TEMPLATE_KEYS = {"AWSTemplateFormatVersion", "Description", "Parameters", "Resources",
                 "Outputs", "Conditions", "Mappings", "Metadata"}
PROPERTIES = {
    "AWS::IAM::Role": {"AssumeRolePolicyDocument", "Description", "ManagedPolicyArns",
                       "MaxSessionDuration", "Path", "PermissionsBoundary", "Policies",
                       "RoleName", "Tags"},
    "AWS::SQS::Queue": {"MessageRetentionPeriod", "SqsManagedSseEnabled", "QueueName",
                        "VisibilityTimeout", "KmsMasterKeyId"},
    "AWS::SQS::QueuePolicy": {"PolicyDocument", "Queues"},
    "AWS::Events::Rule": {"Description", "EventBusName", "EventPattern", "Name", "RoleArn",
                          "ScheduleExpression", "State", "Targets"},
}
"""Properties of each resource type we use (CloudFormation template reference)."""
TARGET_KEYS = {"Arn", "Id", "RoleArn", "DeadLetterConfig", "RetryPolicy", "Input",
               "InputPath", "InputTransformer"}
GET_ATT = {"AWS::IAM::Role": {"Arn", "RoleId"}, "AWS::SQS::Queue": {"Arn", "QueueName",
                                                                     "QueueUrl"},
           "AWS::Events::Rule": {"Arn"}}
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
PSEUDO = {"AWS::AccountId", "AWS::Partition", "AWS::Region", "AWS::StackName",
          "AWS::StackId", "AWS::URLSuffix"}


def _walk(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def problems(template: dict[str, Any]) -> list[str]:
    """Everything CloudFormation would reject in `template` (empty when it is sound)."""
    found: list[str] = []
    json.dumps(template)  # only JSON values: no Pulumi Output or other object inside
    if template.get("AWSTemplateFormatVersion") != "2010-09-09":
        found.append("AWSTemplateFormatVersion is not 2010-09-09")
    found += [f"unknown top-level key {k}" for k in set(template) - TEMPLATE_KEYS]
    resources = template.get("Resources") or {}
    if not resources:
        found.append("no Resources")
    for logical_id, resource in resources.items():
        if not re.fullmatch(r"[A-Za-z0-9]{1,255}", logical_id):
            found.append(f"{logical_id}: logical ids are alphanumeric")
        kind = resource.get("Type", "")
        if kind not in PROPERTIES:
            found.append(f"{logical_id}: type {kind!r} is not one this checker knows")
            continue
        found += [f"{logical_id}: {kind} has no property {p}"
                  for p in set(resource.get("Properties", {})) - PROPERTIES[kind]]
        for target in resource.get("Properties", {}).get("Targets", []):
            found += [f"{logical_id}: target has no key {k}" for k in set(target) - TARGET_KEYS]
    for node in _walk({"Resources": resources, "Outputs": template.get("Outputs", {})}):
        if "Ref" in node and node["Ref"] not in resources and node["Ref"] not in PSEUDO:
            found.append(f"Ref to unknown {node['Ref']}")
        if "Fn::GetAtt" in node:
            target, attribute = node["Fn::GetAtt"]
            if target not in resources:
                found.append(f"GetAtt of unknown {target}")
            elif attribute not in GET_ATT.get(resources[target]["Type"], set()):
                found.append(f"GetAtt {target}.{attribute} is not an attribute of its type")
        if "Fn::Sub" in node:
            found += [f"Fn::Sub of unknown ${{{v}}}" for v in _SUB_VARIABLE.findall(
                node["Fn::Sub"]) if v not in PSEUDO and v not in resources]
    for name, output in (template.get("Outputs") or {}).items():
        if "Value" not in output:
            found.append(f"output {name} has no Value")
    return found


def resolve_sub(value: Any, account: str, partition: str = "aws",
                region: str = "us-east-1") -> Any:
    """Evaluate `Fn::Sub` of pseudo parameters as CloudFormation would in one account."""
    known = {"AWS::AccountId": account, "AWS::Partition": partition, "AWS::Region": region}
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            return _SUB_VARIABLE.sub(lambda m: known[m.group(1)], value["Fn::Sub"])
        return {k: resolve_sub(v, account, partition, region) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_sub(v, account, partition, region) for v in value]
    return value
