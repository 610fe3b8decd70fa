"""The organization's spokes as CloudFormation templates, and the hub bus's policy. Pure.

Two templates, deployed by StackSets (service-managed, automatic deployment to OUs) or as
plain stacks (the management account, other regions of the hub's own account):

- **forwarding** (every served region of every member): a rule on the default bus per
  SageMaker pattern (`patterns.trigger_patterns`, the builder the stack and `local up` use)
  whose one target is the hub's bus, with a `RoleArn` (EventBridge requires one when the
  receiving bus admits the organization; the role may only `events:PutEvents` on the hub
  bus) and a dead-letter queue. One hop: the spoke sends straight to the hub bus, whose
  rule delivers to the queue; nothing forwards further.
- **member role** (one region per account: IAM names are account-wide): the role the hub's
  functions assume, trusting only their role within the organization, with the policy
  `function_policy.member_policy` writes (the same builder, the same guard rails).

Templates are plain dicts (CloudFormation JSON); account and partition are CloudFormation
pseudo parameters (`${AWS::AccountId}`), substituted in the member account by `Fn::Sub`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from model_access.core.settings import Settings
from model_access.deploy.function_policy import member_policy
from model_access.deploy.patterns import TriggerMode, trigger_patterns

TEMPLATE_VERSION: Final = "2010-09-09"
ACCOUNT_ID: Final = "${AWS::AccountId}"
PARTITION: Final = "${AWS::Partition}"
HUB_TARGET_ID: Final = "model-access-hub"
DLQ_RETENTION_SECONDS: Final = 14 * 24 * 3600
MEMBER_ROLE_ID: Final = "MemberRole"
FORWARD_ROLE_ID: Final = "ForwardRole"
DLQ_ID: Final = "ForwardDeadLetterQueue"
SESSION_SECONDS: Final = 3600
FORWARDED_INVOCATION: Final = "true"
"""`events:eventBusInvocation` of an event a rule forwards (a direct PutEvents: "false")."""


def cfn_sub(value: Any) -> Any:
    """Wrap every string that names a pseudo parameter (`${AWS::...}`) in `Fn::Sub`."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${AWS::" in value else value
    if isinstance(value, list):
        return [cfn_sub(item) for item in value]
    if isinstance(value, dict):
        return {key: cfn_sub(item) for key, item in value.items()}
    return value


def _get_att(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def rule_logical_id(suffix: str) -> str:
    """`sagemaker-model-calls` -> `SagemakerModelCallsRule`."""
    return "".join(part.capitalize() for part in suffix.split("-")) + "Rule"


def hub_bus_policy(bus_arn: str, organization_id: str, sources: list[str]) -> dict[str, Any]:
    """The hub bus admits `events:PutEvents` from principals of the organization only, and
    only for events a rule forwarded (`events:eventBusInvocation`) from `sources`: a member
    cannot publish a crafted event straight onto the hub bus."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ForwardedSageMakerEventsFromTheOrganization",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": bus_arn,
            "Condition": {"StringEquals": {
                "aws:PrincipalOrgID": organization_id,
                "events:source": sources,
                "events:eventBusInvocation": FORWARDED_INVOCATION,
            }},
        }],
    }


@dataclass(frozen=True)
class Forwarding:
    """Where and how a spoke forwards: the hub bus and the target's retry budget."""

    hub_bus_arn: str
    trigger: TriggerMode
    event_max_age_seconds: int
    event_retry_attempts: int


def forwarding_template(spec: Forwarding) -> dict[str, Any]:
    """Rules on the default bus -> the hub bus (RoleArn, DLQ, retry policy)."""
    rules = {rule_logical_id(suffix): (suffix, pattern)
             for suffix, pattern in trigger_patterns(spec.trigger).items()}
    resources: dict[str, Any] = {
        FORWARD_ROLE_ID: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "EventBridge forwards SageMaker events to the model-access hub",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
                }]},
                "Policies": [{"PolicyName": "put-events-on-the-hub-bus", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "events:PutEvents",
                                   "Resource": spec.hub_bus_arn}],
                }}],
            },
        },
        DLQ_ID: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                           "SqsManagedSseEnabled": True},
        },
        f"{DLQ_ID}Policy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {"Queues": [{"Ref": DLQ_ID}], "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "OnlyTheForwardingRules", "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": _get_att(DLQ_ID),
                    "Condition": {"ArnEquals": {"aws:SourceArn": [_get_att(r) for r in rules]}},
                }, {
                    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
                    "Resource": _get_att(DLQ_ID),
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }],
            }},
        },
    }
    for logical_id, (suffix, pattern) in rules.items():
        resources[logical_id] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"model-access: {suffix} to the hub bus {spec.hub_bus_arn}",
                "EventBusName": "default",
                "State": "ENABLED",
                "EventPattern": pattern,
                "Targets": [{
                    "Id": HUB_TARGET_ID,
                    "Arn": spec.hub_bus_arn,
                    "RoleArn": _get_att(FORWARD_ROLE_ID),
                    "DeadLetterConfig": {"Arn": _get_att(DLQ_ID)},
                    "RetryPolicy": {
                        "MaximumEventAgeInSeconds": spec.event_max_age_seconds,
                        "MaximumRetryAttempts": spec.event_retry_attempts,
                    },
                }],
            },
        }
    outputs = {f"{logical_id}Arn": {"Value": _get_att(logical_id)} for logical_id in rules}
    outputs["DeadLetterQueueUrl"] = {"Value": {"Ref": DLQ_ID}}
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "model-access spoke: forwards SageMaker events to the hub's bus (one hop)",
        "Resources": resources,
        "Outputs": outputs,
    }


@dataclass(frozen=True)
class MemberRole:
    """Who may assume the member role: the hub functions' role, inside the organization."""

    hub_role_arn: str
    organization_id: str


def member_role_template(settings: Settings, spec: MemberRole) -> dict[str, Any]:
    """The member role (named `settings.member_role`, path `/`) with the member policy."""
    policy = member_policy(settings, ACCOUNT_ID, PARTITION)
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "model-access member role: the hub's functions act here through it",
        "Resources": {MEMBER_ROLE_ID: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": settings.member_role,
                "Path": "/",
                "Description": "model-access hub functions: tool policies under "
                               f"{settings.policy_path} on eligible roles only",
                "MaxSessionDuration": SESSION_SECONDS,
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": spec.hub_role_arn},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": spec.organization_id}},
                }]},
                "Policies": [{"PolicyName": "model-access-member",
                              "PolicyDocument": cfn_sub(policy)}],
                "Tags": [{"Key": "managed-by", "Value": "model-access"}],
            },
        }},
        "Outputs": {"MemberRoleArn": {"Value": _get_att(MEMBER_ROLE_ID)}},
    }
