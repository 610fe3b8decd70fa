"""The functions' own policy under moto's IAM enforcement: the guard rails hold at run time.

The role is created in moto with exactly the inline policy the Pulumi program rendered, then
assumed; every call below is made with those credentials and authorised by moto. moto checks
actions and role ARNs itself; `policy_arn_conditions` adds the `iam:PolicyARN` condition.
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

from tests.infra.conftest import role_policy
from tests.infra.moto_iam_conditions import policy_arn_conditions
from tests.infra.pulumi_harness import run_program

FUNCTIONS_ROLE = "model-access-functions"
TOOL_POLICY = "model-access-alice-01"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sagemaker:DescribeModel", "Resource": "*"}]})


ELIGIBLE = [{"Key": "model-access:eligible", "Value": "true"}]


@pytest.fixture(scope="module")
def path_scoped_policy() -> dict[str, Any]:
    """The policy of a stack whose eligible roles are those under /ml-owners/ (no tag way
    in: `roleTag: "*"`), but carol."""
    return role_policy(run_program({"rolePathPrefix": "/ml-owners/", "roleTag": "*",
                                    "denyRoles": ["carol"]}))


@pytest.fixture(scope="module")
def open_policy() -> dict[str, Any]:
    """The policy of a stack that made every role eligible (explicit `roleTag: "*"`)."""
    return role_policy(run_program({"roleTag": "*"}))


def _as_functions(document: dict[str, Any]) -> Iterator[Any]:
    """An IAM client holding the functions' role credentials, inside enforcing moto.

    Backends are reset on the way in and out: another suite may hold a session-wide mock,
    and nested mocks share its state.
    """
    BackendDict.reset()
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        # Tagged eligible, as anyone allowed iam:TagRole could: the explicit Deny must still hold.
        iam.create_role(RoleName=FUNCTIONS_ROLE, AssumeRolePolicyDocument=TRUST, Tags=ELIGIBLE)
        iam.put_role_policy(RoleName=FUNCTIONS_ROLE, PolicyName="model-access-functions",
                            PolicyDocument=json.dumps(document))
        for path, name in (("/ml-owners/", "alice"), ("/ml-owners/", "carol"), ("/", "bob"),
                           ("/admins/", "root-ops")):
            iam.create_role(Path=path, RoleName=name, AssumeRolePolicyDocument=TRUST)
        iam.create_role(Path="/", RoleName="tess", AssumeRolePolicyDocument=TRUST, Tags=ELIGIBLE)
        iam.create_policy(Path="/model-access/", PolicyName=TOOL_POLICY, PolicyDocument=ALLOW_ALL)
        iam.attach_role_policy(RoleName="carol", PolicyArn=arn(TOOL_POLICY, "/model-access/"))
        iam.create_policy(Path="/", PolicyName="broad", PolicyDocument=ALLOW_ALL)
        credentials = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::123456789012:role/{FUNCTIONS_ROLE}", RoleSessionName="test",
        )["Credentials"]
        client = boto3.client(
            "iam", region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        with enable_iam_authentication(), policy_arn_conditions():
            yield client
    BackendDict.reset()


@pytest.fixture
def functions_iam(functions_policy: dict[str, Any]) -> Iterator[Any]:
    yield from _as_functions(functions_policy)


@pytest.fixture
def scoped_iam(path_scoped_policy: dict[str, Any]) -> Iterator[Any]:
    yield from _as_functions(path_scoped_policy)


@pytest.fixture
def open_iam(open_policy: dict[str, Any]) -> Iterator[Any]:
    yield from _as_functions(open_policy)


def arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::123456789012:policy{path}{name}"


def assert_denied(call: Any, **kwargs: str) -> None:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_functions_role_attaches_and_detaches_tool_policy_on_eligible_role(scoped_iam: Any) -> None:
    """A tool policy goes onto (and comes off) a role under the eligible path."""
    tool = arn(TOOL_POLICY, "/model-access/")
    scoped_iam.attach_role_policy(RoleName="alice", PolicyArn=tool)
    scoped_iam.detach_role_policy(RoleName="alice", PolicyArn=tool)


def test_functions_role_cannot_attach_other_policy(scoped_iam: Any) -> None:
    """Any policy outside /model-access/ is refused, even on an eligible role."""
    assert_denied(scoped_iam.attach_role_policy, RoleName="alice", PolicyArn=arn("broad"))
    assert_denied(scoped_iam.attach_role_policy, RoleName="alice",
                  PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def test_functions_role_cannot_touch_ineligible_roles(scoped_iam: Any) -> None:
    """With the path as the only way in, roles outside it can neither receive nor lose a
    tool policy, even one carrying the eligibility tag."""
    tool = arn(TOOL_POLICY, "/model-access/")
    for role in ("bob", "root-ops", "tess"):
        assert_denied(scoped_iam.attach_role_policy, RoleName=role, PolicyArn=tool)
        assert_denied(scoped_iam.detach_role_policy, RoleName=role, PolicyArn=tool)


def test_functions_role_attaches_only_to_roles_that_opted_in_by_tag(functions_iam: Any) -> None:
    """The default: attach needs the role's `model-access:eligible=true` tag (iam:ResourceTag);
    a role that has lost the tag can still have its grant revoked."""
    tool = arn(TOOL_POLICY, "/model-access/")
    for role in ("bob", "alice", "root-ops"):
        assert_denied(functions_iam.attach_role_policy, RoleName=role, PolicyArn=tool)
    functions_iam.attach_role_policy(RoleName="tess", PolicyArn=tool)
    # An administrator (not the functions) removes tess's opt-in.
    iam_backends["123456789012"]["aws"].untag_role("tess", ["model-access:eligible"])
    assert_denied(functions_iam.attach_role_policy, RoleName="tess", PolicyArn=arn("broad"))
    functions_iam.detach_role_policy(RoleName="tess", PolicyArn=tool)
    assert_denied(functions_iam.attach_role_policy, RoleName="tess", PolicyArn=tool)


def test_functions_role_attaches_to_any_role_only_when_configured(open_iam: Any) -> None:
    """`roleTag: "*"` with no path (every role eligible, explicit) lets attach reach bob."""
    open_iam.attach_role_policy(RoleName="bob", PolicyArn=arn(TOOL_POLICY, "/model-access/"))


@pytest.mark.parametrize("functions", ["functions_iam", "open_iam"])
def test_functions_role_cannot_attach_to_itself(functions: str,
                                                request: pytest.FixtureRequest) -> None:
    """Its own role carries the eligibility tag, or every role is eligible: the explicit
    Deny still protects it."""
    client = request.getfixturevalue(functions)
    tool = arn(TOOL_POLICY, "/model-access/")
    assert_denied(client.attach_role_policy, RoleName=FUNCTIONS_ROLE, PolicyArn=tool)
    assert_denied(client.detach_role_policy, RoleName=FUNCTIONS_ROLE, PolicyArn=tool)


def test_functions_role_revokes_but_never_grants_to_deny_listed_role(scoped_iam: Any) -> None:
    """A role on denyRoles, though under the eligible path, can lose a grant but not get one."""
    tool = arn(TOOL_POLICY, "/model-access/")
    scoped_iam.detach_role_policy(RoleName="carol", PolicyArn=tool)
    assert_denied(scoped_iam.attach_role_policy, RoleName="carol", PolicyArn=tool)
