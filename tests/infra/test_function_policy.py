"""The writers' IAM policies as the Pulumi program renders them: the hub functions' role and
the member role of the member-role StackSet (one builder). Least privilege, proven on both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from model_access.core.settings import Settings
from model_access.deploy.function_policy import (
    MEMBER_NO_RESOURCE_TYPE_ACTIONS,
    NO_RESOURCE_TYPE_ACTIONS,
    FunctionResources,
    function_policy,
)
from tests.infra.conftest import (
    MEMBER_ACCOUNT,
    ORG_CONFIG,
    ORGANIZATION,
    member_role_policy,
    role_policy,
    template,
)
from tests.infra.iam_lint import as_list, lint, resource_formats, statements
from tests.infra.pulumi_harness import ACCOUNT, REGION, StackRun, run_program

TOOL_POLICIES = f"arn:aws:iam::{ACCOUNT}:policy/model-access/*"
OWN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/model-access-functions"
ATTACH_DETACH = {"iam:AttachRolePolicy", "iam:DetachRolePolicy"}


@dataclass(frozen=True)
class Writer:
    """A role that writes grants: where its policy comes from, its account and its name."""

    label: str
    policy: str
    restricted: str
    account: str
    own_role: str
    without_resource_type: tuple[str, ...]

    def of(self, config: dict[str, Any]) -> dict[str, Any]:
        """This writer's policy in a stack run with `config`."""
        if self.label == "hub":
            return role_policy(run_program(config))
        return member_role_policy(run_program({**config, **ORG_CONFIG}), self.account)

    def arn(self, resource: str) -> str:
        return f"arn:aws:iam::{self.account}:{resource}"


HUB = Writer("hub", "functions_policy", "restricted_policy", ACCOUNT, "model-access-functions",
             NO_RESOURCE_TYPE_ACTIONS)
MEMBER = Writer("member", "member_policy", "restricted_member_policy", MEMBER_ACCOUNT,
                "model-access-member", MEMBER_NO_RESOURCE_TYPE_ACTIONS)
WRITERS = pytest.mark.parametrize("writer", [HUB, MEMBER], ids=lambda w: w.label)


def policies(writer: Writer, request: pytest.FixtureRequest) -> tuple[dict[str, Any], ...]:
    """The writer's policy in the default stack and in the restricted one."""
    return (request.getfixturevalue(writer.policy), request.getfixturevalue(writer.restricted))


def allows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in statements(document) if s["Effect"] == "Allow"]


def granting(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in allows(document) if action in as_list(s["Action"])]


@WRITERS
def test_function_policy_uses_wildcard_resource_only_for_actions_without_resource_type(
    writer: Writer, request: pytest.FixtureRequest,
) -> None:
    """No statement puts `Resource: "*"` on an action that has a resource type."""
    document = request.getfixturevalue(writer.policy)
    on_wildcard = {a for s in statements(document) if "*" in as_list(s["Resource"])
                   for a in as_list(s["Action"])}
    assert on_wildcard == set(writer.without_resource_type)
    assert all(resource_formats(action) == [] for action in on_wildcard)


@pytest.mark.parametrize("policy", ["functions_policy", "restricted_policy", "member_policy",
                                    "restricted_member_policy"])
def test_function_policy_lints_clean_against_iam_catalog(
    policy: str, request: pytest.FixtureRequest
) -> None:
    """Every action exists, every resource is of a type the action takes, every key applies."""
    assert lint(request.getfixturevalue(policy)) == []


def test_iam_lint_reports_unknown_actions_and_resource_mismatches() -> None:
    """The linter is not vacuous: it flags the classic SageMaker policy mistakes."""
    model = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m"
    document = {"Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "sagemaker:GetModel", "Resource": model},
        {"Sid": "B", "Effect": "Allow", "Action": "sagemaker:DescribeModel", "Resource": "*"},
        {"Sid": "C", "Effect": "Allow", "Action": "sagemaker:CreateEndpointConfig",
         "Resource": model},
        {"Sid": "D", "Effect": "Allow", "Action": "sagemaker:ListModels", "Resource": model},
        {"Sid": "E", "Effect": "Allow", "Action": "iam:AttachRolePolicy",
         "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
         "Condition": {"StringEquals": {"sagemaker:ModelArn": model}}},
        {"Sid": "F", "Effect": "Allow", "Action": "dynamodb:GetItem",
         "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t/index/*"},
        {"Sid": "G", "Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f:*"},
    ]}
    assert [p.split(":")[0] for p in lint(document)] == ["A", "B", "C", "D", "E", "F", "G"]


@WRITERS
def test_attach_and_detach_carry_tool_policy_arn_condition(
    writer: Writer, request: pytest.FixtureRequest,
) -> None:
    """Attach/DetachRolePolicy are allowed only for policies under the tool's IAM path."""
    for document in policies(writer, request):
        found = [s for s in allows(document) if ATTACH_DETACH & set(as_list(s["Action"]))]
        assert {a for s in found for a in as_list(s["Action"])} == ATTACH_DETACH
        for statement in found:
            assert statement["Condition"]["ArnLike"] == {
                "iam:PolicyARN": writer.arn("policy/model-access/*")}


@WRITERS
def test_attach_by_default_needs_the_opt_in_tag(writer: Writer,
                                                request: pytest.FixtureRequest) -> None:
    """Default stack: attach only onto roles tagged model-access:eligible=true (any path);
    detach of a tool policy from any role, so a role that lost its tag can be revoked."""
    document = request.getfixturevalue(writer.policy)
    (attach,) = granting(document, "iam:AttachRolePolicy")
    (detach,) = granting(document, "iam:DetachRolePolicy")
    assert attach["Resource"] == detach["Resource"] == writer.arn("role/*")
    assert attach["Condition"]["StringEquals"] == {
        "iam:ResourceTag/model-access:eligible": "true"}
    assert "StringEquals" not in detach["Condition"]


@WRITERS
def test_attach_mirrors_the_runtime_tag_or_path(writer: Writer,
                                                request: pytest.FixtureRequest) -> None:
    """With a path prefix and a tag configured, either opts a role in, as in the runtime:
    one attach statement per way in; detach reaches every role a tag could opt in."""
    document = request.getfixturevalue(writer.restricted)
    attach = {s["Sid"]: s for s in granting(document, "iam:AttachRolePolicy")}
    (detach,) = granting(document, "iam:DetachRolePolicy")
    tagged = attach.pop("AttachToolPoliciesToTaggedRoles")
    assert tagged["Resource"] == writer.arn("role/*")
    assert tagged["Condition"]["StringEquals"] == {"iam:ResourceTag/model-access": "eligible"}
    (under_path,) = attach.values()
    assert under_path["Resource"] == writer.arn("role/ml-owners/*")
    assert "StringEquals" not in under_path["Condition"]
    assert detach["Resource"] == writer.arn("role/*")


@WRITERS
@pytest.mark.parametrize(("config", "attach_to", "detach_from"), [
    ({"roleTag": "*"}, ["role/*"], "role/*"),
    ({"roleTag": "*", "rolePathPrefix": "/ml-owners/"}, ["role/ml-owners/*"], "role/ml-owners/*"),
])
def test_attach_without_tag_follows_explicit_configuration(
    writer: Writer, config: dict[str, str], attach_to: list[str], detach_from: str,
) -> None:
    """`roleTag: "*"`: no tag condition; every role (warned) or only the path prefix."""
    document = writer.of(config)
    attach = granting(document, "iam:AttachRolePolicy")
    assert [s["Resource"] for s in attach] == [writer.arn(r) for r in attach_to]
    assert all("StringEquals" not in s["Condition"] for s in attach)
    (detach,) = granting(document, "iam:DetachRolePolicy")
    assert detach["Resource"] == writer.arn(detach_from)


def denials(document: dict[str, Any]) -> dict[frozenset[str], set[str]]:
    """Denied resources, keyed by the set of actions denied on them."""
    found: dict[frozenset[str], set[str]] = {}
    for statement in statements(document):
        if statement["Effect"] == "Deny":
            key = frozenset(as_list(statement["Action"]))
            found.setdefault(key, set()).update(as_list(statement["Resource"]))
    return found


@WRITERS
def test_own_and_service_linked_roles_are_explicitly_denied(
    writer: Writer, request: pytest.FixtureRequest,
) -> None:
    """No tool policy can go onto or come off the writer's own role or a service-linked role."""
    assert denials(request.getfixturevalue(writer.policy)) == {frozenset(ATTACH_DETACH): {
        writer.arn(f"role/{writer.own_role}"), writer.arn("role/aws-service-role/*")}}


@WRITERS
def test_deny_list_roles_can_lose_but_never_gain_a_grant(
    writer: Writer, request: pytest.FixtureRequest,
) -> None:
    """Roles on denyRoles are denied AttachRolePolicy (by name at any path, or by ARN) only."""
    document = request.getfixturevalue(writer.restricted)
    assert denials(document)[frozenset({"iam:AttachRolePolicy"})] == {
        writer.arn("role/break-glass"),
        writer.arn("role/*/break-glass"),
        f"arn:aws:iam::{ACCOUNT}:role/ops/admin",
    }


@WRITERS
def test_iam_policy_writes_only_on_tool_path(writer: Writer,
                                             request: pytest.FixtureRequest) -> None:
    """Every IAM action that creates, changes or deletes a policy is scoped to /model-access/."""
    writes = ("iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy",
              "iam:DeletePolicyVersion", "iam:TagPolicy")
    for document in policies(writer, request):
        for action in writes:
            statements_for = granting(document, action)
            assert statements_for, f"{action} is not granted"
            assert all(as_list(s["Resource"]) == [writer.arn("policy/model-access/*")]
                       for s in statements_for)


def test_function_policy_has_no_action_wildcards_or_managed_policies(
    stack: StackRun, functions_policy: dict[str, Any]
) -> None:
    """No `service:*`-style action, no AWS managed (let alone *FullAccess) policy on the role."""
    actions = [a for s in statements(functions_policy) for a in as_list(s["Action"])]
    assert not [a for a in actions if "*" in a or "?" in a]
    role = stack.one("aws:iam/role:Role")
    assert not role.inputs.get("managedPolicyArns")
    assert not stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert len(stack.of_type("aws:iam/rolePolicy:RolePolicy")) == 1


@WRITERS
def test_function_policy_reads_sagemaker_only(writer: Writer,
                                              request: pytest.FixtureRequest) -> None:
    """The only SageMaker actions are the reads the reconcile needs (models and model package
    groups: Describe and ListTags; the sweep lists through the tag index, never ListModels)."""
    sagemaker = {a for s in allows(request.getfixturevalue(writer.policy))
                 for a in as_list(s["Action"]) if a.startswith("sagemaker:")}
    assert sagemaker == {"sagemaker:DescribeModel", "sagemaker:ListTags",
                         "sagemaker:DescribeModelPackageGroup"}


def test_member_role_carries_only_its_one_inline_policy(org_stack: StackRun,
                                                        member_policy: dict[str, Any]) -> None:
    """No managed policy, no action wildcard, no second policy on the member role."""
    role = template(org_stack, "member-role")["Resources"]["MemberRole"]["Properties"]
    assert "ManagedPolicyArns" not in role and len(role["Policies"]) == 1
    actions = [a for s in statements(member_policy) for a in as_list(s["Action"])]
    assert not [a for a in actions if "*" in a or "?" in a]


def test_member_policy_has_nothing_only_the_hub_needs(member_policy: dict[str, Any]) -> None:
    """No table, queue, logs, Lambda, X-Ray, STS or Organizations in a member."""
    services = {a.split(":")[0] for s in statements(member_policy) for a in as_list(s["Action"])}
    assert services == {"sagemaker", "tag", "iam"}


def test_hub_may_assume_member_roles_of_its_organization_only(
    functions_policy: dict[str, Any], org_stack: StackRun,
) -> None:
    """With an organization, the functions may assume the member role by name in any
    account whose organization (aws:ResourceOrgID) is the hub's, and ask Organizations about
    its accounts; without one they may assume nothing."""
    assert granting(functions_policy, "sts:AssumeRole") == []
    document = role_policy(org_stack)
    (assume,) = granting(document, "sts:AssumeRole")
    assert assume["Resource"] == "arn:aws:iam::*:role/model-access-member"
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": ORGANIZATION}}
    (ask,) = granting(document, "organizations:DescribeAccount")
    assert ask["Resource"] == f"arn:aws:organizations::*:account/{ORGANIZATION}/*"
    (listing,) = granting(document, "organizations:ListAccounts")  # the sweep's account list
    assert listing["Action"] == ["organizations:ListAccounts"] and listing["Resource"] == "*"
    assert lint(document) == []


def test_listed_members_need_no_organizations_access() -> None:
    """memberAccounts as ids: the assume statement only, no DescribeAccount or ListAccounts."""
    document = role_policy(run_program({**ORG_CONFIG, "memberAccounts": [MEMBER_ACCOUNT]}))
    assert len(granting(document, "sts:AssumeRole")) == 1
    assert granting(document, "organizations:DescribeAccount") == []
    assert granting(document, "organizations:ListAccounts") == []


def test_function_policy_scopes_data_plane_to_stack_resources(
    functions_policy: dict[str, Any],
) -> None:
    """Table, queue, logs and self-invoke are granted on this stack's ARNs and nothing wider."""
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/model-access-grants"
    expected_prefixes = {
        "dynamodb:": (table,),
        "sqs:": (f"arn:aws:sqs:{REGION}:{ACCOUNT}:model-access-events",),
        "logs:": tuple(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/model-access-{f}:"
                       for f in ("provisioner", "backfill")),
        "lambda:": (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:model-access-backfill",),
    }
    for service, prefixes in expected_prefixes.items():
        scoped = [s for s in allows(functions_policy)
                  if any(a.startswith(service) for a in as_list(s["Action"]))]
        assert scoped, f"nothing granted for {service}"
        for statement in scoped:
            assert all(r.startswith(prefixes) for r in as_list(statement["Resource"]))
    assert granting(functions_policy, "lambda:InvokeFunction")[0]["Resource"] == (
        expected_prefixes["lambda:"][0]
    )


def test_function_policy_needs_account_and_own_role() -> None:
    """The pure builder refuses to render without the account or the role it must protect."""
    resources = FunctionResources("t", "q", ("l",), "f")
    with pytest.raises(ValueError, match="account"):
        function_policy(Settings(provisioner_role="r"), resources)
    with pytest.raises(ValueError, match="role"):
        function_policy(Settings(account_id=ACCOUNT), resources)
