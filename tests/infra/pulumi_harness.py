"""Run the Pulumi program under `pulumi.runtime.set_mocks` and keep what it declared.

Each run happens in a fresh `contextvars.Context`, so the runtime's root stack and config
(both context variables) start empty and several stacks can be run in one test session.
"""

from __future__ import annotations

import contextvars
import importlib
import json
import logging
import runpy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAM_DIR = REPO_ROOT / "template-infra"
PROJECT = "model-access"
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"

_ARN_FORMATS = {
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:dynamodb/table:Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "aws:lambda/layerVersion:LayerVersion": "arn:aws:lambda:{region}:{account}:layer:{name}:1",
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:aws:events:{region}:{account}:rule/{name}",
    "aws:cloudwatch/eventBus:EventBus": "arn:aws:events:{region}:{account}:event-bus/{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:s3/bucket:Bucket": "arn:aws:s3:::{name}",
    "aws:cloudtrail/trail:Trail": "arn:aws:cloudtrail:{region}:{account}:trail/{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
}
_NAME_INPUTS = ("name", "layerName", "dashboardName", "bucket")


@dataclass(frozen=True)
class Declared:
    """One resource the program declared: its type token, logical name and inputs."""

    type: str
    name: str
    inputs: dict[str, Any]
    parent_urn: str = ""
    custom: bool = True
    aliases: tuple[dict[str, Any], ...] = ()
    """Alias specs as sent to the engine (`parentUrn`, `noParent`, `name`, ...)."""

    @property
    def parent_name(self) -> str:
        return self.parent_urn.rsplit("::", 1)[-1] if self.parent_urn else ""

    @property
    def parent_type(self) -> str:
        return self.parent_urn.split("::")[-2].rsplit("$", 1)[-1] if self.parent_urn else ""

    def json(self, key: str) -> Any:
        """An input that holds a JSON document, parsed."""
        return json.loads(self.inputs[key])


@dataclass
class StackRun:
    """Everything one run of the program declared and exported."""

    resources: list[Declared] = field(default_factory=list)
    """Every registration in order: components and AWS resources."""
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the program logged with `pulumi.log.warn` (the CLI would print these)."""

    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name_suffix: str = "") -> Declared:
        """The single resource of this type whose logical name ends with `name_suffix`."""
        found = [r for r in self.of_type(type_token) if r.name.endswith(name_suffix)]
        assert len(found) == 1, f"{type_token} *{name_suffix}: {[r.name for r in found]}"
        return found[0]


class RecordingMonitor(MockMonitor):
    """The mock engine, also noting every registration (components included) with its inputs
    and parent; resources the mocks create are answered by `AwsLikeMocks`."""

    def __init__(self, mocks: pulumi.runtime.Mocks, run: StackRun) -> None:
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = dict(rpc.deserialize_properties(request.object))
            aliases = tuple(MessageToDict(alias.spec) for alias in request.aliases)
            self.run.resources.append(Declared(request.type, request.name, inputs,
                                               request.parent, request.custom, aliases))
        return response


class AwsLikeMocks(pulumi.runtime.Mocks):
    """Answer like AWS would: physical names, ARNs, queue URLs, account and region."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        physical = str(next((args.inputs[k] for k in _NAME_INPUTS if args.inputs.get(k)),
                            args.name))
        state = dict(args.inputs)
        state.setdefault("name", physical)
        if args.typ in _ARN_FORMATS:
            state["arn"] = _ARN_FORMATS[args.typ].format(region=REGION, account=ACCOUNT,
                                                         name=physical)
        resource_id = physical
        bus = args.inputs.get("eventBusName")
        if args.typ == "aws:cloudwatch/eventRule:EventRule" and bus and bus != "default":
            state["arn"] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{physical}"
        if args.typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}"
            resource_id = state["url"]
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDTEST", "id": ACCOUNT,
            },
            "aws:index/getPartition:getPartition": {
                "partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION,
                "reverseDnsPrefix": "com.amazonaws",
            },
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION, "id": REGION,
                                              "endpoint": f"ec2.{REGION}.amazonaws.com",
                                              "description": "US East (N. Virginia)"},
        }
        return answers.get(args.token, {}), []


def _make_program_importable() -> None:
    """Pulumi runs __main__.py with its own folder on sys.path; do the same."""
    if str(PROGRAM_DIR) not in sys.path:
        sys.path.insert(0, str(PROGRAM_DIR))


def program_module(name: str) -> ModuleType:
    """Import a module of the Pulumi program (`__main__`'s imports resolve the same way)."""
    _make_program_importable()
    return importlib.import_module(name)


def _resolve(value: Any) -> Any:
    if isinstance(value, pulumi.Output):
        return _sync_await(value.future())
    return value


class _KeepWarnings(logging.Handler):
    def __init__(self, run: StackRun) -> None:
        super().__init__(logging.WARNING)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.warnings.append(record.getMessage())


def _run(config: Mapping[str, Any], program: Callable[[], Any] | None = None,
         project: str = PROJECT) -> StackRun:
    run = StackRun()
    mocks = AwsLikeMocks()
    engine_log = logging.getLogger(f"{__name__}.engine.{id(run)}")
    engine_log.propagate = False
    engine_log.addHandler(_KeepWarnings(run))
    pulumi.runtime.set_mocks(mocks, project=project, stack="test", preview=False,
                             logger=engine_log, monitor=RecordingMonitor(mocks, run))
    pulumi.runtime.set_all_config({
        f"{project}:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    })
    _make_program_importable()
    _sync_await(run_pulumi_func(program or (
        lambda: runpy.run_path(str(PROGRAM_DIR / "__main__.py"), run_name="__main__")
    )))
    stack = get_root_resource()
    run.outputs = {k: _resolve(v) for k, v in getattr(stack, "outputs", {}).items()}
    return run


def run_program(config: Mapping[str, Any] | None = None) -> StackRun:
    """Run template-infra/__main__.py with this stack config (keys without the project prefix)."""
    return contextvars.Context().run(_run, dict(config or {}))


def run_other_program(program: Callable[[], Any], project: str) -> StackRun:
    """Run someone else's Pulumi program (a function) as project `project`, no config set."""
    return contextvars.Context().run(_run, {}, program, project)
