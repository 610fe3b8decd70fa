"""The functions' own IAM policy: what the provisioner and backfill may do, and nothing more.

Pure (no boto3, no pulumi): the Pulumi program renders it with the stack's ARNs, and the
infra tests lint it against the IAM catalog and run it under moto's IAM enforcement.

The guard rails hold even against a bug in the runtime:
- IAM policy writes only on the tool's own path (`policy<path>*`);
- attach/detach only of policies on that path (`iam:PolicyARN` condition); attach only on
  roles that opted in (the role tag, `iam:ResourceTag`, or the role path prefix, as the
  runtime's `owner.eligibility_refusal`), never on the functions' own role, on
  service-linked roles or on the deny list (explicit Deny);
- SageMaker read-only; the grant table, queue, log groups and backfill function by ARN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from model_access.owner import SERVICE_LINKED_PATH
from model_access.settings import Settings

POLICY_VERSION: Final = "2012-10-17"

# Actions with no resource type at all: IAM only accepts `Resource: "*"` for them.
NO_RESOURCE_TYPE_ACTIONS: Final = (
    "tag:GetResources",  # Resource Groups Tagging API: account-wide index
    "iam:GetAccountSummary",  # account quotas (policies per role, policy size)
    "iam:ListPolicies",  # filtered by PathPrefix in the request, not by ARN
    "xray:PutTraceSegments",  # X-Ray tracing from the Tracer
    "xray:PutTelemetryRecords",
)
MODEL_READ_ACTIONS: Final = ("sagemaker:DescribeModel", "sagemaker:ListTags")
GROUP_READ_ACTIONS: Final = ("sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags")
ROLE_READ_ACTIONS: Final = ("iam:GetRole", "iam:ListAttachedRolePolicies")
TOOL_POLICY_READ_ACTIONS: Final = (
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListPolicyVersions",
    "iam:ListEntitiesForPolicy",
)
TOOL_POLICY_WRITE_ACTIONS: Final = (
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:TagPolicy",
)
ATTACH_ROLE_POLICY: Final = "iam:AttachRolePolicy"
DETACH_ROLE_POLICY: Final = "iam:DetachRolePolicy"
ATTACH_ACTIONS: Final = (ATTACH_ROLE_POLICY, DETACH_ROLE_POLICY)
TABLE_ITEM_ACTIONS: Final = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
TABLE_READ_ACTIONS: Final = ("dynamodb:Query", "dynamodb:Scan")
QUEUE_CONSUME_ACTIONS: Final = (
    "sqs:ChangeMessageVisibility",  # a record whose role is busy comes back in seconds
    "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage",
)
"""What the event source mapping polls with, plus what the provisioner uses to bring a
record whose role is busy back within seconds (ChangeMessageVisibility)."""
LOG_ACTIONS: Final = ("logs:CreateLogStream", "logs:PutLogEvents")
POLICY_ARN_CONDITION_KEY: Final = "iam:PolicyARN"


@dataclass(frozen=True)
class FunctionResources:
    """The ARNs the functions' role is scoped to (known once the stack's resources exist)."""

    table_arn: str
    queue_arn: str
    log_group_arns: tuple[str, ...]
    backfill_function_arn: str
    own_role_path: str = "/"


def _iam_arn(settings: Settings, resource: str) -> str:
    if settings.account_id is None:
        raise ValueError("the functions' policy needs the account id (settings.account_id)")
    return f"arn:{settings.partition}:iam::{settings.account_id}:{resource}"


def tool_policy_arn_pattern(settings: Settings) -> str:
    """Every policy the tool may own: `arn:<p>:iam::<account>:policy<path>*`."""
    return _iam_arn(settings, f"policy{settings.policy_path}*")


def role_arn_pattern(settings: Settings, path: str = "/") -> str:
    """Every role under `path`: `arn:<p>:iam::<account>:role<path>*`."""
    return _iam_arn(settings, f"role{path}*")


def protected_role_arns(settings: Settings, own_role_path: str = "/") -> list[str]:
    """The functions' own role and service-linked roles: no tool policy on or off, ever."""
    if not settings.provisioner_role:
        raise ValueError("the functions' policy needs the role name (settings.provisioner_role)")
    return [
        _iam_arn(settings, f"role{own_role_path}{settings.provisioner_role}"),
        _iam_arn(settings, f"role{SERVICE_LINKED_PATH}*"),
    ]


def denied_role_arns(settings: Settings) -> list[str]:
    """The deny list as ARN patterns: an ARN as given, a name at any path."""
    arns: list[str] = []
    for entry in settings.deny_roles:
        if entry.startswith("arn:"):
            arns.append(entry)
        else:
            arns += [_iam_arn(settings, f"role/{entry}"), _iam_arn(settings, f"role/*/{entry}")]
    return list(dict.fromkeys(arns))


def _deny_statements(settings: Settings, own_role_path: str) -> list[dict[str, Any]]:
    """Explicit Denies that hold whatever the Allows say. Roles on the deny list may still
    lose a tool policy: a role added to the list after a grant must be revocable."""
    statements: list[dict[str, Any]] = [{
        "Sid": "NeverTouchOwnOrServiceLinkedRoles", "Effect": "Deny",
        "Action": list(ATTACH_ACTIONS), "Resource": protected_role_arns(settings, own_role_path),
    }]
    if denied := denied_role_arns(settings):
        statements.append({"Sid": "NeverGrantToDeniedRoles", "Effect": "Deny",
                           "Action": [ATTACH_ROLE_POLICY], "Resource": denied})
    return statements


def _attach_statements(settings: Settings) -> list[dict[str, Any]]:
    """Attach only onto roles that opted in, by the tag (any path) or by the path prefix,
    the two ways the runtime accepts. Detach needs only our policy ARN, on every role attach
    could reach, so a role that loses its tag can still have its grant revoked."""
    only_tool_policies = {"ArnLike": {POLICY_ARN_CONDITION_KEY: tool_policy_arn_pattern(settings)}}
    every_role = role_arn_pattern(settings)
    attach: list[dict[str, Any]] = []
    if settings.every_role_eligible:  # explicit configuration: MODEL_ACCESS_ROLE_TAG=*
        attach.append({"Sid": "AttachToolPoliciesToAnyRole", "Effect": "Allow",
                       "Action": [ATTACH_ROLE_POLICY], "Resource": every_role,
                       "Condition": only_tool_policies})
    if settings.role_tag is not None:
        key, value = settings.role_tag
        attach.append({"Sid": "AttachToolPoliciesToTaggedRoles", "Effect": "Allow",
                       "Action": [ATTACH_ROLE_POLICY], "Resource": every_role,
                       "Condition": {**only_tool_policies,
                                     "StringEquals": {f"iam:ResourceTag/{key}": value}}})
    if settings.role_path_prefix:
        attach.append({"Sid": "AttachToolPoliciesToRolesUnderPath", "Effect": "Allow",
                       "Action": [ATTACH_ROLE_POLICY],
                       "Resource": role_arn_pattern(settings, settings.role_path_prefix),
                       "Condition": only_tool_policies})
    detach_roles = every_role
    if settings.role_tag is None and settings.role_path_prefix:  # path is the only way in
        detach_roles = role_arn_pattern(settings, settings.role_path_prefix)
    return [*attach, {"Sid": "DetachToolPolicies", "Effect": "Allow",
                      "Action": [DETACH_ROLE_POLICY], "Resource": detach_roles,
                      "Condition": only_tool_policies}]


def function_policy(settings: Settings, resources: FunctionResources) -> dict[str, Any]:
    """The identity policy of the functions' role, as IAM's PutRolePolicy takes it."""
    sagemaker_models = (
        f"arn:{settings.partition}:sagemaker:{settings.region}:{settings.account_id}:model/*"
    )
    sagemaker_groups = sagemaker_models.replace(":model/*", ":model-package-group/*")
    tool_policies = tool_policy_arn_pattern(settings)
    statements: list[dict[str, Any]] = [
        _allow("ReadModels", MODEL_READ_ACTIONS, sagemaker_models),
        _allow("ReadModelPackageGroups", GROUP_READ_ACTIONS, sagemaker_groups),
        _allow("ActionsWithoutResourceType", NO_RESOURCE_TYPE_ACTIONS, "*"),
        _allow("ReadRoles", ROLE_READ_ACTIONS, _iam_arn(settings, "role/*")),
        _allow("ReadToolPolicies", TOOL_POLICY_READ_ACTIONS, tool_policies),
        _allow("WriteToolPolicies", TOOL_POLICY_WRITE_ACTIONS, tool_policies),
        *_attach_statements(settings),
        *_deny_statements(settings, resources.own_role_path),
        _allow("GrantTableItems", TABLE_ITEM_ACTIONS, resources.table_arn),
        _allow("GrantTableQueries", TABLE_READ_ACTIONS,
               [resources.table_arn, f"{resources.table_arn}/index/*"]),
        _allow("ConsumeEventQueue", QUEUE_CONSUME_ACTIONS, resources.queue_arn),
        _allow("WriteOwnLogs", LOG_ACTIONS,
               [f"{arn}:log-stream:*" for arn in resources.log_group_arns]),
        _allow("ContinueBackfill", ("lambda:InvokeFunction",), resources.backfill_function_arn),
    ]
    return {"Version": POLICY_VERSION, "Statement": statements}


def _allow(sid: str, actions: tuple[str, ...], resource: str | list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}
