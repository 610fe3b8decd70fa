"""The provisioner and backfill functions, their shared role, layer, logs and SQS mapping.

Both functions run as one role (`MODEL_ACCESS_PROVISIONER_ROLE` names it, so the runtime
refuses to grant to itself) whose only policy is `model_access.deploy.function_policy`, rendered
here with the stack's ARNs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from model_access.core.settings import Env
from model_access.deploy.function_policy import FunctionResources, function_policy
from model_access_infra.artifacts import (
    DIST_DIR,
    HANDLER,
    LAYER_ARCHIVE,
    archive,
    function_archive_name,
)
from model_access_infra.stack_config import (
    BACKFILL_TIMEOUT_SECONDS,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    StackConfig,
)

PROVISIONER = "provisioner"
BACKFILL = "backfill"
LAMBDA_TRUST_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
})


@dataclass(frozen=True)
class FunctionsArgs:
    """The stack config plus what the functions work on: the table, the queue, the account."""

    config: StackConfig
    table: aws.dynamodb.Table
    queue: aws.sqs.Queue
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]
    artifacts_dir: Path = DIST_DIR


def function_name(config: StackConfig, function: str) -> str:
    return f"{config.name_prefix}-{function}"


class Functions(pulumi.ComponentResource):
    """Role + policy, layer, two log groups, two functions, the SQS mapping."""

    def __init__(self, name: str, args: FunctionsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:Functions", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=config.provisioner_role_name,
            description="model-access provisioner and backfill functions",
            assume_role_policy=LAMBDA_TRUST_POLICY,
            opts=child,
        )
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=f"{config.name_prefix}-shared",
            description="model_access package and its runtime dependencies",
            code=archive(LAYER_ARCHIVE, args.artifacts_dir),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            opts=child,
        )
        environment = {
            **config.static_environment(),
            Env.TABLE_NAME: args.table.name,
            Env.QUEUE_NAME: args.queue.name,
            Env.ACCOUNT_ID: args.account_id,
            Env.PARTITION: args.partition,
        }
        self.log_groups = {
            function: aws.cloudwatch.LogGroup(
                f"{name}-{function}-logs",
                name=f"/aws/lambda/{function_name(config, function)}",
                retention_in_days=config.log_retention_days,
                opts=child,
            )
            for function in (PROVISIONER, BACKFILL)
        }
        self.provisioner = self._function(name, args, PROVISIONER, environment)
        self.backfill = self._function(name, args, BACKFILL, environment)
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name="model-access-functions",
            role=self.role.id,
            policy=self._policy_document(args),
            opts=child,
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-backfill-async",
            function_name=self.backfill.name,
            # A failed slice (scheduled or a continuation) is retried by Lambda: the retry
            # claims the same run in the store and resumes from its saved cursor, or finds
            # it held or finished and stops, so a retry never forks a second chain.
            maximum_retry_attempts=2,
            opts=child,
        )
        self.mapping = aws.lambda_.EventSourceMapping(
            f"{name}-queue-mapping",
            event_source_arn=args.queue.arn,
            function_name=self.provisioner.arn,
            batch_size=config.batch_size,
            maximum_batching_window_in_seconds=config.batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            # Per-role leases serialise reconciles, so several batches may run at once.
            scaling_config={"maximum_concurrency": config.max_concurrency},
            # Lambda checks the role can read the queue when the mapping is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        self.register_outputs({
            "provisioner_name": self.provisioner.name,
            "backfill_name": self.backfill.name,
            "role_name": self.role.name,
        })

    def _function(self, name: str, args: FunctionsArgs, function: str,
                  environment: dict[str, Any]) -> aws.lambda_.Function:
        config = args.config
        if function == PROVISIONER:
            timeout, memory = config.provisioner_timeout_seconds, config.provisioner_memory_mb
        else:
            timeout, memory = BACKFILL_TIMEOUT_SECONDS, config.backfill_memory_mb
        return aws.lambda_.Function(
            f"{name}-{function}",
            name=function_name(config, function),
            description=f"model-access {function}",
            runtime=LAMBDA_RUNTIME,
            architectures=[LAMBDA_ARCHITECTURE],
            handler=HANDLER,
            code=archive(function_archive_name(function), args.artifacts_dir),
            layers=[self.layer.arn],
            role=self.role.arn,
            timeout=timeout,
            memory_size=memory,
            environment={"variables": environment},
            tracing_config={"mode": "Active" if config.tracing else "PassThrough"},
            # Naming the log group (created first, with retention) makes Lambda log there.
            logging_config={"log_format": "Text", "log_group": self.log_groups[function].name},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _policy_document(self, args: FunctionsArgs) -> pulumi.Output[str]:
        config = args.config

        def render(values: list[Any]) -> str:
            account, partition, region, table_arn, queue_arn, backfill_arn, *log_arns = values
            settings = config.runtime_settings(account, partition, region)
            resources = FunctionResources(
                table_arn=table_arn,
                queue_arn=queue_arn,
                log_group_arns=tuple(log_arns),
                backfill_function_arn=backfill_arn,
                organization_id=config.organization_id or None,
            )
            return json.dumps(function_policy(settings, resources))

        return pulumi.Output.all(
            args.account_id, args.partition, args.region, args.table.arn, args.queue.arn,
            self.backfill.arn, *(group.arn for group in self.log_groups.values()),
        ).apply(render)

