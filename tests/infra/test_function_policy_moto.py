"""The writers' policies under moto's IAM enforcement: the guard rails hold at run time.

Each role (the hub functions' role in the hub account, the member role in a member account)
is created in moto with exactly the inline policy the Pulumi program rendered (for the
member: its StackSet template, substituted for that account), then assumed; every call below
is made with those credentials and authorised by moto. moto checks actions and role ARNs
itself; `policy_arn_conditions` adds the `iam:PolicyARN` condition.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication
from moto.core.base_backend import BackendDict
from moto.iam.models import iam_backends

from tests.infra.conftest import MEMBER_ACCOUNT, ORG_CONFIG, member_role_policy, role_policy
from tests.infra.moto_iam_conditions import policy_arn_conditions
from tests.infra.pulumi_harness import ACCOUNT, run_program

FUNCTIONS_ROLE = "model-access-functions"
MEMBER_ROLE = "model-access-member"
WRITERS = {"hub": (FUNCTIONS_ROLE, ACCOUNT), "member": (MEMBER_ROLE, MEMBER_ACCOUNT)}
TOOL_POLICY = "model-access-alice-01"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sagemaker:DescribeModel", "Resource": "*"}]})


ELIGIBLE = [{"Key": "model-access:eligible", "Value": "true"}]


PATH_SCOPED = {"rolePathPrefix": "/ml-owners/", "roleTag": "*", "denyRoles": ["carol"]}
"""A stack whose eligible roles are those under /ml-owners/ (no tag way in), but carol."""
OPEN = {"roleTag": "*"}
"""A stack that made every role eligible (explicit `roleTag: "*"`)."""


@pytest.fixture(scope="module")
def org_runs() -> dict[str, Any]:
    """The organization stack in each configuration, run once for this module."""
    return {name: run_program({**config, **ORG_CONFIG})
            for name, config in (("default", {}), ("scoped", PATH_SCOPED), ("open", OPEN))}


def writer_policy(writer: str, config: str, org_runs: dict[str, Any]) -> dict[str, Any]:
    """The hub's policy from the organization stack (its assume statement included), or
    the member role's from the same run's StackSet template."""
    run = org_runs[config]
    return role_policy(run) if writer == "hub" else member_role_policy(run, MEMBER_ACCOUNT)


def _iam_in(account: str, **credentials: str) -> Any:
    """An IAM client acting in `account` (moto maps assumed credentials to their account)."""
    if account == ACCOUNT and not credentials:
        return boto3.client("iam", region_name="us-east-1")
    if not credentials:
        credentials = _assume(f"arn:aws:iam::{account}:role/setup")
    return boto3.client("iam", region_name="us-east-1", **credentials)


def _assume(role_arn: str) -> dict[str, str]:
    answer = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=role_arn, RoleSessionName="test")["Credentials"]
    return {"aws_access_key_id": answer["AccessKeyId"],
            "aws_secret_access_key": answer["SecretAccessKey"],
            "aws_session_token": answer["SessionToken"]}


def _as_writer(document: dict[str, Any], writer: str = "hub") -> Iterator[Any]:
    """An IAM client holding the writer role's credentials, inside enforcing moto.

    Backends are reset on the way in and out: another suite may hold a session-wide mock,
    and nested mocks share its state.
    """
    own_role, account = WRITERS[writer]
    BackendDict.reset()
    with mock_aws():
        iam = _iam_in(account)
        # Tagged eligible, as anyone allowed iam:TagRole could: the explicit Deny must still hold.
        iam.create_role(RoleName=own_role, AssumeRolePolicyDocument=TRUST, Tags=ELIGIBLE)
        iam.put_role_policy(RoleName=own_role, PolicyName=own_role,
                            PolicyDocument=json.dumps(document))
        for path, name in (("/ml-owners/", "alice"), ("/ml-owners/", "carol"), ("/", "bob"),
                           ("/admins/", "root-ops")):
            iam.create_role(Path=path, RoleName=name, AssumeRolePolicyDocument=TRUST)
        iam.create_role(Path="/", RoleName="tess", AssumeRolePolicyDocument=TRUST, Tags=ELIGIBLE)
        iam.create_policy(Path="/model-access/", PolicyName=TOOL_POLICY, PolicyDocument=ALLOW_ALL)
        iam.attach_role_policy(RoleName="carol",
                               PolicyArn=arn(TOOL_POLICY, "/model-access/", account))
        iam.create_policy(Path="/", PolicyName="broad", PolicyDocument=ALLOW_ALL)
        client = _iam_in(account, **_assume(f"arn:aws:iam::{account}:role/{own_role}"))
        client.account = account
        client.own_role = own_role
        with enable_iam_authentication(), policy_arn_conditions():
            yield client
    BackendDict.reset()


BOTH = pytest.mark.parametrize("writer", ["hub", "member"])
ALL = pytest.mark.parametrize("writer", ["single", "hub", "member"])


@pytest.fixture
def functions_iam(writer: str, org_runs: dict[str, Any],
                  functions_policy: dict[str, Any]) -> Iterator[Any]:
    """`single`: the default single-account stack's functions role; `hub`/`member`: the
    organization stack's two writers."""
    if writer == "single":
        yield from _as_writer(functions_policy)
    else:
        yield from _as_writer(writer_policy(writer, "default", org_runs), writer)


@pytest.fixture
def scoped_iam(writer: str, org_runs: dict[str, Any]) -> Iterator[Any]:
    yield from _as_writer(writer_policy(writer, "scoped", org_runs), writer)


@pytest.fixture
def open_iam(writer: str, org_runs: dict[str, Any]) -> Iterator[Any]:
    yield from _as_writer(writer_policy(writer, "open", org_runs), writer)


def arn(name: str, path: str = "/", account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:policy{path}{name}"


def assert_denied(call: Any, **kwargs: str) -> None:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


@BOTH
def test_functions_role_attaches_and_detaches_tool_policy_on_eligible_role(
        scoped_iam: Any) -> None:
    """A tool policy goes onto (and comes off) a role under the eligible path."""
    tool = arn(TOOL_POLICY, "/model-access/", scoped_iam.account)
    scoped_iam.attach_role_policy(RoleName="alice", PolicyArn=tool)
    scoped_iam.detach_role_policy(RoleName="alice", PolicyArn=tool)


@BOTH
def test_functions_role_cannot_attach_other_policy(scoped_iam: Any) -> None:
    """Any policy outside /model-access/ is refused, even on an eligible role."""
    assert_denied(scoped_iam.attach_role_policy, RoleName="alice",
                  PolicyArn=arn("broad", account=scoped_iam.account))
    assert_denied(scoped_iam.attach_role_policy, RoleName="alice",
                  PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


@BOTH
def test_functions_role_cannot_touch_ineligible_roles(scoped_iam: Any) -> None:
    """With the path as the only way in, roles outside it can neither receive nor lose a
    tool policy, even one carrying the eligibility tag."""
    tool = arn(TOOL_POLICY, "/model-access/", scoped_iam.account)
    for role in ("bob", "root-ops", "tess"):
        assert_denied(scoped_iam.attach_role_policy, RoleName=role, PolicyArn=tool)
        assert_denied(scoped_iam.detach_role_policy, RoleName=role, PolicyArn=tool)


@ALL
def test_functions_role_attaches_only_to_roles_that_opted_in_by_tag(functions_iam: Any) -> None:
    """The default: attach needs the role's `model-access:eligible=true` tag (iam:ResourceTag);
    a role that has lost the tag can still have its grant revoked."""
    tool = arn(TOOL_POLICY, "/model-access/", functions_iam.account)
    for role in ("bob", "alice", "root-ops"):
        assert_denied(functions_iam.attach_role_policy, RoleName=role, PolicyArn=tool)
    functions_iam.attach_role_policy(RoleName="tess", PolicyArn=tool)
    # An administrator (not the functions) removes tess's opt-in.
    iam_backends[functions_iam.account]["aws"].untag_role("tess", ["model-access:eligible"])
    assert_denied(functions_iam.attach_role_policy, RoleName="tess",
                  PolicyArn=arn("broad", account=functions_iam.account))
    functions_iam.detach_role_policy(RoleName="tess", PolicyArn=tool)
    assert_denied(functions_iam.attach_role_policy, RoleName="tess", PolicyArn=tool)


@BOTH
def test_functions_role_attaches_to_any_role_only_when_configured(open_iam: Any) -> None:
    """`roleTag: "*"` with no path (every role eligible, explicit) lets attach reach bob."""
    open_iam.attach_role_policy(RoleName="bob",
                                PolicyArn=arn(TOOL_POLICY, "/model-access/", open_iam.account))


@BOTH
@pytest.mark.parametrize("functions", ["functions_iam", "open_iam"])
def test_functions_role_cannot_attach_to_itself(writer: str, functions: str,
                                                request: pytest.FixtureRequest) -> None:
    """Its own role carries the eligibility tag, or every role is eligible: the explicit
    Deny still protects it."""
    client = request.getfixturevalue(functions)
    tool = arn(TOOL_POLICY, "/model-access/", client.account)
    assert_denied(client.attach_role_policy, RoleName=client.own_role, PolicyArn=tool)
    assert_denied(client.detach_role_policy, RoleName=client.own_role, PolicyArn=tool)


@BOTH
def test_functions_role_revokes_but_never_grants_to_deny_listed_role(scoped_iam: Any) -> None:
    """A role on denyRoles, though under the eligible path, can lose a grant but not get one."""
    tool = arn(TOOL_POLICY, "/model-access/", scoped_iam.account)
    scoped_iam.detach_role_policy(RoleName="carol", PolicyArn=tool)
    assert_denied(scoped_iam.attach_role_policy, RoleName="carol", PolicyArn=tool)
