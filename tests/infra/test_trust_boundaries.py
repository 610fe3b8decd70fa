"""The stack's trust boundaries under Pulumi mocks: who may put a message on the queues, and
the warnings an insecure configuration prints.

moto does not evaluate SQS resource policies, so the queue policies the program declares
are evaluated here with `resource_policy_eval` (IAM's documented rules) against the
requests that matter: EventBridge acting for our rules or someone else's, a principal
whose own policy allows `sqs:SendMessage` (the reported forgery), SQS moving messages
between the queue and its DLQ, and an operator listed in `redrivePrincipals`.
"""

from __future__ import annotations

from typing import Any

import pytest

from model_access.deploy.patterns import event_queue_policies
from tests.infra.pulumi_harness import ACCOUNT, REGION, StackRun, run_program
from tests.infra.resource_policy_eval import Request, allowed

QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:model-access-events"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:model-access-events-dlq"
RULES = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/model-access-{name}"
         for name in ("sagemaker-model-calls", "sagemaker-model-state", "reconcile-requests")]
"""The default `trigger: both` rules, then operators' re-drive rule (the declared order)."""
OPERATOR = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
TLS = {"aws:SecureTransport": "true"}


def policies(run: StackRun) -> dict[str, dict[str, Any]]:
    """Queue ARN -> the policy document the program declared for it."""
    found = {}
    for policy in run.of_type("aws:sqs/queuePolicy:QueuePolicy"):
        document = policy.json("policy")
        (resource,) = {s["Resource"] for s in document["Statement"]}
        found[resource] = document
    assert set(found) == {QUEUE, DLQ}
    return found


def send(queue: str, **context: str) -> dict[str, Any]:
    return {"action": "sqs:SendMessage", "resource": queue, "context": {**TLS, **context}}


@pytest.mark.parametrize("queue", [QUEUE, DLQ])
def test_queue_policy_admits_eventbridge_for_our_rules_only(stack: StackRun, queue: str) -> None:
    """EventBridge delivering for either of our rules gets in; for any other rule it does not,
    not even for a rule of the same account and name prefix."""
    policy = policies(stack)[queue]
    for rule in RULES:
        assert allowed(policy, Request(**send(queue, **{"aws:SourceArn": rule}),
                                       principal_service="events.amazonaws.com"))
    other = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/model-access-sagemaker-model-calls-2"
    assert not allowed(policy, Request(**send(queue, **{"aws:SourceArn": other}),
                                       principal_service="events.amazonaws.com"))


@pytest.mark.parametrize("queue", [QUEUE, DLQ])
def test_queue_policy_denies_a_principal_allowed_send_message(stack: StackRun,
                                                              queue: str) -> None:
    """The reported forgery: a role whose own policy allows sqs:SendMessage is denied (an
    Allow for EventBridge alone would have let it in), on the queue and on the DLQ, where a
    planted message would be believed after a redrive."""
    policy = policies(stack)[queue]
    mallory = f"arn:aws:iam::{ACCOUNT}:role/mallory"
    assert not allowed(policy, Request(**send(queue, **{"aws:PrincipalArn": mallory}),
                                       identity_allows=True))


def test_queue_policies_let_sqs_move_messages_between_the_pair(stack: StackRun) -> None:
    """SQS acting for the DLQ may put messages back on the queue (a DLQ redrive), and acting
    for the queue may move them to the DLQ (maxReceiveCount); nothing else of SQS's."""
    found = policies(stack)
    for queue, source in ((QUEUE, DLQ), (DLQ, QUEUE)):
        assert allowed(found[queue], Request(**send(queue, **{"aws:SourceArn": source}),
                                             principal_service="sqs.amazonaws.com",
                                             identity_allows=True))
    stranger = f"arn:aws:sqs:{REGION}:{ACCOUNT}:mallory-queue"
    assert not allowed(found[QUEUE], Request(**send(QUEUE, **{"aws:SourceArn": stranger}),
                                             principal_service="sqs.amazonaws.com",
                                             identity_allows=True))


def test_queue_policy_exempts_listed_redrive_principals_only() -> None:
    """`redrivePrincipals` lets a listed operator send (a redrive started with their
    identity); anyone else is still denied, and the default lists nobody."""
    run = run_program({"redrivePrincipals": [OPERATOR]})
    for queue, policy in policies(run).items():
        assert allowed(policy, Request(**send(queue, **{"aws:PrincipalArn": OPERATOR}),
                                       identity_allows=True))
        other = OPERATOR.replace("platform-admin", "platform-admin2")
        assert not allowed(policy, Request(**send(queue, **{"aws:PrincipalArn": other}),
                                           identity_allows=True))


def test_queue_policy_refuses_plain_http(stack: StackRun) -> None:
    """Even EventBridge for our rule is refused without TLS (every SQS action is)."""
    policy = policies(stack)[QUEUE]
    request = Request(action="sqs:SendMessage", resource=QUEUE,
                      principal_service="events.amazonaws.com",
                      context={"aws:SourceArn": RULES[0], "aws:SecureTransport": "false"})
    assert not allowed(policy, request)


def test_queue_policies_come_from_the_builder_local_up_uses(stack: StackRun) -> None:
    """The stack declares exactly what `event_queue_policies` (shared with `local up`) builds."""
    queue, dlq = event_queue_policies(QUEUE, DLQ, RULES)
    assert policies(stack) == {QUEUE: queue, DLQ: dlq}


def test_redrive_principals_must_be_iam_arns() -> None:
    """A redrive principal that is not an IAM role or user ARN stops the program."""
    with pytest.raises(Exception, match="redrivePrincipals"):
        run_program({"redrivePrincipals": ["platform-admin"]})


# --- secure defaults, open modes warned ------------------------------------------------------

def test_defaults_are_secure_and_print_no_warning(stack: StackRun) -> None:
    """No config: protected owner changes, roles opt in by tag, and nothing to warn about."""
    env = stack.one("aws:lambda/function:Function", "provisioner").inputs["environment"]
    variables = env["variables"]
    assert variables["MODEL_ACCESS_OWNER_CHANGE_MODE"] == "protected"
    assert variables["MODEL_ACCESS_ROLE_TAG"] == "model-access:eligible=true"
    assert not [w for w in stack.warnings if "eligible" in w or "ownerChangeMode" in w]


@pytest.mark.parametrize(("config", "warned"), [
    ({"ownerChangeMode": "open"}, ["ownerChangeMode is 'open'"]),
    ({"roleTag": "*"}, ["every role in the account is eligible"]),
    ({"roleTag": "*", "ownerChangeMode": "open"},
     ["ownerChangeMode is 'open'", "every role in the account is eligible"]),
    ({"roleTag": "*", "rolePathPrefix": "/ml-owners/"}, []),
])
def test_open_modes_are_explicit_and_warned(config: dict[str, str], warned: list[str]) -> None:
    """Choosing an open mode prints one pulumi warning each; a path alone is not open."""
    run = run_program(config)
    ours = [w for w in run.warnings if "eligible" in w or "ownerChangeMode" in w]
    assert len(ours) == len(warned)
    for text, warning in zip(warned, ours, strict=True):
        assert text in warning
    env = run.one("aws:lambda/function:Function", "backfill").inputs["environment"]["variables"]
    assert env["MODEL_ACCESS_OWNER_CHANGE_MODE"] == config.get("ownerChangeMode", "protected")
    assert env["MODEL_ACCESS_ROLE_TAG"] == config.get("roleTag", "model-access:eligible=true")


def test_unverified_caller_is_a_refusal_on_the_dashboard(stack: StackRun) -> None:
    """The new outcome is drawn with the other refusals (the dashboard is built from
    outcomes.py), in the widget an operator watches for refused grants."""
    body = stack.one("aws:cloudwatch/dashboard:Dashboard").json("dashboardBody")
    refusals = next(w for w in body["widgets"]
                    if w["properties"].get("title", "").startswith("Refused"))
    drawn = {row[1] for row in refusals["properties"]["metrics"]}
    assert {"UnverifiedCaller", "OwnerChangeDenied", "IneligibleRole"} <= drawn
