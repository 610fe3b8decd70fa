"""`model-access local up`: create the stateful resources the functions need on an endpoint.

Same names and shapes as the Pulumi stack: the grant table (with its `by-role` index and
TTL), the event queue with its DLQ, and the EventBridge rules with the production patterns
for the chosen trigger (`cloudtrail`, `native` or `both`, as the stack setting `trigger`)
plus operators' re-drive rule, and both queues' policies from the same builder the stack
uses (`event_queue_policies`; moto stores them but does not enforce them). Safe to run again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import boto3
from botocore.exceptions import ClientError

from model_access.aws.clients import Clients
from model_access.aws.records import ROLE_INDEX
from model_access.core.settings import Settings
from model_access.deploy.org_templates import Forwarding, forwarding_template
from model_access.deploy.patterns import (
    MODEL_CALLS_RULE,
    TriggerMode,
    event_queue_policies,
    pattern_json,
    reconcile_requests_pattern,
    trigger_patterns,
)

RULE_PREFIX: Final = "model-access-"
RULE_NAME: Final = RULE_PREFIX + MODEL_CALLS_RULE
REDRIVE_RULE_NAME: Final = "model-access-reconcile-requests"
DLQ_SUFFIX: Final = "-dlq"
HUB_BUS: Final = "model-access"
HUB_RULE_PREFIX: Final = "model-access-hub-"
SPOKE_STACK: Final = "model-access-forwarding"
MAX_RECEIVE_COUNT: Final = 5
VISIBILITY_TIMEOUT: Final = 30


@dataclass(frozen=True)
class LocalStack:
    """Names and addresses of what `local up` created."""

    table: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    rule: str
    """The first SageMaker rule (the CloudTrail one unless the trigger is `native`)."""
    rules: tuple[str, ...] = ()
    """Every SageMaker rule the trigger needs."""


def local_up(clients: Clients, settings: Settings,
             trigger: TriggerMode = TriggerMode.BOTH, *, hub_bus: bool = False) -> LocalStack:
    """Create (or find) the table, queues and rules; return where they are. `hub_bus`: also
    the organization's hub bus `model-access` with the same rules to the queue (spokes in
    other accounts and regions forward to it: `local_spoke`)."""
    _ensure_table(clients, settings.table_name)
    dlq_url = clients.sqs.create_queue(QueueName=settings.queue_name + DLQ_SUFFIX)["QueueUrl"]
    dlq_arn = _queue_arn(clients, dlq_url)
    queue_url = clients.sqs.create_queue(
        QueueName=settings.queue_name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    queue_arn = _queue_arn(clients, queue_url)
    rule_arns: dict[str, str] = {}
    for suffix, pattern in trigger_patterns(trigger).items():
        name = RULE_PREFIX + suffix
        rule_arns[name] = clients.events.put_rule(
            Name=name, EventPattern=pattern_json(pattern), State="ENABLED",
            Description=f"SageMaker model events ({suffix}) -> model-access queue",
        )["RuleArn"]
        clients.events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    if hub_bus:
        rule_arns.update(_hub_bus_rules(clients, queue_arn, trigger))
    for stale in {RULE_PREFIX + s for s in trigger_patterns(TriggerMode.BOTH)} - set(rule_arns):
        _remove_rule(clients, stale)  # `local up --trigger native` after `both`
    redrive_arn = clients.events.put_rule(
        Name=REDRIVE_RULE_NAME,
        EventPattern=json.dumps(reconcile_requests_pattern(), sort_keys=True),
        State="ENABLED",
        Description="Operators' Reconcile Model requests -> model-access queue",
    )["RuleArn"]
    clients.events.put_targets(Rule=REDRIVE_RULE_NAME,
                               Targets=[{"Id": "queue", "Arn": queue_arn}])
    policies = event_queue_policies(queue_arn, dlq_arn, [*rule_arns.values(), redrive_arn])
    for url, policy in zip((queue_url, dlq_url), policies, strict=True):
        clients.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    rules = tuple(name for name in rule_arns if not name.startswith(HUB_RULE_PREFIX))
    return LocalStack(settings.table_name, queue_url, queue_arn, dlq_url, dlq_arn, rules[0],
                      rules)


def _hub_bus_rules(clients: Clients, queue_arn: str, trigger: TriggerMode) -> dict[str, str]:
    """The hub bus and its rules to the queue (the stack's `EventRouting` on the hub bus)."""
    try:
        clients.events.create_event_bus(Name=HUB_BUS)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
    arns: dict[str, str] = {}
    for suffix, pattern in trigger_patterns(trigger).items():
        name = HUB_RULE_PREFIX + suffix
        arns[name] = clients.events.put_rule(
            Name=name, EventBusName=HUB_BUS, EventPattern=pattern_json(pattern),
            State="ENABLED", Description=f"forwarded SageMaker events ({suffix}) -> queue",
        )["RuleArn"]
        clients.events.put_targets(Rule=name, EventBusName=HUB_BUS,
                                   Targets=[{"Id": "queue", "Arn": queue_arn}])
    return arns


def hub_bus_arn(region: str, account: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{HUB_BUS}"


def local_spoke(member: Clients, region: str, hub_bus: str,
                trigger: TriggerMode = TriggerMode.BOTH) -> str:
    """A spoke in `region` of the account `member`'s clients act in: the forwarding
    template (`org_templates.forwarding_template`, what the StackSet deploys there) as a
    CloudFormation stack; returns the stack's id."""
    template = forwarding_template(Forwarding(hub_bus, trigger, 3600, 10))
    cloudformation = (member.session or boto3.Session()).client(
        "cloudformation", region_name=region, endpoint_url=member.endpoint_url)
    answer = cloudformation.create_stack(
        StackName=SPOKE_STACK, TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM"])
    return answer["StackId"]


def _remove_rule(clients: Clients, name: str) -> None:
    try:
        clients.events.remove_targets(Rule=name, Ids=["queue"])
        clients.events.delete_rule(Name=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def _ensure_table(clients: Clients, table: str) -> None:
    db = clients.dynamodb
    try:
        db.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "role", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": ROLE_INDEX,
                    "KeySchema": [
                        {"AttributeName": "role", "KeyType": "HASH"},
                        {"AttributeName": "pk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    db.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    db.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


def _queue_arn(clients: Clients, url: str) -> str:
    attributes = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]
