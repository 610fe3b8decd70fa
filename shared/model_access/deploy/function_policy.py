"""The IAM policies of the roles that write grants: the hub functions' role and, in each
member account of an organization, the member role the functions assume there.

One builder (`access_policy`) writes both, so both carry the same guard rails; the hub's
document adds what only the hub needs (its table, queue, logs, self-invoke, X-Ray, and the
way into members). Pure (no boto3, no pulumi): the Pulumi program renders the hub's with the
stack's ARNs and the member's into the StackSet template; the infra tests lint both against
the IAM catalog and run both under moto's IAM enforcement.

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

from model_access.core.settings import Settings
from model_access.model.owner import SERVICE_LINKED_PATH

POLICY_VERSION: Final = "2012-10-17"

# Actions with no resource type at all: IAM only accepts `Resource: "*"` for them.
NO_RESOURCE_TYPE_ACTIONS: Final = (
    "tag:GetResources",  # Resource Groups Tagging API: account-wide index
    "iam:GetAccountSummary",  # account quotas (policies per role, policy size)
    "iam:ListPolicies",  # filtered by PathPrefix in the request, not by ARN
    "xray:PutTraceSegments",  # X-Ray tracing from the Tracer
    "xray:PutTelemetryRecords",
)
HUB_ONLY_NO_RESOURCE_TYPE_ACTIONS: Final = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
MEMBER_NO_RESOURCE_TYPE_ACTIONS: Final = tuple(
    a for a in NO_RESOURCE_TYPE_ACTIONS if a not in HUB_ONLY_NO_RESOURCE_TYPE_ACTIONS)
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
RESOURCE_ORG_CONDITION_KEY: Final = "aws:ResourceOrgID"
"""On the hub's sts:AssumeRole: the member role must belong to the organization. (In the
member role's trust policy the matching key is aws:PrincipalOrgID: there the hub is the
principal.)"""


@dataclass(frozen=True)
class FunctionResources:
    """The ARNs the functions' role is scoped to (known once the stack's resources exist)."""

    table_arn: str
    queue_arn: str
    log_group_arns: tuple[str, ...]
    backfill_function_arn: str
    own_role_path: str = "/"
    organization_id: str | None = None
    """Set when the hub serves an organization: the functions may assume the member role in
    its accounts (and ask Organizations about them in `organization` mode)."""


@dataclass(frozen=True)
class PolicyTarget:
    """The account a writer role acts in, the regions it reads, and the role itself."""

    account: str
    partition: str
    regions: tuple[str, ...]
    own_role: str
    own_role_path: str = "/"


def hub_target(settings: Settings, own_role_path: str = "/") -> PolicyTarget:
    """The functions' own account and role."""
    if settings.account_id is None:
        raise ValueError("the functions' policy needs the account id (settings.account_id)")
    if not settings.provisioner_role:
        raise ValueError("the functions' policy needs the role name (settings.provisioner_role)")
    return PolicyTarget(settings.account_id, settings.partition, settings.served_regions,
                        settings.provisioner_role, own_role_path)


def member_target(settings: Settings, account: str, partition: str) -> PolicyTarget:
    """A member account and its member role (`MODEL_ACCESS_MEMBER_ROLE`, at path `/`)."""
    return PolicyTarget(account, partition, settings.served_regions, settings.member_role)


def _iam_arn(target: PolicyTarget, resource: str) -> str:
    return f"arn:{target.partition}:iam::{target.account}:{resource}"


def tool_policy_arn_pattern(settings: Settings, target: PolicyTarget) -> str:
    """Every policy the tool may own: `arn:<p>:iam::<account>:policy<path>*`."""
    return _iam_arn(target, f"policy{settings.policy_path}*")


def role_arn_pattern(target: PolicyTarget, path: str = "/") -> str:
    """Every role under `path`: `arn:<p>:iam::<account>:role<path>*`."""
    return _iam_arn(target, f"role{path}*")


def protected_role_arns(target: PolicyTarget) -> list[str]:
    """The writer's own role and service-linked roles: no tool policy on or off, ever."""
    return [_iam_arn(target, f"role{target.own_role_path}{target.own_role}"),
            _iam_arn(target, f"role{SERVICE_LINKED_PATH}*")]


def denied_role_arns(settings: Settings, target: PolicyTarget) -> list[str]:
    """The deny list as ARN patterns: an ARN as given, a name at any path."""
    arns: list[str] = []
    for entry in settings.deny_roles:
        if entry.startswith("arn:"):
            arns.append(entry)
        else:
            arns += [_iam_arn(target, f"role/{entry}"), _iam_arn(target, f"role/*/{entry}")]
    return list(dict.fromkeys(arns))


def _deny_statements(settings: Settings, target: PolicyTarget) -> list[dict[str, Any]]:
    """Explicit Denies that hold whatever the Allows say. Roles on the deny list may still
    lose a tool policy: a role added to the list after a grant must be revocable."""
    statements: list[dict[str, Any]] = [{
        "Sid": "NeverTouchOwnOrServiceLinkedRoles", "Effect": "Deny",
        "Action": list(ATTACH_ACTIONS), "Resource": protected_role_arns(target),
    }]
    if denied := denied_role_arns(settings, target):
        statements.append({"Sid": "NeverGrantToDeniedRoles", "Effect": "Deny",
                           "Action": [ATTACH_ROLE_POLICY], "Resource": denied})
    return statements


def _attach_statements(settings: Settings, target: PolicyTarget) -> list[dict[str, Any]]:
    """Attach only onto roles that opted in, by the tag (any path) or by the path prefix,
    the two ways the runtime accepts. Detach needs only our policy ARN, on every role attach
    could reach, so a role that loses its tag can still have its grant revoked."""
    only_tool_policies = {"ArnLike": {
        POLICY_ARN_CONDITION_KEY: tool_policy_arn_pattern(settings, target)}}
    every_role = role_arn_pattern(target)
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
                       "Resource": role_arn_pattern(target, settings.role_path_prefix),
                       "Condition": only_tool_policies})
    detach_roles = every_role
    if settings.role_tag is None and settings.role_path_prefix:  # path is the only way in
        detach_roles = role_arn_pattern(target, settings.role_path_prefix)
    return [*attach, {"Sid": "DetachToolPolicies", "Effect": "Allow",
                      "Action": [DETACH_ROLE_POLICY], "Resource": detach_roles,
                      "Condition": only_tool_policies}]


def _guard_rails(settings: Settings, target: PolicyTarget,
                 no_resource_type: tuple[str, ...]) -> list[dict[str, Any]]:
    """What any writer role needs in the account it acts in, and the limits on it."""
    def in_regions(resource: str) -> str | list[str]:
        arns = [f"arn:{target.partition}:sagemaker:{region}:{target.account}:{resource}"
                for region in target.regions]
        return arns[0] if len(arns) == 1 else arns

    tool_policies = tool_policy_arn_pattern(settings, target)
    return [
        _allow("ReadModels", MODEL_READ_ACTIONS, in_regions("model/*")),
        _allow("ReadModelPackageGroups", GROUP_READ_ACTIONS, in_regions("model-package-group/*")),
        _allow("ActionsWithoutResourceType", no_resource_type, "*"),
        _allow("ReadRoles", ROLE_READ_ACTIONS, _iam_arn(target, "role/*")),
        _allow("ReadToolPolicies", TOOL_POLICY_READ_ACTIONS, tool_policies),
        _allow("WriteToolPolicies", TOOL_POLICY_WRITE_ACTIONS, tool_policies),
        *_attach_statements(settings, target),
        *_deny_statements(settings, target),
    ]


def _hub_statements(settings: Settings, target: PolicyTarget,
                    resources: FunctionResources) -> list[dict[str, Any]]:
    """What only the hub's functions need: their own stack's resources, and the members."""
    statements = [
        _allow("GrantTableItems", TABLE_ITEM_ACTIONS, resources.table_arn),
        _allow("GrantTableQueries", TABLE_READ_ACTIONS,
               [resources.table_arn, f"{resources.table_arn}/index/*"]),
        _allow("ConsumeEventQueue", QUEUE_CONSUME_ACTIONS, resources.queue_arn),
        _allow("WriteOwnLogs", LOG_ACTIONS,
               [f"{arn}:log-stream:*" for arn in resources.log_group_arns]),
        _allow("ContinueBackfill", ("lambda:InvokeFunction",), resources.backfill_function_arn),
    ]
    organization = resources.organization_id
    if organization and settings.serves_members:
        statements.append({
            "Sid": "AssumeMemberRoles", "Effect": "Allow", "Action": ["sts:AssumeRole"],
            "Resource": f"arn:{target.partition}:iam::*:role/{settings.member_role}",
            "Condition": {"StringEquals": {RESOURCE_ORG_CONDITION_KEY: organization}}})
    if organization and settings.organization_members:
        statements.append(_allow(
            "AskOrganizationAboutMembers", ("organizations:DescribeAccount",),
            f"arn:{target.partition}:organizations::*:account/{organization}/*"))
        # The sweep lists the members to visit; ListAccounts takes no resource type.
        statements.append(_allow("ListOrganizationMembers", ("organizations:ListAccounts",),
                                 "*"))
    return statements


def access_policy(settings: Settings, target: PolicyTarget,
                  hub: FunctionResources | None = None) -> dict[str, Any]:
    """The identity policy of a writer role, as IAM's PutRolePolicy takes it: the guard rails
    in `target`'s account; with `hub`, also what only the hub's functions need."""
    if hub is None:
        return {"Version": POLICY_VERSION,
                "Statement": _guard_rails(settings, target, MEMBER_NO_RESOURCE_TYPE_ACTIONS)}
    return {"Version": POLICY_VERSION,
            "Statement": [*_guard_rails(settings, target, NO_RESOURCE_TYPE_ACTIONS),
                          *_hub_statements(settings, target, hub)]}


def function_policy(settings: Settings, resources: FunctionResources) -> dict[str, Any]:
    """The hub functions' role policy."""
    return access_policy(settings, hub_target(settings, resources.own_role_path), resources)


def member_policy(settings: Settings, account: str, partition: str) -> dict[str, Any]:
    """The member role's policy in `account` (a CloudFormation `${AWS::AccountId}` works)."""
    return access_policy(settings, member_target(settings, account, partition))


def _allow(sid: str, actions: tuple[str, ...], resource: str | list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}
