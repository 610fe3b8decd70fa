"""`model-access local serve` as a user runs it: a subprocess, plain boto3 clients, no help."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from model_access_cli.local.serve import ServeOptions, serve
from tests.conftest import EVENTS

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
WAIT_SECONDS = 30.0
ELIGIBLE = [{"Key": "model-access:eligible", "Value": "true"}]


@dataclass
class Served:
    """The running command: its URL and every line it printed so far."""

    url: str
    lines: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",  # type: ignore[call-overload]
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def client_as(self, service: str, role: str) -> Any:
        """A client with `role`'s AssumeRole credentials: the trail names it as the caller."""
        credentials = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="e2e")["Credentials"]
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",  # type: ignore[call-overload]
                            aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])

    def records(self) -> list[str]:
        """The per-record lines (not the banner, not the bus lines)."""
        return [line for line in list(self.lines)
                if line[:2].isdigit() and "  bus  " not in line]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(check: Callable[[], bool], what: str, lines: list[str]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT_SECONDS:g} s: {what}\n" + "\n".join(lines))


@pytest.fixture
def served() -> Iterator[Served]:
    """`model-access local serve` on a free port; stopped with Ctrl-C (SIGINT), always."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update(PYTHONUNBUFFERED="1", POWERTOOLS_LOG_LEVEL="INFO")
    process = subprocess.Popen(
        [sys.executable, "-m", "model_access_cli.main", "local", "serve", "--port", str(port),
         "--trail-delay", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    running = Served(f"http://127.0.0.1:{port}")
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in iter(stdout.readline, ""):
            running.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _until(lambda: any(line.startswith("Ctrl-C stops it") for line in running.lines),
               "the server is ready", running.lines)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        reader.join(timeout=5)
    assert code == 0, "\n".join(running.lines)


def granted(iam: Any, role: str) -> set[str]:
    """Model ARNs in the default versions of the tool policies attached to `role`."""
    arns: set[str] = set()
    attached = iam.list_attached_role_policies(RoleName=role, PathPrefix="/model-access/")
    for policy in attached["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)
        for statement in document["PolicyVersion"]["Document"]["Statement"]:
            resources = statement["Resource"]
            arns |= {r for r in ([resources] if isinstance(resources, str) else resources)
                     if ":model/" in r}
    return arns


def test_local_serve_provisions_any_clients_calls(served: Served) -> None:
    """Grant, move, revoke from plain boto3 calls; a failed call and a re-drive as on AWS.
    The move is owner-a's own AddTags (protected owner-change mode, the default)."""
    iam, sagemaker = served.client("iam"), served.client("sagemaker")
    for role in ("owner-a", "owner-b"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}", Tags=ELIGIBLE)
    container = {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1"}
    execution = f"arn:aws:iam::{ACCOUNT}:role/sm-exec"
    arn = sagemaker.create_model(ModelName="e2e-model", PrimaryContainer=container,
                                 ExecutionRoleArn=execution,
                                 Tags=[{"Key": "owner-role", "Value": "owner-a"}])["ModelArn"]
    _until(lambda: granted(iam, "owner-a") == {arn}, "granted to owner-a", served.lines)

    served.client_as("sagemaker", "owner-a").add_tags(
        ResourceArn=arn, Tags=[{"Key": "owner-role", "Value": "owner-b"}])
    _until(lambda: granted(iam, "owner-b") == {arn} and not granted(iam, "owner-a"),
           "moved to owner-b", served.lines)

    sagemaker.delete_model(ModelName="e2e-model")
    _until(lambda: not granted(iam, "owner-b"), "revoked from owner-b", served.lines)

    with pytest.raises(ClientError, match="ValidationException"):
        sagemaker.create_model(ModelName="failed model", PrimaryContainer=container,
                               ExecutionRoleArn=execution,
                               Tags=[{"Key": "owner-role", "Value": "owner-a"}])
    # Recorded after the failed call and delivered in order: once it is granted, the failed
    # call's event has been on the bus too.
    sentinel = sagemaker.create_model(ModelName="sentinel", PrimaryContainer=container,
                                      ExecutionRoleArn=execution,
                                      Tags=[{"Key": "owner-role", "Value": "owner-a"}])
    _until(lambda: granted(iam, "owner-a") == {sentinel["ModelArn"]}, "sentinel granted",
           served.lines)
    assert any("CreateModel (ValidationException): failed model" in line
               for line in served.lines)
    assert not [line for line in served.records() if "failed model" in line]

    entries = json.loads((EVENTS / "stack" / "reconcile-model.put-events.json").read_text())
    assert served.client("events").put_events(Entries=entries)["FailedEntryCount"] == 0
    _until(lambda: any("churn-predictor-v3" in line and "Reconcile" in line
                       for line in served.records()), "the re-drive entry processed",
           served.lines)

    decided = [(line.split()[1], line.split()[5 if line.split()[1] == "Moved" else 4])
               for line in served.records() if " e2e-model " in line]
    assert [o for o, trigger in decided if trigger != "ModelStateChange"] == [
        "Granted", "Moved", "Revoked"], "\n".join(served.lines)
    # SageMaker's own events (create, delete) came too; each found the work already done.
    assert len([o for o, trigger in decided if trigger == "ModelStateChange"]) == 2


def test_local_serve_switches_leave_the_bare_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-trail makes no events of any kind from calls; --no-consumer leaves events queued."""
    for key in ("AWS_ENDPOINT_URL", "POWERTOOLS_LOG_LEVEL"):  # serve sets them; put them back
        monkeypatch.setenv(key, os.environ.get(key, ""))
    stop, out, port = threading.Event(), io.StringIO(), _free_port()
    options = ServeOptions(port=port, trail=False, consumer=False, trail_delay=0.1)
    runner = threading.Thread(target=serve, args=(options, out, stop), daemon=True)
    runner.start()
    try:
        served = Served(f"http://127.0.0.1:{port}")
        _until(lambda: "Ctrl-C stops it" in out.getvalue(), "the server is ready", [])
        sqs = served.client("sqs")
        queue = sqs.get_queue_url(QueueName="model-access-events")["QueueUrl"]

        def queued() -> int:
            attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[
                "ApproximateNumberOfMessages"])["Attributes"]
            return int(attributes["ApproximateNumberOfMessages"])

        served.client("sagemaker").create_model(
            ModelName="m1", PrimaryContainer={"Image": "img"},
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec")
        entries = json.loads((EVENTS / "stack" / "reconcile-model.put-events.json").read_text())
        served.client("events").put_events(Entries=entries)
        time.sleep(1.5)  # well past what the trail's delay and the consumer's window would take
        assert queued() == 1
        assert "no trail, no SageMaker events (--no-trail); no consumer (--no-consumer)" \
            in out.getvalue()
    finally:
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()
