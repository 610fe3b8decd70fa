"""`model-access plan|backfill|grants|verify|uninstall` with `--account`, `--region` and
`--all-accounts`, through the command's entry point (in-process moto's accounts)."""

from __future__ import annotations

import json

import pytest

from tests.functional.cli_run import run, run_json, validator
from tests.functional.faults import Faults, Rule
from tests.functional.members import (
    MEMBER,
    ORG_ENV,
    OTHER_REGION,
    SECOND,
    STRANGER,
    account_clients,
    model,
    owner_role,
    tool_policies,
)
from tests.functional.world import ACCOUNT, World

pytestmark = pytest.mark.usefixtures("cli_clients")


@pytest.fixture
def org(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The hub serves MEMBER and SECOND in two regions; alice owns one model in the hub and
    one in each of MEMBER's regions; SECOND's bob one in the other region."""
    for name, value in {**ORG_ENV, "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    hub = world.clients
    world.role("alice")
    owner_role(account_clients(hub, MEMBER), "alice")
    owner_role(account_clients(hub, SECOND), "bob")
    return {"hub": world.model("h1", "alice"),
            "member_us": model(account_clients(hub, MEMBER), "fraud", "alice"),
            "member_eu": model(account_clients(hub, MEMBER, OTHER_REGION), "churn", "alice"),
            "second_eu": model(account_clients(hub, SECOND, OTHER_REGION), "risk", "bob")}


def test_cli_backfill_all_accounts_grants_everywhere_with_progress_per_account(
        world: World, org: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """backfill --all-accounts: each account's models granted in its own IAM; a line per
    account on stderr, a title per account on stdout."""
    code, out, err = run(capsys, "backfill", "--all-accounts")
    assert code == 0
    for index, account in enumerate((ACCOUNT, MEMBER, SECOND), start=1):
        assert f"account {account} ({index}/3)" in err
        assert f"account {account}\n" in out
    assert tool_policies(account_clients(world.clients, MEMBER)) == {
        "model-access-alice-01": sorted([org["member_us"], org["member_eu"]])}
    assert tool_policies(account_clients(world.clients, SECOND)) == {
        "model-access-bob-01": [org["second_eu"]]}
    assert tool_policies(world.clients) == {"model-access-alice-01": [org["hub"]]}


def test_cli_plan_one_member_one_region_json(org: dict[str, str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """plan --account MEMBER --region eu-west-1: only that region's model, the document
    names the account (and validates against the schema)."""
    code, doc, err = run_json(capsys, "plan", "--account", MEMBER, "--region", OTHER_REGION)
    assert code == 3 and doc["account"] == MEMBER
    assert [(r["role"], r["grant"]) for r in doc["roles"]] == [("alice", [org["member_eu"]])]
    assert f"account {MEMBER}" in err


def test_cli_region_must_be_served(org: dict[str, str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """--region outside the served regions: usage error, nothing on stdout."""
    code, out, err = run(capsys, "plan", "--region", "ap-south-1")
    assert (code, out) == (2, "")
    assert "serves us-east-1, eu-west-1" in err


def test_cli_verify_all_accounts_reports_an_unavailable_member_and_goes_on(
        world: World, org: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """verify --all-accounts --output json with SECOND's role refusing the hub: one document,
    SECOND MemberUnavailable, the others verified; exit 1."""
    assert run(capsys, "backfill", "--all-accounts")[0] == 0
    refused = Rule("access-denied", services=("sts",), operations=("AssumeRole",),
                   body_contains=SECOND)
    with Faults(world.clients, [refused]):
        code, out, err = run(capsys, "verify", "--all-accounts", "--output", "json")
    document = json.loads(out)
    validator().validate(document)
    rows = {e["account"]: e for e in document["accounts"]}
    assert code == 1
    assert rows[SECOND]["outcome"] == "MemberUnavailable" and rows[SECOND]["document"] is None
    assert rows[ACCOUNT]["document"]["agree"] is True
    assert rows[MEMBER]["document"]["agree"] is True
    assert "MemberUnavailable" in err


def test_cli_stranger_account_is_refused(org: dict[str, str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """grants --account of an account the hub does not serve: AccountNotMember, exit 2."""
    code, out, err = run(capsys, "grants", "--account", STRANGER)
    assert (code, out) == (2, "")
    assert "AccountNotMember" in err


def test_cli_grants_and_uninstall_per_member(
        world: World, org: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """grants --account lists the member's grants checked against its IAM; uninstall
    --all-accounts removes every account's tool policies."""
    assert run(capsys, "backfill", "--all-accounts")[0] == 0
    code, doc, _ = run_json(capsys, "grants", "--account", MEMBER)
    assert code == 0
    assert sorted((g["model"], g["inIam"]) for g in doc["grants"]) == sorted(
        [(org["member_us"], True), (org["member_eu"], True)])
    code, doc, _ = run_json(capsys, "grants", "--account", MEMBER, "--region", OTHER_REGION)
    assert [g["model"] for g in doc["grants"]] == [org["member_eu"]]
    assert run(capsys, "uninstall", "--all-accounts")[0] == 0
    for clients in (world.clients, account_clients(world.clients, MEMBER),
                    account_clients(world.clients, SECOND)):
        assert tool_policies(clients) == {}


def test_cli_explain_a_members_model_by_arn_or_by_name_with_account(
        org: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """explain reads a member's model where it lives: by its ARN (account and region from
    the ARN) or by name with --account (and --region); the document names the account. The
    hub's own model needs no flag and names none."""
    assert run(capsys, "backfill", "--all-accounts")[0] == 0
    code, doc, err = run_json(capsys, "explain", org["member_eu"])
    assert code == 0 and doc["account"] == MEMBER
    assert doc["model"]["arn"] == org["member_eu"]
    assert [h["policy"] for h in doc["iam"]] == ["model-access-alice-01"]
    assert f"account {MEMBER}, region {OTHER_REGION}" in err
    code, doc, _ = run_json(capsys, "explain", "fraud", "--account", MEMBER)
    assert code == 0 and (doc["account"], doc["model"]["arn"]) == (MEMBER, org["member_us"])
    assert doc["decision"]["outcome"] == "Unchanged"
    code, doc, _ = run_json(capsys, "explain", "risk", "--account", SECOND,
                            "--region", OTHER_REGION)
    assert code == 0 and doc["model"]["arn"] == org["second_eu"]
    code, doc, _ = run_json(capsys, "explain", "h1")
    assert code == 0 and "account" not in doc and doc["model"]["arn"] == org["hub"]


def test_cli_explain_refuses_a_stranger_and_a_contradicting_account(
        org: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """explain of a model in an account the hub does not serve: AccountNotMember, exit 2;
    --account that contradicts the ARN's account: exit 2 with both named; a member's name
    that does not exist there: exit 4 naming the account."""
    stranger = org["member_us"].replace(MEMBER, STRANGER)
    code, out, err = run(capsys, "explain", stranger)
    assert (code, out) == (2, "")
    assert "AccountNotMember" in err
    code, out, err = run(capsys, "explain", org["member_us"], "--account", SECOND)
    assert (code, out) == (2, "")
    assert f"--account {SECOND}" in err and f"account {MEMBER}" in err
    code, out, err = run(capsys, "explain", "ghost", "--account", MEMBER)
    assert (code, out) == (4, "")
    assert f"no model 'ghost' in account {MEMBER}, us-east-1" in err
