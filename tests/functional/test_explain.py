"""`model-access explain MODEL` through the CLI entry point (in-process moto): the owner tag,
the reconcile's own decision and reason, who holds the model where, and what comes next."""

from __future__ import annotations

import pytest

from tests.functional.cli_run import run, run_json
from tests.functional.world import ACCOUNT, World

pytestmark = pytest.mark.usefixtures("cli_clients")

POLICY = "model-access-alice-01"


def granted(world: World, capsys: pytest.CaptureFixture[str]) -> str:
    """alice opted in, m1 owned by her and granted by a backfill; returns m1's ARN."""
    world.role("alice")
    world.role("bob")
    arn = world.model("m1", "alice")
    assert run(capsys, "backfill")[0] == 0
    return arn


def test_explain_granted_model_shows_policy_and_statement(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A granted model (named by ARN): owner tag, Unchanged, alice's policy and the statement
    that names the model, the store's slot and the record's history."""
    arn = granted(world, capsys)
    code, doc, err = run_json(capsys, "explain", arn)
    assert code == 0
    assert doc["ownerTag"] == {"key": "owner-role", "values": ["alice"]}
    assert (doc["decision"]["outcome"], doc["decision"]["reason"]) == (
        "Unchanged", "already granted to alice")
    assert doc["nextReconcile"] == {"action": "none", "from": [], "to": None, "iamWrites": []}
    [held] = doc["iam"]
    assert (held["role"], held["policy"]) == ("alice", POLICY)
    [statement] = held["statements"]
    assert (statement["sid"], statement["via"]) == ("OwnerModelAccess", ["Resource"])
    assert "sagemaker:DescribeModel" in statement["actions"]
    assert doc["store"] == [{"role": "alice", "slot": 1, "policy": POLICY}]
    assert doc["record"]["role"] == "alice"
    assert [(h["outcome"], h["role"]) for h in doc["history"]] == [("Granted", "alice")]
    assert "dry run" in err
    code, out, _ = run(capsys, "explain", "m1")
    assert code == 0
    assert "OwnerModelAccess" in out
    assert "next reconcile: nothing" in out


def test_explain_untagged_model_gives_the_decision_reason(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """An untagged model: NoOwnerTag with the reconcile's reason, held by nobody, no record."""
    world.model("loose")
    code, doc, _ = run_json(capsys, "explain", "loose")
    assert code == 0
    assert doc["ownerTag"]["values"] == []
    assert doc["decision"]["outcome"] == "NoOwnerTag"
    assert "has no 'owner-role' tag" in doc["decision"]["reason"]
    assert (doc["iam"], doc["store"], doc["record"]) == ([], [], None)
    assert doc["nextReconcile"]["action"] == "none"
    code, out, _ = run(capsys, "explain", "loose")
    assert "NoOwnerTag: model has no 'owner-role' tag" in out


def test_explain_retagged_model_next_reconcile_would_move_it(
        world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner tag changed but not yet reconciled: alice still holds it; with owner changes
    open the next reconcile would move it to bob; protected, a sweep would keep it."""
    granted(world, capsys)
    world.set_owner("m1", "bob")
    monkeypatch.setenv("MODEL_ACCESS_OWNER_CHANGE_MODE", "open")
    code, doc, _ = run_json(capsys, "explain", "m1")
    assert code == 0
    assert doc["ownerTag"]["values"] == ["bob"]
    assert doc["decision"]["outcome"] == "Moved"
    assert doc["nextReconcile"]["action"] == "move"
    assert (doc["nextReconcile"]["from"], doc["nextReconcile"]["to"]) == (["alice"], "bob")
    writes = {(w["role"], w["op"]) for w in doc["nextReconcile"]["iamWrites"]}
    assert {("alice", "detach"), ("bob", "create"), ("bob", "attach")} <= writes
    assert [h["role"] for h in doc["iam"]] == ["alice"]  # nothing was written yet
    assert run(capsys, "explain", "m1")[1].count("move from alice to bob") == 1
    monkeypatch.setenv("MODEL_ACCESS_OWNER_CHANGE_MODE", "protected")
    _, doc, _ = run_json(capsys, "explain", "m1")
    assert doc["decision"]["outcome"] == "OwnerChangeDenied"
    assert "the grant stays with alice" in doc["decision"]["reason"]
    assert doc["nextReconcile"]["action"] == "none"


def test_explain_deleted_model_would_be_revoked(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A model deleted while nothing reconciled: not in SageMaker, still in the record and
    IAM, and the next reconcile revokes it from alice."""
    granted(world, capsys)
    world.delete_model("m1")
    code, doc, _ = run_json(capsys, "explain", "m1")
    assert code == 0
    assert doc["model"]["exists"] is False
    assert doc["decision"]["outcome"] == "Revoked"
    assert (doc["nextReconcile"]["action"], doc["nextReconcile"]["from"]) == ("revoke", ["alice"])
    assert [h["policy"] for h in doc["iam"]] == [POLICY]


def test_explain_unknown_model_exits_4_with_a_clear_error(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A model nothing knows: exit 4, the reason on stderr, nothing on stdout."""
    code, out, err = run(capsys, "explain", "ghost", "--output", "json")
    assert (code, out) == (4, "")
    assert "no model 'ghost' in us-east-1" in err


def test_explain_model_package_group_by_group_or_version_arn(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A granted group: its policy's group and versions statements; a version's ARN explains
    its group; an unknown group is exit 4."""
    world.role("alice")
    arn = world.group("fraud", "alice")
    version = world.version("fraud")
    assert run(capsys, "backfill")[0] == 0
    code, doc, _ = run_json(capsys, "explain", arn)
    assert code == 0
    assert (doc["model"]["kind"], doc["decision"]["outcome"]) == (
        "model-package-group", "Unchanged")
    [held] = doc["iam"]
    assert [s["sid"] for s in held["statements"]] == ["OwnerModelPackageGroupAccess",
                                                     "OwnerModelPackageAccess"]
    assert run_json(capsys, "explain", version)[1]["model"]["key"] == doc["model"]["key"]
    code, out, err = run(capsys, "explain", arn.replace("/fraud", "/ghost"))
    assert (code, out) == (4, "")
    assert "no model package group" in err


@pytest.mark.parametrize(("subject", "message"), [
    (f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/churn", "not the ARN of a SageMaker"),
    (f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/m1", "outside this deployment"),
    ("bad name!", "neither a SageMaker model name nor an ARN"),
])
def test_explain_refuses_what_names_no_model_here(
        world: World, capsys: pytest.CaptureFixture[str], subject: str, message: str) -> None:
    """An endpoint's ARN, another region's model or a malformed name: exit 2 with the reason."""
    code, out, err = run(capsys, "explain", subject)
    assert (code, out) == (2, "")
    assert message in err
