"""The stack the Pulumi program declares, read like a policy: what must always be true of it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from model_access.core.settings import Env, Settings
from model_access.deploy.patterns import (
    reconcile_requests_pattern,
    sagemaker_model_calls_pattern,
    sagemaker_model_state_pattern,
)
from model_access_cli.build import package
from tests.infra.conftest import ORG_CONFIG
from tests.infra.pulumi_harness import ACCOUNT, REGION, StackRun, program_module, run_program

FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "aws:cloudwatch/eventRule:EventRule"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
stack_config = program_module("model_access_infra.stack_config")


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def environment(run: StackRun, function: str) -> dict[str, str]:
    variables: dict[str, str] = run.one(FUNCTION, function).inputs["environment"]["variables"]
    return variables


def test_queue_redrives_to_dlq(stack: StackRun) -> None:
    """The event queue sends a message to the DLQ after maxReceiveCount receives."""
    queue = stack.one(QUEUE, "-queue")
    dlq = stack.one(QUEUE, "-dlq")
    assert json.loads(queue.inputs["redrivePolicy"]) == {
        "deadLetterTargetArn": queue_arn(dlq.inputs["name"]), "maxReceiveCount": 10,
    }
    assert dlq.inputs["messageRetentionSeconds"] > queue.inputs["messageRetentionSeconds"]


def test_dlq_has_depth_alarm(stack: StackRun) -> None:
    """A message in the DLQ raises an alarm."""
    dlq_name = stack.one(QUEUE, "-dlq").inputs["name"]
    alarms = [a.inputs for a in stack.of_type(ALARM)
              if a.inputs.get("dimensions") == {"QueueName": dlq_name}]
    assert [(a["metricName"], a["comparisonOperator"], a["threshold"]) for a in alarms] == [
        ("ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)
    ]


def test_each_function_has_error_alarm(stack: StackRun) -> None:
    """Errors of either function raise an alarm."""
    names = {f.inputs["name"] for f in stack.of_type(FUNCTION)}
    alarmed = {a.inputs["dimensions"]["FunctionName"] for a in stack.of_type(ALARM)
               if a.inputs["metricName"] == "Errors"}
    assert alarmed == names


def test_account_policy_quota_has_an_alarm(stack: StackRun) -> None:
    """AccountPolicyQuota (CreatePolicy refused by the account's quota) raises an alarm."""
    alarms = [a.inputs for a in stack.of_type(ALARM)
              if a.inputs["metricName"] == "AccountPolicyQuota"]
    assert len(alarms) == 1 and alarms[0]["namespace"] == "ModelAccess"
    assert alarms[0]["dimensions"] == {"service": "model-access"}


def test_event_source_mapping_reports_batch_item_failures(stack: StackRun) -> None:
    """The mapping asks for partial batch responses and takes batching from config."""
    mapping = stack.one(MAPPING).inputs
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["eventSourceArn"] == queue_arn("model-access-events")
    assert (mapping["batchSize"], mapping["maximumBatchingWindowInSeconds"]) == (500, 5)
    assert mapping["scalingConfig"]["maximumConcurrency"] >= 2


def test_event_source_mapping_follows_config() -> None:
    """Batch size, window and maximum concurrency come from stack config."""
    run = run_program({"batchSize": 50, "batchingWindowSeconds": 20, "maxConcurrency": 2})
    mapping = run.one(MAPPING).inputs
    assert (mapping["batchSize"], mapping["maximumBatchingWindowInSeconds"]) == (50, 20)
    assert mapping["scalingConfig"] == {"maximumConcurrency": 2}


@pytest.mark.parametrize("config", [{}, {"provisionerTimeoutSeconds": 300, "leaseSeconds": 600,
                                         "batchingWindowSeconds": 30}])
def test_visibility_timeout_covers_six_function_timeouts(config: dict[str, int]) -> None:
    """SQS hides a received batch for at least 6x the provisioner timeout."""
    run = run_program(config)
    timeout = run.one(FUNCTION, "provisioner").inputs["timeout"]
    assert run.one(QUEUE, "-queue").inputs["visibilityTimeoutSeconds"] >= 6 * timeout


def test_lease_outlives_provisioner_timeout(stack: StackRun) -> None:
    """A role lease lasts longer than the invocation that holds it."""
    lease = float(environment(stack, "provisioner")[Env.LEASE_SECONDS])
    assert lease > stack.one(FUNCTION, "provisioner").inputs["timeout"]


def test_program_refuses_lease_not_above_timeout() -> None:
    """A stack whose lease would expire under a running reconcile fails before declaring."""
    with pytest.raises(Exception, match="leaseSeconds"):
        run_program({"provisionerTimeoutSeconds": 120, "leaseSeconds": 120})


def _defines_handler(source: Path) -> bool:
    tree = ast.parse(source.read_text())
    return any(isinstance(node, ast.FunctionDef) and node.name == "handler" for node in tree.body)


def test_function_code_paths_exist_and_define_handler(stack: StackRun) -> None:
    """Each function's archive is one `make package` builds, from a folder defining the handler."""
    functions = stack.of_type(FUNCTION)
    assert len(functions) == len(package.FUNCTIONS)
    for function in functions:
        archive = Path(function.inputs["code"].path)
        assert archive.parent == package.DIST_DIR
        assert archive.stem in package.FUNCTIONS
        module, _, attribute = function.inputs["handler"].partition(".")
        assert (module, attribute) == (package.HANDLER_MODULE, "handler")
        source = package.function_source(archive.stem) / f"{module}.py"
        assert source.is_file(), f"{source} is missing"
        assert _defines_handler(source), f"{source} defines no top-level handler()"
    layer = stack.one("aws:lambda/layerVersion:LayerVersion").inputs
    assert Path(layer["code"].path) == package.DIST_DIR / package.LAYER_ARCHIVE
    assert all(f.inputs["layers"] for f in functions)


def test_functions_run_current_python_on_graviton(stack: StackRun) -> None:
    """Both functions use python3.13 on arm64, matching the layer's compatible runtime."""
    layer = stack.one("aws:lambda/layerVersion:LayerVersion").inputs
    for function in stack.of_type(FUNCTION):
        assert function.inputs["runtime"] in layer["compatibleRuntimes"] == ["python3.13"]
        assert function.inputs["architectures"] == layer["compatibleArchitectures"] == ["arm64"]
        assert function.inputs["tracingConfig"] == {"mode": "PassThrough"}
        assert function.inputs["environment"]["variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_rule_pattern_is_runtime_pattern(stack: StackRun) -> None:
    """The rule on the default bus matches exactly what `sagemaker_model_calls_pattern()` says."""
    rule = stack.one(RULE, "routing-rule").inputs
    assert rule["eventBusName"] == "default"
    assert json.loads(rule["eventPattern"]) == sagemaker_model_calls_pattern()


def test_rule_target_retries_then_uses_dlq(stack: StackRun) -> None:
    """EventBridge retries delivery to the queue and parks undeliverable events in the DLQ."""
    target = stack.one("aws:cloudwatch/eventTarget:EventTarget", "routing-target").inputs
    assert target["arn"] == queue_arn("model-access-events")
    assert target["deadLetterConfig"] == {"arn": queue_arn("model-access-events-dlq")}
    assert target["retryPolicy"] == {"maximumRetryAttempts": 185,
                                     "maximumEventAgeInSeconds": 86400}


def test_redrive_rule_routes_operator_requests_to_the_queue(stack: StackRun) -> None:
    """A second rule takes operators' "Reconcile Model" events to the same queue."""
    rule = stack.one(RULE, "routing-redrive-rule").inputs
    assert json.loads(rule["eventPattern"]) == reconcile_requests_pattern()
    target = stack.one("aws:cloudwatch/eventTarget:EventTarget", "routing-redrive-target").inputs
    assert target["arn"] == queue_arn("model-access-events")


def test_queue_policies_admit_only_the_rules(stack: StackRun) -> None:
    """Only EventBridge acting for our three rules may send to the queue and its DLQ."""
    rule_arn = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/model-access-{name}"
                for name in ("sagemaker-model-calls", "sagemaker-model-state",
                             "reconcile-requests")]
    policies = stack.of_type("aws:sqs/queuePolicy:QueuePolicy")
    assert len(policies) == 2
    for policy in policies:
        allows = [s for s in policy.json("policy")["Statement"] if s["Effect"] == "Allow"]
        assert allows == [{
            "Sid": "OnlyTheModelCallsRule", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": allows[0]["Resource"],
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }]


def test_functions_environment_sets_every_runtime_setting(stack: StackRun) -> None:
    """Each function gets every variable in Env except those Lambda itself provides."""
    expected = set(Env.all_names()) - stack_config.LAMBDA_PROVIDED_ENV
    for function in ("provisioner", "backfill"):
        assert set(environment(stack, function)) == expected


def test_functions_environment_is_accepted_by_runtime(stack: StackRun) -> None:
    """The runtime's own settings parser accepts the environment and names its own role."""
    env = environment(stack, "provisioner")
    settings = Settings.from_mapping({**env, Env.REGION: REGION})
    assert settings.provisioner_role == stack.one("aws:iam/role:Role").inputs["name"]
    assert (settings.account_id, settings.table_name, settings.queue_name) == (
        ACCOUNT, "model-access-grants", "model-access-events")


def test_functions_environment_follows_config() -> None:
    """List, boolean and percentage config reach the functions in the runtime's formats."""
    run = run_program({"denyRoles": ["a", "b"], "allowTagEdits": True,
                       "rolePolicySharePercent": 50, "accessLevel": "deploy"})
    settings = Settings.from_mapping({**environment(run, "backfill"), Env.REGION: REGION})
    assert settings.deny_roles == ("a", "b")
    assert settings.allow_tag_edits is True
    assert settings.role_policy_share == 0.5
    assert settings.access_level == "deploy"


def test_grant_table_schema(stack: StackRun) -> None:
    """Hash key pk, GSI by-role (role, pk), TTL on expires_at, on-demand, PITR on."""
    table = stack.one("aws:dynamodb/table:Table").inputs
    assert table["hashKey"] == "pk"
    assert "rangeKey" not in table
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert table["pointInTimeRecovery"] == {"enabled": True}
    (index,) = table["globalSecondaryIndexes"]
    assert (index["name"], index["projectionType"]) == ("by-role", "ALL")
    assert index["keySchemas"] == [{"attributeName": "role", "keyType": "HASH"},
                                   {"attributeName": "pk", "keyType": "RANGE"}]


def test_log_groups_have_retention_and_receive_function_logs(stack: StackRun) -> None:
    """Each function logs to its own log group, created with a retention period."""
    groups = {g.inputs["name"]: g.inputs for g in stack.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for function in stack.of_type(FUNCTION):
        group = function.inputs["loggingConfig"]["logGroup"]
        assert group == f"/aws/lambda/{function.inputs['name']}"
        assert groups[group]["retentionInDays"] == 30


def test_backfill_runs_fifteen_minutes_on_schedule(stack: StackRun) -> None:
    """The backfill may run 900 s, a failed slice is retried (the run's claim in the store
    keeps a retry from forking a second chain), and a schedule invokes it."""
    backfill = stack.one(FUNCTION, "backfill").inputs
    assert backfill["timeout"] == 900
    invoke = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    assert invoke["maximumRetryAttempts"] == 2
    schedule = stack.one(RULE, "sweep-rule").inputs
    assert schedule["scheduleExpression"] == "rate(1 day)"
    permission = stack.one("aws:lambda/permission:Permission").inputs
    assert permission["sourceArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{schedule['name']}"


def test_tracing_switch_turns_on_xray_and_the_tracer() -> None:
    """`tracing: true` makes X-Ray Active and lets the functions build Powertools' Tracer."""
    run = run_program({"tracing": True})
    for function in run.of_type(FUNCTION):
        assert function.inputs["tracingConfig"] == {"mode": "Active"}
        assert function.inputs["environment"]["variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"


def test_schedule_off_and_trail_on() -> None:
    """`backfillSchedule: off` drops the sweep; `createTrail: true` adds a logging trail."""
    run = run_program({"backfillSchedule": "off", "createTrail": True})
    # Pulumi registers resources as their inputs resolve: compare names, not their order.
    assert sorted(r.name for r in run.of_type(RULE)) == ["model-access-routing-native-rule",
                                                         "model-access-routing-redrive-rule",
                                                         "model-access-routing-rule"]
    trail = run.one("aws:cloudtrail/trail:Trail").inputs
    assert trail["enableLogging"] is True
    assert trail["eventSelectors"] == [{"readWriteType": "WriteOnly",
                                        "includeManagementEvents": True}]


def test_trail_is_off_by_default(stack: StackRun) -> None:
    """No trail (nor its bucket) unless asked for: most accounts already have one."""
    assert not stack.of_type("aws:cloudtrail/trail:Trail")
    assert not stack.of_type("aws:s3/bucket:Bucket")


def test_stack_exports_names_and_dashboard_url(stack: StackRun) -> None:
    """Outputs name the queue, the DLQ, both functions and the dashboard."""
    assert stack.outputs["queueName"] == "model-access-events"
    assert stack.outputs["dlqName"] == "model-access-events-dlq"
    assert stack.outputs["provisionerFunctionName"] == "model-access-provisioner"
    assert stack.outputs["backfillFunctionName"] == "model-access-backfill"
    assert stack.outputs["dashboardUrl"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        "#dashboards/dashboard/model-access"
    )


@pytest.mark.parametrize("run", ["stack", "org_stack"])
def test_components_parent_and_name_their_children(run: str,
                                                   request: pytest.FixtureRequest) -> None:
    """Every AWS resource belongs to a component and is named after it."""
    stack = request.getfixturevalue(run)
    components = {r.name for r in stack.resources if not r.custom}
    assert len(components) >= 5
    for resource in stack.resources:
        if resource.custom:
            assert resource.parent_type.startswith("model-access:index:"), resource.name
            assert resource.parent_name in components, resource.name
            assert resource.name.startswith(f"{resource.parent_name}-"), resource.name


NATIVE_RULE = "routing-native-rule"
TRAIL = "aws:cloudtrail/trail:Trail"


@pytest.mark.parametrize(("trigger", "cloudtrail", "native"), [
    ("cloudtrail", True, False), ("native", False, True), ("both", True, True)])
def test_trigger_decides_the_rules(trigger: str, cloudtrail: bool, native: bool) -> None:
    """Each mode has the rules it needs, built by the runtime's pattern builder, all targeted."""
    run = run_program({"trigger": trigger})
    patterns = {r.name: json.loads(r.inputs["eventPattern"]) for r in run.of_type(RULE)
                if "eventPattern" in r.inputs}
    assert ("model-access-routing-rule" in patterns) is cloudtrail
    assert ("model-access-routing-native-rule" in patterns) is native
    if native:
        assert patterns["model-access-routing-native-rule"] == sagemaker_model_state_pattern()
        target = run.one("aws:cloudwatch/eventTarget:EventTarget", "routing-native-target")
        assert target.inputs["arn"] == queue_arn("model-access-events")
        assert target.inputs["deadLetterConfig"] == {"arn": queue_arn("model-access-events-dlq")}
    targets = [t for t in run.of_type("aws:cloudwatch/eventTarget:EventTarget")
               if t.inputs["arn"] == queue_arn("model-access-events")]
    assert len(targets) == len(patterns)  # one per rule, the re-drive rule's included
    for policy in run.of_type("aws:sqs/queuePolicy:QueuePolicy"):
        allowed = policy.json("policy")["Statement"][0]["Condition"]["ArnEquals"]
        assert len(allowed["aws:SourceArn"]) == len(patterns)


def test_native_trigger_has_no_trail_and_refuses_one() -> None:
    """`trigger: native` needs no trail: none is declared, and `createTrail: true` is refused."""
    run = run_program({"trigger": "native"})
    assert not run.of_type(TRAIL)
    assert not run.of_type("aws:s3/bucket:Bucket")
    with pytest.raises(Exception, match="createTrail: a stack with trigger 'native'"):
        run_program({"trigger": "native", "createTrail": True})
    with pytest.raises(Exception, match="trigger 'sometimes'"):
        run_program({"trigger": "sometimes"})


def _snake_keys(value: Any, where: str) -> list[str]:
    """Nested input keys still in snake case: names the provider SDK did not translate."""
    found = []
    if isinstance(value, str) and value[:1] in "[{" and where.startswith("pulumi:providers"):
        value = json.loads(value)  # a provider's nested config travels as JSON text
    if isinstance(value, dict):
        for key, inner in value.items():
            if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", str(key)):
                found.append(f"{where}.{key}")
            found += _snake_keys(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _snake_keys(inner, f"{where}[{index}]")
    return found


@pytest.mark.parametrize("config", [{}, {"createTrail": True, "tracing": True},
                                    {"trigger": "native"}, ORG_CONFIG,
                                    {"forwardRegions": ["eu-west-1"]}])
def test_every_nested_argument_is_known_to_the_installed_provider(config: dict[str, Any]) -> None:
    """pulumi-aws turns each argument name it knows into its camelCase wire name; a snake_case
    key left in any input (a dict argument the SDK does not check) is one this provider
    version does not have, and the real provider would reject it."""
    run = run_program(config)
    unknown = [key for r in run.resources if r.custom
               for key in _snake_keys(r.inputs, f"{r.type}:{r.name}")]
    assert unknown == []
