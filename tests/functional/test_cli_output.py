"""`--output json` of every result-printing command, through `model-access`'s entry point
(in-process moto): one document on stdout that the documented schema accepts, with the
content the command should show; progress and errors on stderr."""

from __future__ import annotations

import json

import pytest
from jsonschema import ValidationError

from tests.functional.cli_run import SCHEMA, run, run_json, validator
from tests.functional.world import ACCOUNT, World

pytestmark = pytest.mark.usefixtures("cli_clients")

POLICY = "model-access-alice-01"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/model-access/{POLICY}"


def test_cli_plan_json_shows_the_pending_grant_progress_on_stderr(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """plan --output json: exit 3, alice's pending grant and its IAM writes; progress on stderr."""
    world.role("alice")
    arn = world.model("m1", "alice")
    world.model("untagged")
    code, doc, err = run_json(capsys, "plan")
    assert code == 3
    assert doc["changesPending"] is True
    assert doc["roles"] == [{"role": "alice", "grant": [arn], "revoke": [], "noRoom": [],
                             "repairs": [], "iamWrites": [{"op": "create", "policy": POLICY},
                                                          {"op": "attach", "policy": POLICY}]}]
    assert [(m["model"], m["outcome"]) for m in doc["models"]] == [(arn, "Granted")]
    assert doc["summary"]["granted"] == 1
    assert "reconciling" in err


def test_cli_backfill_json_dry_run_then_real(world: World,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """backfill --output json counts the grant; the dry run writes nothing."""
    world.role("alice")
    arn = world.model("m1", "alice")
    code, doc, err = run_json(capsys, "backfill", "--dry-run")
    assert (code, doc["dryRun"], doc["result"]["granted"], doc["failures"]) == (0, True, 1, [])
    assert world.granted(world.runtime(), "alice") == set()
    assert "listing tagged models" in err
    code, doc, _ = run_json(capsys, "backfill")
    assert (code, doc["dryRun"], doc["function"], doc["functionError"]) == (0, False, None, None)
    assert doc["result"]["granted"] == 1
    assert doc["result"]["outcomes"] == {"Granted": 1}
    assert world.granted(world.runtime(), "alice") == {arn}


def test_cli_grants_json_checks_each_grant_against_iam(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """grants --output json names role and policy, and inIam turns false once IAM lost it."""
    world.role("alice")
    arn = world.model("m1", "alice")
    assert run(capsys, "backfill")[0] == 0
    code, doc, _ = run_json(capsys, "grants", "--role", "alice")
    assert code == 0
    assert doc["filter"] == {"role": "alice", "model": None}
    [grant] = doc["grants"]
    assert (grant["model"], grant["role"], grant["policy"], grant["status"], grant["inIam"]) == (
        arn, "alice", POLICY, "granted", True)
    world.clients.iam.detach_role_policy(RoleName="alice", PolicyArn=POLICY_ARN)
    _, doc, _ = run_json(capsys, "grants", "--model", arn)
    assert doc["grants"][0]["inIam"] is False


def test_cli_verify_json_names_a_tampered_policy(world: World,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """verify --output json: exit 1 and a `tampered` discrepancy after a hand edit."""
    world.role("alice")
    world.model("m1", "alice")
    assert run(capsys, "backfill")[0] == 0
    code, doc, err = run_json(capsys, "verify")
    assert (code, doc["agree"], doc["discrepancies"]) == (0, True, [])
    assert "verify:" in err
    world.clients.iam.create_policy_version(
        PolicyArn=POLICY_ARN, SetAsDefault=True, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}))
    code, doc, _ = run_json(capsys, "verify")
    assert code == 1
    assert doc["agree"] is False
    kinds = {(d["kind"], d["subject"]) for d in doc["discrepancies"]}
    assert ("tampered", POLICY) in kinds
    assert doc["discrepancies"] == sorted(doc["discrepancies"],
                                          key=lambda d: (d["kind"], d["subject"], d["detail"]))


def test_cli_uninstall_dry_run_json_lists_and_keeps(world: World,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """uninstall --dry-run --output json lists the tool policy and removes nothing."""
    world.role("alice")
    arn = world.model("m1", "alice")
    assert run(capsys, "backfill")[0] == 0
    code, doc, _ = run_json(capsys, "uninstall", "--dry-run")
    assert code == 0
    assert doc == {"command": "uninstall", "schemaVersion": 1, "dryRun": True, "policies": [
        {"policy": POLICY, "arn": POLICY_ARN, "role": "alice", "models": 1}]}
    assert world.granted(world.runtime(), "alice") == {arn}


def test_cli_usage_error_leaves_stdout_empty(world: World,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A bad argument: exit 2, the reason on stderr, nothing on stdout even with json."""
    code, out, err = run(capsys, "grants", "--model", "not-an-arn", "--output", "json")
    assert (code, out) == (2, "")
    assert "is not a model or model package group ARN" in err


def test_cli_output_schema_covers_every_command_and_rejects_strays(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Each command's document validates; the schema has one definition per command and
    rejects a document with an undocumented field or a missing one."""
    world.role("alice")
    world.model("m1", "alice")
    documents = {}
    for argv in (["plan"], ["backfill"], ["grants"], ["verify"], ["uninstall", "--dry-run"],
                 ["explain", "m1"]):
        documents[argv[0]] = run_json(capsys, *argv)[1]
    _, out, _ = run(capsys, "verify", "--all-accounts", "--output", "json")
    documents["perAccount"] = json.loads(out)
    validator().validate(documents["perAccount"])
    schema = json.loads(SCHEMA.read_text())
    listed = {ref["$ref"].rsplit("/", 1)[1] for ref in schema["oneOf"]}
    assert listed == set(documents)
    with pytest.raises(ValidationError):
        validator().validate(documents["verify"] | {"undocumented": 1})
    explain = dict(documents["explain"])
    del explain["nextReconcile"]
    with pytest.raises(ValidationError):
        validator().validate(explain)
