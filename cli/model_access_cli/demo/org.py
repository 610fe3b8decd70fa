"""`model-access demo --org`: one hub and two member accounts in two regions, on a local moto
server, checked. `make demo` (the single-account demo) is unchanged.

1. the hub's stack with its bus `model-access` (`local up`); in each member and in a
   stranger account, in both regions, the spoke: the forwarding template (what the StackSet
   deploys) as a CloudFormation stack, whose rules forward SageMaker events to the hub bus;
2. each member's pipeline role creates models in both regions with ordinary SageMaker calls;
   the CloudTrail stand-in puts each call's event on that account's default bus in that
   region, the spoke forwards it (one hop, across account and region) to the hub bus, whose
   rule routes it to the hub queue, and the local poller feeds the real provisioner, which
   writes each member's IAM through the member role (moto does not check trust policies,
   so the role itself is not created here: `tests/functional/test_org_spokes.py` deploys it);
3. a stranger account (not in MODEL_ACCESS_MEMBER_ACCOUNTS) does the same and is refused
   (AccountNotMember): nothing is written anywhere;
4. events lost in a member: the backfill function sweeps every account and region and
   grants what they missed;
5. print each account's tool policies; exit 0 only if every expected outcome happened.
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TextIO

import boto3

from model_access.aws.clients import Clients
from model_access.core.settings import Env, Settings
from model_access.policy.render import model_arns_in
from model_access_cli.commands.table import render
from model_access_cli.local.api_tap import SageMakerTap
from model_access_cli.local.lambdas import LocalInvoker, MetricTally, load_function
from model_access_cli.local.poller import LocalContext, LocalPoller
from model_access_cli.local.sagemaker_guards import SAGEMAKER_GUARDS
from model_access_cli.local.server import moto_server, use_dummy_credentials
from model_access_cli.local.stack import hub_bus_arn, local_spoke, local_up
from model_access_cli.local.trail import TrailStandIn

HOME: Final = "us-east-1"
OTHER: Final = "eu-west-1"
HUB: Final = "123456789012"
RESEARCH: Final = "111111111111"
PROD: Final = "222222222222"
STRANGER: Final = "999999999999"
NAMES: Final = {HUB: "hub", RESEARCH: "research", PROD: "prod", STRANGER: "stranger"}
PIPELINE: Final = "ml-pipeline"
ELIGIBLE: Final = [{"Key": "model-access:eligible", "Value": "true"}]
TRUST: Final = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",' \
    '"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
ENVIRONMENT: Final = {Env.MEMBER_ACCOUNTS: f"{RESEARCH},{PROD}", Env.REGIONS: OTHER,
                      Env.PROVISIONER_ROLE: "model-access-provisioner", "AWS_REGION": HOME}


class OrgDemo:
    """The scenario; each step prints what it did."""

    def __init__(self, url: str, tap: SageMakerTap, out: TextIO) -> None:
        self.url, self.out = url, out
        self.hub = Clients(region=HOME, endpoint_url=url)
        self.stack = local_up(self.hub, Settings.from_mapping(os.environ), hub_bus=True)
        self.trail = TrailStandIn(url, delay=0.2, native_delay=0.1).start()
        tap.listeners.append(self.trail)
        self.tally = MetricTally()
        self.provisioner = LocalInvoker(load_function("provisioner"), self.tally)
        self.backfill = LocalInvoker(load_function("backfill"), self.tally)
        self.poller = LocalPoller(self.hub.sqs, self.stack.queue_url, self.stack.queue_arn,
                                  self.provisioner, account=HUB)
        self.arns: dict[str, str] = {}
        self.sweep: dict[str, Any] = {}

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def clients(self, account: str, region: str = HOME, role: str = "admin") -> Clients:
        """Clients of a role session in `account` (moto maps the credentials to it)."""
        if account == HUB and role == "admin":
            return self.hub if region == HOME else Clients(region=region, endpoint_url=self.url)
        answer = self.hub.sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                          RoleSessionName="demo")["Credentials"]
        session = boto3.Session(aws_access_key_id=answer["AccessKeyId"],
                                aws_secret_access_key=answer["SecretAccessKey"],
                                aws_session_token=answer["SessionToken"])
        return Clients(session, region=region, endpoint_url=self.url)

    def account(self, account: str, roles: tuple[str, ...]) -> None:
        """Owner roles (opted in), the pipeline role, and the spoke in both regions."""
        admin = self.clients(account)
        for role in (*roles, PIPELINE):
            admin.iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST,
                                  Tags=ELIGIBLE)  # type: ignore[arg-type]
        if account != HUB:
            with _quiet_cloudformation():  # moto skips the DLQ's queue policy, and says so
                for region in (HOME, OTHER):
                    local_spoke(admin, region, hub_bus_arn(HOME, HUB))

    def model(self, account: str, region: str, name: str, owner: str) -> None:
        """CreateModel by the account's pipeline: the trail stand-in records the call."""
        pipeline = self.clients(account, region, PIPELINE)
        self.arns[f"{account}/{name}"] = pipeline.sagemaker.create_model(
            ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{account}:role/sm-exec",
            PrimaryContainer={"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1"},
            Tags=[{"Key": "owner-role", "Value": owner}])["ModelArn"]

    def drain(self) -> None:
        if not self.trail.wait_idle():
            raise RuntimeError("the trail stand-in did not deliver its events in time")
        stats = self.poller.drain()
        self.say(f"   hub poller: {stats.batches} batch(es), {stats.records} record(s), "
                 f"{stats.failed_records} sent back for retry")

    def policies(self, account: str) -> dict[str, set[str]]:
        """Tool policy name -> model ARNs it grants, in one account's IAM."""
        iam = self.clients(account).iam
        found: dict[str, set[str]] = {}
        for page in iam.get_paginator("list_policies").paginate(
                Scope="Local", PathPrefix="/model-access/"):
            for policy in page["Policies"]:
                version = iam.get_policy_version(PolicyArn=policy["Arn"],
                                                 VersionId=policy["DefaultVersionId"])
                document = version["PolicyVersion"]["Document"]
                found[policy["PolicyName"]] = set(model_arns_in(document))
        return found

    # --- scenario ----------------------------------------------------------------------

    def run(self) -> bool:
        self.say(f"1. hub {HUB} ({HOME}): stack and bus; spokes (forwarding stacks) in "
                 f"{HOME} and {OTHER} of research {RESEARCH}, prod {PROD} and stranger "
                 f"{STRANGER}; the hub serves {ENVIRONMENT[Env.MEMBER_ACCOUNTS]}")
        self.account(HUB, ("data-scientist",))
        self.account(RESEARCH, ("data-scientist",))
        self.account(PROD, ("data-scientist", "ml-platform"))
        self.account(STRANGER, ("data-scientist",))
        self.say("2. member pipelines create models in both regions (trail -> member's "
                 "default bus -> spoke -> hub bus -> hub queue -> provisioner)")
        self.model(RESEARCH, HOME, "churn", "data-scientist")
        self.model(RESEARCH, OTHER, "churn-eu", "data-scientist")
        self.model(PROD, OTHER, "fraud", "ml-platform")
        self.model(PROD, HOME, "forecast", "data-scientist")
        self.say("3. the stranger's pipeline does the same")
        self.model(STRANGER, HOME, "intruder", "data-scientist")
        self.drain()
        self.say("4. research's events are lost (late-model in eu-west-1); then the backfill "
                 "function sweeps every account and region")
        self.trail.lose_events()
        self.model(RESEARCH, OTHER, "late-model", "data-scientist")
        self.trail.lose_events(False)
        context = LocalContext("model-access-backfill",
                               f"arn:aws:lambda:{HOME}:{HUB}:function:model-access-backfill")
        self.sweep = self.backfill({"dryRun": False}, context)
        rows = [(f"{NAMES[a]} {a}", row["outcome"], row.get("granted", "-"),
                 row.get("unchanged", "-")) for a, row in self.sweep["accounts"].items()]
        self.say(render(("account", "sweep", "granted", "unchanged"), rows))
        return self.report_and_check()

    def report_and_check(self) -> bool:
        held = {account: self.policies(account) for account in NAMES}
        rows = [(f"{NAMES[a]} {a}", name, model_arn)
                for a, policies in held.items() for name, arns in sorted(policies.items())
                for model_arn in sorted(arns)]
        self.say("")
        self.say(render(("account", "tool policy", "grants"), rows,
                        title="Tool policies in each account's IAM (none in the hub and the "
                              "stranger)"))
        self.say(f"refused: AccountNotMember x{self.tally.totals['AccountNotMember']} (the "
                 "stranger's CloudTrail and SageMaker events)")
        arn = self.arns.get
        research = held[RESEARCH].get("model-access-data-scientist-01", set())
        checks: list[tuple[str, Callable[[], bool]]] = [
            ("research's data-scientist holds churn (us-east-1) and churn-eu (eu-west-1) in "
             "one tool policy of research's IAM",
             lambda: {arn(f"{RESEARCH}/churn"), arn(f"{RESEARCH}/churn-eu")} <= research),
            ("prod's ml-platform holds fraud (eu-west-1), its data-scientist forecast",
             lambda: held[PROD] == {"model-access-ml-platform-01": {arn(f"{PROD}/fraud")},
                                    "model-access-data-scientist-01": {
                                        arn(f"{PROD}/forecast")}}),
            ("the hub's own data-scientist (same name) got nothing: no tool policy in the hub",
             lambda: held[HUB] == {}),
            ("the stranger was refused (AccountNotMember) and nothing was written there",
             lambda: self.tally.totals["AccountNotMember"] >= 1 and held[STRANGER] == {}),
            ("the sweep reached every served account and granted late-model (events lost)",
             lambda: set(self.sweep["accounts"]) == {HUB, RESEARCH, PROD}
             and arn(f"{RESEARCH}/late-model") in research),
        ]
        self.say("")
        ok = True
        for description, check in checks:
            passed = bool(check())
            ok &= passed
            self.say(f"  [{'ok' if passed else 'FAILED'}] {description}")
        self.say("")
        self.say("demo --org: every expected outcome happened" if ok
                 else "demo --org: FAILED (see above)")
        return ok


def _reset(url: str) -> None:
    """Empty accounts: moto's backends live as long as the process (a test run may use
    them before and after the demo)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - our local moto server
        pass


@contextmanager
def _quiet_cloudformation() -> Iterator[None]:
    logger = logging.getLogger("moto")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Tried to parse AWS")
            yield
    finally:
        logger.setLevel(level)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set the hub functions' settings for the demo; put the old values back after."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_org_demo(out: TextIO = sys.stdout, *, verbose: bool = False) -> int:
    """Start a moto server, run the organization scenario; 0 when every check passed."""
    use_dummy_credentials(HOME)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if verbose else "WARNING")
    tap = SageMakerTap(SAGEMAKER_GUARDS)
    with moto_server(wrap=tap.around) as url, _environment(
            {**ENVIRONMENT, "AWS_ENDPOINT_URL": url}):
        print(f"moto server on {url} (stopped at the end)", file=out, flush=True)
        _reset(url)
        demo = None
        try:
            demo = OrgDemo(url, tap, out)
            return 0 if demo.run() else 1
        finally:
            if demo is not None:
                demo.trail.stop()
            _reset(url)  # and leave them empty for whatever runs next in this process
