"""The local CloudTrail stand-in and SageMaker guards, over HTTP with plain boto3 clients."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from model_access.aws.clients import Clients
from model_access.core.settings import Settings
from model_access.deploy.patterns import TriggerMode
from model_access.runtime import build_runtime
from model_access_cli.local.api_tap import SageMakerTap
from model_access_cli.local.lambdas import LocalInvoker, load_function
from model_access_cli.local.poller import LocalPoller
from model_access_cli.local.sagemaker_guards import SAGEMAKER_GUARDS
from model_access_cli.local.server import moto_server
from model_access_cli.local.stack import LocalStack, local_up
from model_access_cli.local.trail import TrailStandIn
from tests.conftest import load_event

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
VOLATILE = frozenset({"id", "time", "eventTime", "eventID", "requestID", "principalId",
                      "accessKeyId", "creationDate", "sourceIPAddress", "userAgent",
                      "CreationTime"})
"""Fields that differ per call (ids, clocks, the client): compared by presence only."""


class Bench:
    """A server with the tap, `local up`, the trail, and a catch-all queue on the bus."""

    def __init__(self, url: str, tap: SageMakerTap, *, native: bool = False) -> None:
        self.url = url
        self.clients = Clients(region="us-east-1", endpoint_url=url)
        self.stack: LocalStack = local_up(self.clients, Settings.from_mapping(dict(os.environ)))
        self.trail = TrailStandIn(url, delay=0.0, native_delay=0.0, native=native).start()
        tap.listeners[:] = [self.trail]
        sqs, events = self.clients.sqs, self.clients.events
        self.seen_url = sqs.create_queue(QueueName="everything-sagemaker")["QueueUrl"]
        seen_arn = sqs.get_queue_attributes(QueueUrl=self.seen_url, AttributeNames=[
            "QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="everything-sagemaker",
                        EventPattern=json.dumps({"source": ["aws.sagemaker"]}))
        events.put_targets(Rule="everything-sagemaker", Targets=[{"Id": "q", "Arn": seen_arn}])

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        keys = credentials or {"AccessKeyId": "testing", "SecretAccessKey": "testing",
                               "SessionToken": "testing"}
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",  # type: ignore[call-overload]
                            aws_access_key_id=keys["AccessKeyId"],
                            aws_secret_access_key=keys["SecretAccessKey"],
                            aws_session_token=keys["SessionToken"])

    def assumed(self, role_arn: str, session: str) -> dict[str, str]:
        answer = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)
        return dict(answer["Credentials"])

    def bus_events(self) -> list[dict[str, Any]]:
        """Every aws.sagemaker event the bus received (after the trail has delivered)."""
        assert self.trail.wait_idle(10)
        found = []
        while True:
            answer = self.clients.sqs.receive_message(QueueUrl=self.seen_url,
                                                      MaxNumberOfMessages=10)
            if not answer.get("Messages"):
                return found
            for message in answer["Messages"]:
                found.append(json.loads(message["Body"]))
                self.clients.sqs.delete_message(QueueUrl=self.seen_url,
                                                ReceiptHandle=message["ReceiptHandle"])

    def queued(self) -> int:
        attributes = self.clients.sqs.get_queue_attributes(
            QueueUrl=self.stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture(scope="module")
def tapped_server() -> Iterator[tuple[str, SageMakerTap]]:
    tap = SageMakerTap(SAGEMAKER_GUARDS)
    with moto_server(wrap=tap.around) as url:
        yield url, tap


@pytest.fixture
def bench(tapped_server: tuple[str, SageMakerTap]) -> Iterator[Bench]:
    url, tap = tapped_server
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - local moto server
    made = Bench(url, tap)
    yield made
    made.trail.stop()
    tap.listeners.clear()


def _same_shape(generated: Any, documented: Any, where: str = "") -> list[str]:
    """Differences between two events, volatile fields compared by presence only."""
    if isinstance(documented, dict):
        if not isinstance(generated, dict):
            return [f"{where}: {type(generated).__name__} instead of an object"]
        problems = [f"{where}.{k}: missing" for k in documented.keys() - generated.keys()]
        problems += [f"{where}.{k}: not in the sample"
                     for k in generated.keys() - documented.keys()]
        for key in documented.keys() & generated.keys():
            if key not in VOLATILE:
                problems += _same_shape(generated[key], documented[key], f"{where}.{key}")
        return problems
    return [] if generated == documented else [f"{where}: {generated!r} != {documented!r}"]


def test_trail_create_model_event_matches_the_documented_sample(bench: Bench) -> None:
    """The stand-in's event for the sample's CreateModel equals events/lambda/create-model.json."""
    sample = load_event("lambda/create-model.json")
    request = sample["detail"]["requestParameters"]
    bench.client("iam").create_role(RoleName="ml-pipeline", AssumeRolePolicyDocument="{}")
    session = bench.assumed(f"arn:aws:iam::{ACCOUNT}:role/ml-pipeline", "ml-pipeline-session")
    bench.client("sagemaker", session).create_model(
        ModelName=request["modelName"], ExecutionRoleArn=request["executionRoleArn"],
        PrimaryContainer={"Image": request["primaryContainer"]["image"],
                          "ModelDataUrl": request["primaryContainer"]["modelDataUrl"]},
        Tags=[{"Key": t["key"], "Value": t["value"]} for t in request["tags"]])
    [event] = bench.bus_events()
    sample.pop("account")  # moto's EventBridge drops it from what it sends SQS (README)
    assert _same_shape(event, sample) == []
    assert event["detail"]["userIdentity"]["accessKeyId"] == session["AccessKeyId"]


def test_trail_identity_of_a_role_session_keeps_the_role_path(bench: Bench) -> None:
    """An assumed-role caller's sessionIssuer is the role's full ARN, path included."""
    arn = bench.client("iam").create_role(RoleName="trainer", Path="/teams/ml/",
                                          AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session = bench.assumed(arn, "run-7")
    sagemaker = bench.client("sagemaker", session)
    model = sagemaker.create_model(ModelName="m1", PrimaryContainer={"Image": "img"},
                                   ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec")
    sagemaker.add_tags(ResourceArn=model["ModelArn"], Tags=[{"Key": "owner-role", "Value": "x"}])
    bench.client("sagemaker").delete_model(ModelName="m1")
    create, add_tags, delete = bench.bus_events()
    for event in (create, add_tags):
        identity = event["detail"]["userIdentity"]
        assert identity["type"] == "AssumedRole"
        assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/trainer/run-7"
        assert identity["sessionContext"]["sessionIssuer"]["arn"] == arn
    assert add_tags["detail"]["requestParameters"] == {
        "resourceArn": model["ModelArn"], "tags": [{"key": "owner-role", "value": "x"}]}
    assert delete["detail"]["userIdentity"]["type"] == "IAMUser"
    assert delete["detail"]["requestParameters"] == {"modelName": "m1"}
    assert delete["detail"]["responseElements"] is None


def test_trail_failed_call_carries_its_error_and_the_rule_drops_it(bench: Bench) -> None:
    """A refused CreateModel reaches the bus with errorCode/errorMessage; the queue gets nothing."""
    with pytest.raises(ClientError) as refused:
        bench.client("sagemaker").create_model(ModelName="bad name",
                                               PrimaryContainer={"Image": "img"})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    [event] = bench.bus_events()
    assert event["detail"]["errorCode"] == "ValidationException"
    assert "modelName" in event["detail"]["errorMessage"]
    assert event["detail"]["responseElements"] is None
    assert bench.queued() == 0


def test_trail_records_only_the_calls_the_rules_watch(bench: Bench) -> None:
    """Read calls and unwatched writes make no event; stop_logging silences the trail."""
    sagemaker = bench.client("sagemaker")
    sagemaker.create_model(ModelName="m1", PrimaryContainer={"Image": "img"},
                           ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec")
    sagemaker.describe_model(ModelName="m1")
    sagemaker.list_models()
    bench.trail.stop_logging()
    sagemaker.delete_model(ModelName="m1")
    assert [e["detail"]["eventName"] for e in bench.bus_events()] == ["CreateModel"]
    assert bench.queued() == 1


def test_guards_answer_like_sagemaker_where_moto_is_lenient(bench: Bench) -> None:
    """AddTags overwrites a key, CreateModel on a taken name fails, bad input is refused."""
    sagemaker = bench.client("sagemaker")
    arn = sagemaker.create_model(ModelName="m1", PrimaryContainer={"Image": "img"},
                                 ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec",
                                 Tags=[{"Key": "owner-role", "Value": "alice"}])["ModelArn"]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "owner-role", "Value": "bob"}])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "owner-role", "Value": "bob"}]
    with pytest.raises(ClientError, match="already existing"):
        sagemaker.create_model(ModelName="m1", PrimaryContainer={"Image": "other"},
                               ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec")
    assert sagemaker.describe_model(ModelName="m1")["PrimaryContainer"]["Image"] == "img"
    with pytest.raises(ClientError, match=r"primaryContainer\.image"):
        sagemaker.create_model(ModelName="m2", PrimaryContainer={"Image": "has space"},
                               ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec")
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == ["m1"]


def test_native_events_for_create_and_delete_match_the_fixtures(bench: Bench) -> None:
    """SageMaker's own events: one per create and delete, none for tag edits, fixture-shaped."""
    bench.trail.native = True
    sample = load_event("lambda/native-create-model.json")
    detail = sample["detail"]
    sagemaker = bench.client("sagemaker")
    arn = sagemaker.create_model(
        ModelName=detail["ModelName"], ExecutionRoleArn=detail["ExecutionRoleArn"],
        PrimaryContainer={"Image": detail["PrimaryContainer"]["Image"],
                          "ModelDataUrl": detail["PrimaryContainer"]["ModelDataUrl"]},
        Tags=[{"Key": k, "Value": v} for k, v in detail["Tags"].items()])["ModelArn"]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "risk"}])
    sagemaker.delete_model(ModelName=detail["ModelName"])
    events = [e for e in bench.bus_events() if e["detail-type"] != "AWS API Call via CloudTrail"]
    assert len(events) == 2
    created, deleted = events
    sample.pop("account")  # moto's EventBridge drops it from what it sends SQS (README)
    assert _same_shape(created, sample) == []
    assert created["resources"] == deleted["resources"] == [arn]
    assert deleted["detail"]["Tags"] == {"owner-role": "data-scientist", "team": "risk"}
    assert "userIdentity" not in created["detail"]


def test_native_trigger_alone_grants_through_the_local_stack(bench: Bench) -> None:
    """`local up --trigger native` keeps only the state-change rule; SageMaker's event grants."""
    stack = local_up(bench.clients, Settings.from_mapping(dict(os.environ)), TriggerMode.NATIVE)
    assert stack.rules == ("model-access-sagemaker-model-state",)
    assert "model-access-sagemaker-model-calls" not in [
        r["Name"] for r in bench.clients.events.list_rules()["Rules"]]
    bench.trail.native, bench.trail.cloudtrail = True, False  # an account with no trail
    bench.client("iam").create_role(RoleName="alice", AssumeRolePolicyDocument="{}",
                                    Tags=[{"Key": "model-access:eligible", "Value": "true"}])
    arn = bench.client("sagemaker").create_model(
        ModelName="m1", PrimaryContainer={"Image": "img"},
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec",
        Tags=[{"Key": "owner-role", "Value": "alice"}])["ModelArn"]
    assert [e["detail-type"] for e in bench.bus_events()] == ["SageMaker Model State Change"]
    module = load_function("provisioner")
    module._runtime = build_runtime({"AWS_REGION": "us-east-1",
                                     "MODEL_ACCESS_ACCOUNT_ID": ACCOUNT}, clients=bench.clients)
    poller = LocalPoller(bench.clients.sqs, stack.queue_url, stack.queue_arn,
                         LocalInvoker(module))
    assert poller.drain(timeout=30).records == 1
    attached = bench.client("iam").list_attached_role_policies(RoleName="alice")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["model-access-alice-01"]
    assert module._runtime.records.by_role("alice")[0].model_arn == arn
