"""Backfill and drift sweep through the backfill function's entry point."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from model_access.aws.models import ModelReader
from model_access.core.arns import ResourceKey
from model_access.handlers.provisioner import handle
from model_access.sweep import backfill
from model_access.sweep.backfill import Backfill
from tests.functional.functions_loader import backfill_handler, lambda_context
from tests.functional.world import World


def test_backfill_grants_models_created_while_pipeline_was_off(world: World) -> None:
    """Models with no event get their grants; an untagged model nobody holds is not even
    looked at (the tag index lists only models that carry the owner tag)."""
    world.role("alice")
    world.role("bob")
    for i in range(6):
        world.model(f"m{i}", "alice" if i % 2 else "bob")
    world.model("untagged")
    rt = world.runtime()
    result = backfill_handler(rt)({}, lambda_context("model-access-backfill"))
    assert (result["seen"], result["granted"], result["refused"]) == (6, 6, 0)
    assert result["continuation"] is None
    assert len(world.granted(rt, "alice")) == len(world.granted(rt, "bob")) == 3


def test_backfill_dry_run_writes_nothing(world: World) -> None:
    """`{"dryRun": true}` reports the plan and makes no IAM or record write."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    writes = world.clients.counter.total(writes_only=True)
    result = backfill_handler(rt)({"dryRun": True}, lambda_context("model-access-backfill"))
    assert result["granted"] == 1 and result["dryRun"] is True
    assert world.clients.counter.total(writes_only=True) == writes
    assert world.granted(rt, "alice") == set()


def test_backfill_second_run_makes_no_iam_write(world: World) -> None:
    """A backfill of a state already in line costs no IAM write at all."""
    world.role("alice")
    for i in range(30):
        world.model(f"m{i}", "alice")
    rt = world.runtime()
    Backfill(rt).run()
    before = world.iam_writes()
    result = Backfill(rt).run()
    assert world.iam_writes() == before
    assert result.as_dict()["unchanged"] == 30


def test_backfill_revokes_grant_of_model_deleted_while_pipeline_was_off(world: World) -> None:
    """The sweep finds a granted ARN whose model is gone and revokes it."""
    world.role("alice")
    world.model("m1", "alice")
    world.model("m2", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("m1"), world.create_event("m2")])
    world.delete_model("m1")  # the DeleteModel event is lost
    result = Backfill(rt).run().as_dict()
    assert result["revoked"] == 1
    assert world.granted(rt, "alice") == {world.arns["m2"]}


def test_sweep_repairs_hand_edited_and_detached_policies(world: World) -> None:
    """A tool policy edited by hand is rewritten; one detached by hand is re-attached."""
    world.role("alice")
    world.role("bob")
    world.model("a1", "alice")
    world.model("b1", "bob")
    rt = world.runtime()
    world.send(rt, [world.create_event("a1"), world.create_event("b1")])
    alice_policy = rt.iam.policy_arn("model-access-alice-01")
    world.clients.iam.create_policy_version(PolicyArn=alice_policy, SetAsDefault=True,
                                            PolicyDocument=json.dumps({
                                                "Version": "2012-10-17", "Statement": [
                                                    {"Effect": "Allow", "Action": "*",
                                                     "Resource": "*"},
                                                    {"Effect": "Allow",
                                                     "Action": "sagemaker:DescribeModel",
                                                     "Resource": world.arns["a1"]}]}))
    bob_policy = rt.iam.policy_arn("model-access-bob-01")
    world.clients.iam.detach_role_policy(RoleName="bob", PolicyArn=bob_policy)
    result = Backfill(rt).run().as_dict()
    assert result["repaired"] >= 2
    alice = world.state(rt, "alice").tool_policies[1]
    assert alice.document == rt.reconciler.shape.render({world.arns["a1"]})
    assert world.granted(rt, "bob") == {world.arns["b1"]}


def test_sweep_deletes_policies_of_deleted_roles(world: World) -> None:
    """A tool policy whose role was deleted (IAM detached it) is deleted by the sweep."""
    world.role("alice")
    world.model("a1", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("a1")])
    arn = rt.iam.policy_arn("model-access-alice-01")
    world.clients.iam.detach_role_policy(RoleName="alice", PolicyArn=arn)
    world.clients.iam.delete_role(RoleName="alice")
    Backfill(rt).run()
    assert list(rt.iam.list_tool_policies()) == []


def test_backfill_continues_itself_when_time_runs_low(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Near its deadline the function saves its cursor, invokes itself with the run id, and
    the continuation resumes after the last finished role (no role is written twice)."""
    world.role("alice")
    world.role("bob")
    for name, owner in (("a1", "alice"), ("a2", "alice"), ("b1", "bob"), ("b2", "bob")):
        world.model(name, owner)
    rt = world.runtime()
    monkeypatch.setattr(backfill, "FIRST_CHUNK", 1)  # the first chunk: alice's models only
    calls = []

    def remaining_ms() -> float:  # 200 s for the first chunk, then below the 90 s reserve
        calls.append(1)
        return 200_000.0 if len(calls) == 1 else 10_000.0

    context = lambda_context("model-access-backfill")
    monkeypatch.setattr(context, "get_remaining_time_in_millis", remaining_ms)
    with Stubber(world.clients.lambda_) as lambda_:
        lambda_.add_response("invoke", {"StatusCode": 202}, {
            "FunctionName": "model-access-backfill", "InvocationType": "Event",
            "Payload": ANY})
        result = backfill_handler(rt)({}, context)
        lambda_.assert_no_pending_responses()
    assert result["continuedAsync"] is True and result["seen"] == 2
    assert len(world.granted(rt, "alice")) == 2 and world.granted(rt, "bob") == set()
    writes = world.iam_writes()
    resumed = backfill_handler(rt)({"continuation": result["continuation"]},
                                   lambda_context("model-access-backfill"))
    assert resumed["continuation"] is None and resumed["seen"] == 2
    assert resumed["runTotals"]["Granted"] == 4
    assert len(world.granted(rt, "bob")) == 2
    assert world.iam_writes() - writes == 2, "bob: one create, one attach; alice untouched"


def test_backfill_duplicate_slice_does_nothing(world: World) -> None:
    """A retried or duplicated slice of a run another invocation holds (or finished) exits
    without work: the chain never forks."""
    world.role("alice")
    world.model("a1", "alice")
    rt = world.runtime()
    first = backfill_handler(rt)({"continuation": {"runId": "r1"}},
                                 lambda_context("model-access-backfill"))
    assert first["granted"] == 1
    again = backfill_handler(rt)({"continuation": {"runId": "r1"}},
                                 lambda_context("model-access-backfill"))
    assert again["skipped"] is True and again["seen"] == 0


def test_deleted_between_describe_and_list_tags_counts_as_gone(world: World) -> None:
    """A model deleted between DescribeModel and ListTags is treated as gone, not as an error."""
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    reader = ModelReader(sagemaker, world.clients.tagging)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model/racer"
    with Stubber(sagemaker) as stub:
        stub.add_response("describe_model", {
            "ModelName": "racer", "ModelArn": arn, "CreationTime": datetime(2026, 1, 1),
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/sm-exec"},
            {"ModelName": "racer"})
        stub.add_client_error("list_tags", "ValidationException",
                              f"Could not find model \"{arn}\".", 400)
        truth = reader.describe(ResourceKey.of("us-east-1", "racer"), "racer")
    assert truth.exists is False


def test_batch_larger_than_tag_index_page_is_read_in_full(world: World) -> None:
    """120 models in one batch: the tag index is asked 100 ARNs at a time, each list
    answered whole as AWS answers it (open mode: protected mode reads each model from
    SageMaker for its creation time)."""
    world.role("alice")
    for i in range(120):
        world.model(f"m{i:03d}", "alice")
    rt = world.runtime(MODEL_ACCESS_OWNER_CHANGE_MODE="open")
    assert handle(world.batch([world.create_event(f"m{i:03d}") for i in range(120)]), rt) == {
        "batchItemFailures": []}
    assert len(world.granted(rt, "alice")) == 120
    assert world.clients.counter.calls[("resourcegroupstaggingapi", "GetResources")] == 2


def test_tag_index_answer_cut_short_is_completed_without_a_token(world: World) -> None:
    """Should an ARN-list answer come back cut short with a pagination token (as moto used
    to answer), the ARNs left out are asked again on their own: AWS refuses a token with an
    ARN list, so none is ever sent (the moto extension refuses it too)."""
    world.role("alice")
    for i in range(30):
        world.model(f"m{i:03d}", "alice")
    rt = world.runtime(MODEL_ACCESS_OWNER_CHANGE_MODE="open")
    sent: list[dict[str, Any]] = []

    def cut_short(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    def truncate(parsed: dict[str, Any], **_: Any) -> None:
        rows = parsed.get("ResourceTagMappingList", [])
        if len(rows) > 10:
            parsed["ResourceTagMappingList"] = rows[:10]
            parsed["PaginationToken"] = "more"

    events = world.clients.tagging.meta.events
    events.register("before-parameter-build.resource-groups-tagging-api.GetResources", cut_short)
    events.register("after-call.resource-groups-tagging-api.GetResources", truncate)
    try:
        assert handle(world.batch([world.create_event(f"m{i:03d}") for i in range(30)]),
                      rt) == {"batchItemFailures": []}
    finally:
        events.unregister("before-parameter-build.resource-groups-tagging-api.GetResources",
                          cut_short)
        events.unregister("after-call.resource-groups-tagging-api.GetResources", truncate)
    assert len(world.granted(rt, "alice")) == 30
    assert [len(p["ResourceARNList"]) for p in sent] == [30, 20, 10]
    assert not any("PaginationToken" in p for p in sent)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        world.clients.tagging.get_resources(ResourceARNList=[world.arns["m000"]],
                                            PaginationToken="x")
