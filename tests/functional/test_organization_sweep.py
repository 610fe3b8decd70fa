"""The backfill and drift sweep over the hub's account and every member, in every served
region, through the backfill function's entry point (in-process moto's accounts)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from model_access.aws.clients import Clients
from model_access.operate.verify import verify
from model_access.runtime import Runtime
from model_access.sweep.accounts import served_accounts, sweep_accounts
from tests.functional.faults import Faults, Rule
from tests.functional.functions_loader import backfill_handler, lambda_context
from tests.functional.members import (
    MEMBER,
    ORG_ENV,
    OTHER_REGION,
    SECOND,
    account_clients,
    model,
    owner_role,
    tool_policies,
)
from tests.functional.world import ACCOUNT, World


class Org:
    """The hub with one model, MEMBER with models in two regions, SECOND with one in the
    other region; nothing granted yet (the pipeline was off)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.member = account_clients(world.clients, MEMBER)
        self.second = account_clients(world.clients, SECOND)
        world.role("alice")
        owner_role(self.member, "alice")
        owner_role(self.second, "bob")
        self.hub_model = world.model("h1", "alice")
        self.member_us = model(self.member, "fraud", "alice")
        self.member_eu = model(account_clients(world.clients, MEMBER, OTHER_REGION),
                               "churn", "alice")
        self.second_eu = model(account_clients(world.clients, SECOND, OTHER_REGION),
                               "risk", "bob")

    def runtime(self, **env: str) -> Runtime:
        return self.world.runtime(**{**ORG_ENV, **env})


@pytest.fixture
def org(world: World) -> Org:
    return Org(world)


def sweep(rt: Runtime, event: dict[str, Any] | None = None,
          context: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = backfill_handler(rt)(
        event or {}, context or lambda_context("model-access-backfill"))
    return result


def test_sweep_grants_in_every_account_and_region(org: Org) -> None:
    """One backfill grants the hub's, each member's and each region's models in that
    account's IAM only; a member's role holds its models of both regions in one policy."""
    summary = sweep(org.runtime())
    assert {a: row["outcome"] for a, row in summary["accounts"].items()} == {
        ACCOUNT: "Swept", MEMBER: "Swept", SECOND: "Swept"}
    assert (summary["granted"], summary["failed"], summary["continuation"]) == (4, 0, None)
    assert summary["accounts"][MEMBER]["granted"] == 2
    assert tool_policies(org.member) == {
        "model-access-alice-01": sorted([org.member_us, org.member_eu])}
    assert tool_policies(org.second) == {"model-access-bob-01": [org.second_eu]}
    assert tool_policies(org.world.clients) == {"model-access-alice-01": [org.hub_model]}


def test_second_sweep_writes_nothing_and_verify_is_clean_per_account(org: Org) -> None:
    """A sweep of a state already in line makes no IAM write in any account, and verify
    finds nothing in the hub or a member (both regions)."""
    rt = org.runtime()
    sweep(rt)
    writes = org.world.iam_writes()
    summary = sweep(rt)
    assert org.world.iam_writes() == writes
    assert summary["unchanged"] == 4
    assert verify(rt) == []
    assert verify(rt.for_origin(MEMBER, rt.scope.region)) == []


def test_unavailable_member_is_reported_and_the_sweep_goes_on(org: Org) -> None:
    """SECOND's member role refuses the hub (AssumeRole AccessDenied): MemberUnavailable in
    its row and in the outcomes; the hub and MEMBER are still swept."""
    refused = Rule("access-denied", services=("sts",), operations=("AssumeRole",),
                   body_contains=SECOND)
    with Faults(org.world.clients, [refused]):
        summary = sweep(org.runtime())
    assert summary["accounts"][SECOND]["outcome"] == "MemberUnavailable"
    assert "role/model-access-member" in summary["accounts"][SECOND]["reason"]
    assert summary["accounts"][MEMBER]["outcome"] == "Swept"
    assert summary["outcomes"]["MemberUnavailable"] == 1 and summary["failed"] == 1
    assert tool_policies(org.second) == {}
    assert len(tool_policies(org.member)["model-access-alice-01"]) == 2


def test_sweep_continues_at_the_next_account_and_never_forks(
        org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    """Time runs low after the hub's account: the slice invokes itself with the run and the
    next account; the continuation sweeps the members; a duplicate of it does nothing. Each
    account's progress is its own item (`sweep#<run>`, `acct#<id>#sweep#<run>`)."""
    rt = org.runtime()
    context = lambda_context("model-access-backfill")

    def remaining_ms() -> float:  # plenty until the hub's account is done
        return 10_000.0 if tool_policies(org.world.clients) else 800_000.0

    monkeypatch.setattr(context, "get_remaining_time_in_millis", remaining_ms)
    with Stubber(org.world.clients.lambda_) as lambda_:
        lambda_.add_response("invoke", {"StatusCode": 202}, {
            "FunctionName": "model-access-backfill", "InvocationType": "Event",
            "Payload": ANY})
        first = sweep(rt, context=context)
        lambda_.assert_no_pending_responses()
    assert list(first["accounts"]) == [ACCOUNT]
    assert first["continuation"] == {"runId": first["runId"], "account": MEMBER}
    assert tool_policies(org.member) == {}
    resumed = sweep(rt, {"continuation": first["continuation"]})
    assert {a: row["outcome"] for a, row in resumed["accounts"].items()} == {
        MEMBER: "Swept", SECOND: "Swept"}
    assert resumed["granted"] == 3 and resumed["continuation"] is None
    again = sweep(rt, {"continuation": first["continuation"]})
    assert again["skipped"] is True and again["seen"] == 0
    table = org.world.clients.dynamodb
    keys = [f"sweep#{first['runId']}", f"acct#{MEMBER}#sweep#{first['runId']}",
            f"acct#{SECOND}#sweep#{first['runId']}"]
    states = [table.get_item(TableName="model-access-grants", Key={"pk": {"S": k}})["Item"]
              for k in keys]
    assert [s["status"]["S"] for s in states] == ["done", "done", "done"]


def test_dry_run_over_accounts_writes_nothing(org: Org) -> None:
    """`{"dryRun": true}` reports every account's plan and writes nothing anywhere."""
    writes = org.world.clients.counter.total(writes_only=True)
    summary = sweep(org.runtime(), {"dryRun": True})
    assert summary["granted"] == 4 and summary["dryRun"] is True
    assert org.world.clients.counter.total(writes_only=True) == writes


def test_one_account_and_one_region_only(org: Org) -> None:
    """Sweeping MEMBER in the other region only grants that region's model there."""
    result = sweep_accounts(org.runtime(), accounts=[MEMBER], regions=[OTHER_REGION])
    (only,) = result.accounts
    assert (only.account, only.outcome) == (MEMBER, "Swept")
    assert tool_policies(org.member) == {"model-access-alice-01": [org.member_eu]}
    assert tool_policies(org.world.clients) == {}


def test_organization_mode_sweeps_active_accounts(aws: Clients, world: World) -> None:
    """`organization`: the accounts swept are the hub and every ACTIVE account Organizations
    lists (a closed one is left out)."""
    orgs = aws.organizations
    orgs.create_organization(FeatureSet="ALL")
    ids = [orgs.create_account(Email=f"{n}@example.com", AccountName=n)[
        "CreateAccountStatus"]["AccountId"] for n in ("ml", "closed")]
    orgs.close_account(AccountId=ids[1])
    rt = world.runtime(MODEL_ACCESS_MEMBER_ACCOUNTS="organization")
    assert served_accounts(rt) == [ACCOUNT, ids[0]]
