"""Organization figures: a burst from 5 accounts x 2 regions against one hub.

`burst`: the hub's account and four members, each in the hub's region and one more; every
account has the same owner roles. Each account's events are put on its own default bus in
their region (CloudTrail-shaped); the spokes (the forwarding template, deployed by
CloudFormation in every account and region, the hub's other region included) forward them
to the hub bus, whose rule feeds the hub queue; the real provisioner drains it in the
event source mapping's batches, writing each member's IAM through the member role.

The comparison is a single-account burst of the same shape: as many events, over as many
roles as the organization has (account, role) pairs, in one region. One writer per
(account, role) across regions means the IAM writes per (account, role) should match.

    python -m bench.org [--quick]     (this scenario alone; `make bench` runs it too)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    ACCOUNT,
    ELIGIBLE_TAGS,
    OWNER_TAG,
    PROVISIONER_ROLE,
    REGION,
    TRUST,
    fresh_aws,
    model_name,
)

OTHER_REGION: Final = "eu-west-1"
MEMBERS: Final = ("111111111111", "222222222222", "333333333333", "444444444444")
ACCOUNTS: Final = (ACCOUNT, *MEMBERS)
REGIONS: Final = (REGION, OTHER_REGION)
PATH: Final = "/model-access/"


def burst(events: int, roles_per_account: int, sizes: Any,
          log: Callable[[str], None] = print,
          accounts: tuple[str, ...] = ACCOUNTS) -> dict[str, Any]:
    """The organization burst (from `accounts`: the hub's and members) and the
    single-account burst of the same shape."""
    from bench import scenarios

    org = _org_burst(events, roles_per_account, sizes, log, accounts)
    pairs = len(accounts) * roles_per_account
    single = scenarios.burst("ours", events, replace(sizes, burst_roles=pairs), log=log)
    single_per_role = round(single["iam_writes"] / pairs, 2)
    org["single_account"] = {
        "events": events, "roles": pairs, "iam_writes": single["iam_writes"],
        "iam_writes_per_role": single_per_role, "aws_calls": single["aws_calls"],
        "wall_seconds": single["wall_seconds"], "lost_grants": single["lost_grants"],
        "batches": single["poller"]["batches"]}
    org["iam_writes_ratio_vs_single_account"] = round(
        org["iam_writes_per_account_role"] / single_per_role, 2) if single_per_role else None
    log(f"   organization: {org['iam_writes_per_account_role']} IAM writes per (account, "
        f"role) vs {single_per_role} per role in one account "
        f"(x{org['iam_writes_ratio_vs_single_account']})")
    return org


def _org_burst(events: int, roles_per_account: int, sizes: Any,
               log: Callable[[str], None], accounts: tuple[str, ...]) -> dict[str, Any]:
    from bench.scenarios import _drain, iam_writes, make_design, role_names, totals
    from model_access_cli.local import cloudtrail

    roles = role_names(roles_per_account)
    origins = [(a, r) for a in accounts for r in REGIONS]
    with fresh_aws() as aws, _org_settings():
        spokes = _spokes(aws, accounts)
        expected: dict[tuple[str, str], set[str]] = {}
        details: list[tuple[str, str, dict[str, Any]]] = []
        for i in range(events):  # interleaved: every batch mixes accounts and regions
            account, region = origins[i % len(origins)]
            role = roles[(i // len(origins)) % len(roles)]
            name = model_name(i)
            arn = _model(account, region, name, role)
            expected.setdefault((account, role.lower()), set()).add(arn)
            details.append((account, region, cloudtrail.create_model(
                name, arn, {OWNER_TAG: role}, account=account, region=region)))
        for account in accounts:
            _roles(account, [*roles, PROVISIONER_ROLE])
        _emit(aws, details)
        queued = aws.queue_depth()
        design = make_design("ours", aws)
        clock, stats, wall = _drain(aws, design, sizes)
        calls = design.calls()
        held = {(a, role): arns for a in accounts for role, arns in _grants(a).items()}
        lost = sum(len(arns - held.get(pair, set())) for pair, arns in expected.items())
        writes = iam_writes(calls)
        out = {"events": events, "accounts": len(accounts), "regions": len(REGIONS),
               "roles_per_account": roles_per_account, "spokes": spokes, "queued": queued,
               "wall_seconds": round(wall, 3), "handler_seconds": round(clock.inside, 3),
               **totals(calls),
               "iam_writes_per_account_role": round(writes / len(expected), 2),
               "poller": {"batches": stats.batches, "records": stats.records,
                          "failed_records": stats.failed_records,
                          "batch_size": sizes.batch_size,
                          "window_seconds": sizes.window_seconds},
               "lost_grants": lost, "left_in_queue": aws.queue_depth(),
               "grants_of_another_accounts_models": sum(
                   1 for (account, _role), arns in held.items() for arn in arns
                   if arn.split(":")[4] != account),
               "tool_policies_per_account": {a: _policy_count(a) for a in accounts}}
    log(f"   organization: {events} events from {len(accounts)} accounts x {len(REGIONS)} "
        f"regions -> {writes} IAM writes, {out['aws_calls']} AWS calls, {wall:.1f}s, "
        f"{stats.batches} batches, lost {lost}")
    return out


@contextmanager
def _org_settings() -> Iterator[None]:
    """The hub functions' organization settings, for this scenario only."""
    values = {"MODEL_ACCESS_MEMBER_ACCOUNTS": ",".join(MEMBERS),
              "MODEL_ACCESS_REGIONS": OTHER_REGION}
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


@functools.lru_cache(maxsize=64)
def _clients(account: str, region: str, url: str) -> Any:
    """Clients acting in `account` (assumed through STS) and `region`; one set per server
    URL, account and region (the spokes and the events of a burst share them)."""
    import boto3

    from model_access.aws.clients import Clients

    hub = Clients(region=REGION, endpoint_url=url)
    if account == ACCOUNT:
        return Clients(region=region, endpoint_url=url)
    answer = hub.sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/admin",
                                 RoleSessionName="bench")["Credentials"]
    session = boto3.Session(aws_access_key_id=answer["AccessKeyId"],
                            aws_secret_access_key=answer["SecretAccessKey"],
                            aws_session_token=answer["SessionToken"])
    return Clients(session, region=region, endpoint_url=url)


def _spokes(aws: Any, accounts: tuple[str, ...]) -> int:
    """The forwarding stack in every (account, region) but the hub's home (its own rule)."""
    import logging
    import warnings

    from model_access_cli.local.stack import hub_bus_arn, local_spoke

    bus = hub_bus_arn(REGION, ACCOUNT)
    aws.clients.events.create_event_bus(Name="model-access")
    _hub_bus_rules(aws)
    count = 0
    logging.getLogger("moto").setLevel(logging.ERROR)  # it says it skips the queue policy
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Tried to parse AWS")
        for account in accounts:
            for region in REGIONS:
                if (account, region) != (ACCOUNT, REGION):
                    local_spoke(_clients(account, REGION, aws.url), region, bus)
                    count += 1
    return count


def _hub_bus_rules(aws: Any) -> None:
    from model_access.deploy.patterns import TriggerMode, pattern_json, trigger_patterns

    for suffix, pattern in trigger_patterns(TriggerMode.BOTH).items():
        name = f"model-access-hub-{suffix}"
        aws.clients.events.put_rule(Name=name, EventBusName="model-access",
                                    EventPattern=pattern_json(pattern))
        aws.clients.events.put_targets(Rule=name, EventBusName="model-access",
                                       Targets=[{"Id": "queue", "Arn": aws.stack.queue_arn}])


def _model(account: str, region: str, name: str, owner: str) -> str:
    from moto.sagemaker.models import sagemaker_backends

    model = sagemaker_backends[account][region].create_model(
        model_name=name, execution_role_arn=f"arn:aws:iam::{account}:role/sm-exec",
        primary_container={"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        vpc_config=None, containers=None, tags=[{"Key": OWNER_TAG, "Value": owner}])
    return str(model.arn)


def _roles(account: str, names: list[str]) -> None:
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    for name in names:
        backend.create_role(role_name=name, assume_role_policy_document=TRUST, path="/",
                            permissions_boundary=None, description="", tags=ELIGIBLE_TAGS,
                            max_session_duration="3600")


def _emit(aws: Any, details: list[tuple[str, str, dict[str, Any]]]) -> None:
    """PutEvents on each account's default bus in its region, one event a call, in the
    burst's order (so the queue, and each batch, mixes accounts, regions and roles as the
    single-account burst mixes roles)."""
    from model_access_cli.local import cloudtrail

    buses: dict[tuple[str, str], Any] = {}
    for account, region, detail in details:
        if (account, region) not in buses:
            buses[(account, region)] = _clients(account, region, aws.url).events
        answer = buses[(account, region)].put_events(
            Entries=[cloudtrail.put_events_entry(detail)])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents refused an entry: {answer}")


def _grants(account: str) -> dict[str, set[str]]:
    """role (lower-cased) -> model ARNs its attached tool policies grant, in one account."""
    from moto.iam.models import iam_backends

    from bench.harness import _default_document
    from model_access.policy.render import model_arns_in

    return {role.name.lower(): set().union(*(
        model_arns_in(_default_document(p)) for p in role.managed_policies.values()
        if p.path == PATH)) for role in iam_backends[account]["aws"].roles.values()}


def _policy_count(account: str) -> int:
    from moto.iam.models import iam_backends

    return sum(1 for p in iam_backends[account]["aws"].managed_policies.values()
               if getattr(p, "path", None) == PATH)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the organization burst alone")
    parser.add_argument("--quick", action="store_true",
                        help="60 events from 3 accounts instead of 2,000 from 5")
    options = parser.parse_args(argv)
    from bench import scenarios
    from bench.harness import prepare_process

    prepare_process()
    sizes = scenarios.QUICK if options.quick else scenarios.FULL
    events, roles, accounts = quick_or_full(options.quick)
    result = burst(events, roles, sizes, accounts=accounts)
    print(json.dumps({k: v for k, v in result.items() if k != "calls_by_operation"},
                     indent=2))
    return 0


def quick_or_full(quick: bool) -> tuple[int, int, tuple[str, ...]]:
    """(events, roles per account, accounts): 2,000 over 4 roles in each of the 5 accounts
    (20 pairs, as the single-account burst's 20 roles), or in quick mode 60 over 2 roles in
    the hub's account and two members (6 pairs)."""
    return (60, 2, ACCOUNTS[:3]) if quick else (2000, 4, ACCOUNTS)


if __name__ == "__main__":
    raise SystemExit(main())
