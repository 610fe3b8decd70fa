"""`model-access demo`: the whole flow on a local moto server, checked, with a readable report.

The same machinery as `local serve` (`local_run.py`), driven step by step:

1. start a moto server on 127.0.0.1 (SageMaker's answers where moto is lenient, the
   CloudTrail stand-in listening) and run `local up` (table, queue + DLQ, EventBridge rules);
2. a pipeline role creates owner roles' models with ordinary SageMaker calls; the trail
   stand-in puts each call's CloudTrail event on the bus, EventBridge's rule routes it into
   the queue, and a local poller feeds the real provisioner handler in batches, as the
   Lambda event source mapping would;
   SageMaker's own "Model State Change" events (creates, deletes) take the same road;
3. lifecycle: delete a model (revoked), its owner re-tags one to another owner (moved); a
   stranger re-tags another to itself and invokes the provisioner directly with a forged
   AddTags claiming the owner (UnverifiedCaller); the trail's real event names the
   stranger (OwnerChangeDenied): the grant never moves;
4. trail logging stopped: a model is granted from SageMaker's own event alone;
5. the Model Registry: a model package group created with an owner is granted (group and
   `model-package/<group>/*`); versions registered afterwards cost no IAM write; its owner
   moves it to another role; a stranger's re-tag is refused; deleting it revokes the grant;
6. events lost entirely: a model created then has no event; the real backfill finds it;
7. print roles, grants, refusals and IAM calls; exit 0 only if every expected outcome happened.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import boto3
from botocore.exceptions import ClientError

from model_access.aws.clients import Clients
from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.core.settings import Env, Settings
from model_access.policy.render import to_json
from model_access.runtime import build_runtime
from model_access_cli.commands.table import render
from model_access_cli.demo.dashboard_png import DrawingUnavailableError, draw_demo_dashboard
from model_access_cli.local import cloudtrail
from model_access_cli.local.api_tap import ApiCall, SageMakerTap
from model_access_cli.local.bus_event import BusEvent
from model_access_cli.local.lambdas import LocalInvoker, MetricTally, load_function
from model_access_cli.local.poller import LocalContext, LocalPoller
from model_access_cli.local.sagemaker_guards import SAGEMAKER_GUARDS
from model_access_cli.local.server import moto_server, use_dummy_credentials
from model_access_cli.local.stack import local_up
from model_access_cli.local.trail import TrailStandIn

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"
PROVISIONER_ROLE: Final = "model-access-provisioner"
TRUST: Final = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",' \
    '"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
BULK_MODELS: Final = 25
PIPELINE_ROLE: Final = "ml-pipeline"
ELIGIBLE_TAG: Final = ("model-access:eligible", "true")
"""Roles opt in with this tag (the default `MODEL_ACCESS_ROLE_TAG`)."""
TRAIL_DELAY: Final = 0.2
GROUP: Final = "Fraud-Registry"
GROUP_KIND: Final = "model-package-group"
GROUP_VERSIONS: Final = 5
NATIVE_DELAY: Final = 0.1
DEFAULT_DASHBOARD_DIR: Final = Path("build/demo")


@dataclass(frozen=True)
class Expectation:
    """One outcome the demo promises, checked against IAM and the record at the end."""

    description: str
    check: Callable[[], bool]


class Demo:
    """The scenario; each step prints what it did."""

    def __init__(self, url: str, tap: SageMakerTap, out: TextIO,
                 dashboard_dir: Path = DEFAULT_DASHBOARD_DIR) -> None:
        self.out = out
        self.dashboard_dir = dashboard_dir
        self.clients = Clients(region=REGION, endpoint_url=url)
        self.settings = Settings.from_mapping(os.environ)
        self.stack = local_up(self.clients, self.settings)
        self.bus_events: list[str] = []
        self.trail = TrailStandIn(url, delay=TRAIL_DELAY, native_delay=NATIVE_DELAY,
                                  on_delivered=self._delivered).start()
        tap.listeners.append(self.trail)
        # The observer reads IAM and the record through the same adapters as the functions.
        self.observer = build_runtime(
            dict(os.environ, MODEL_ACCESS_ACCOUNT_ID=ACCOUNT), clients=self.clients)
        self.tally = MetricTally()
        self.provisioner = LocalInvoker(load_function("provisioner"), self.tally)
        self.backfill = LocalInvoker(load_function("backfill"), self.tally)
        self.poller = LocalPoller(self.clients.sqs, self.stack.queue_url, self.stack.queue_arn,
                                  self.provisioner, account=ACCOUNT)
        self.arns: dict[str, str] = {}
        self.native_grant: GrantRecord | None = None
        self.forged_outcome = ""
        self.group_granted_to: str | None = None
        self.group_moved_to: str | None = None
        self.group_refusal: str | None = None
        self.version_writes = -1
        self.group_after_delete = GrantRecord(ResourceKey.of(REGION, GROUP, GROUP_KIND))
        self.url = url
        self.role(PIPELINE_ROLE, "/teams/")
        self.pipeline = self._session_of(f"arn:aws:iam::{ACCOUNT}:role/teams/{PIPELINE_ROLE}",
                                         url)

    def _session_of(self, role_arn: str, url: str) -> Clients:
        """Clients with the credentials AssumeRole gives: the trail names this role."""
        credentials = self.clients.sts.assume_role(
            RoleArn=role_arn, RoleSessionName="training-run")["Credentials"]
        session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"])
        return Clients(session, region=REGION, endpoint_url=url)

    def _delivered(self, event: BusEvent, call: ApiCall) -> None:
        self.bus_events.append(f"{event.label}: {call.request.get('ModelName', '')}")

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # --- world ---------------------------------------------------------------------------

    def role(self, name: str, path: str = "/", *, opt_in: bool = True) -> str:
        """A role, opted in with the eligibility tag unless `opt_in=False`."""
        tags = [{"Key": ELIGIBLE_TAG[0], "Value": ELIGIBLE_TAG[1]}] if opt_in else []
        return self.clients.iam.create_role(RoleName=name, Path=path, Tags=tags,  # type: ignore[arg-type]
                                            AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]

    def as_role(self, name: str, path: str = "/") -> Clients:
        """Clients of a session of this role: the trail names it as the caller."""
        return self._session_of(f"arn:aws:iam::{ACCOUNT}:role{path}{name}", self.url)

    def forged_retag(self) -> None:
        """intern re-tags fraud-detector to itself, then invokes the provisioner directly with
        an AddTags event claiming that ml-platform, the owner, made the change."""
        fraud, key = self.arns["fraud-detector"], self.settings.owner_tag_key
        self.as_role("intern").sagemaker.add_tags(ResourceArn=fraud,
                                                  Tags=[{"Key": key, "Value": "intern"}])
        forged = cloudtrail.envelope(cloudtrail.add_tags(
            fraud, {key: "intern"},
            caller_role_arn=f"arn:aws:iam::{ACCOUNT}:role/teams/ml-platform"))
        context = LocalContext("model-access-provisioner", f"arn:aws:lambda:{REGION}:{ACCOUNT}"
                               ":function:model-access-provisioner")
        self.forged_outcome = str(self.provisioner(forged, context).get("outcome"))
        self.say(f"   forged direct invoke: {self.forged_outcome}")

    def model(self, name: str, owner: str | None, image: str = "x:1") -> str:
        """CreateModel as a pipeline would call it; the trail stand-in records the call."""
        tags = [{"Key": self.settings.owner_tag_key, "Value": owner}] if owner is not None else []
        arn: str = self.pipeline.sagemaker.create_model(
            ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec",
            PrimaryContainer={"Image": f"763104351884.dkr.ecr.us-east-1.amazonaws.com/{image}"},
            Tags=tags,  # type: ignore[arg-type]
        )["ModelArn"]
        self.arns[name] = arn
        return arn

    def drain(self) -> None:
        """Wait for the trail to deliver, then let the poller empty the queue."""
        if not self.trail.wait_idle():
            raise RuntimeError("the trail stand-in did not deliver its events in time")
        stats = self.poller.drain()
        self.say(f"   trail: {len(self.bus_events)} event(s) on the bus so far; poller: "
                 f"{stats.batches} batch(es), {stats.records} record(s), "
                 f"{stats.failed_records} sent back for retry")

    # --- scenario ------------------------------------------------------------------------

    def run(self) -> bool:
        self.say(f"1. local stack: table {self.stack.table}, queue {self.stack.queue_url}, "
                 f"rules {', '.join(self.stack.rules)}; CloudTrail stand-in on (delay "
                 f"{TRAIL_DELAY:g} s), SageMaker's own events (delay {NATIVE_DELAY:g} s)")
        self.role("data-scientist")
        self.role("ml-platform", "/teams/")
        self.role("analyst")
        self.role("intern")
        self.role("contractor", opt_in=False)
        self.role(PROVISIONER_ROLE, "/service/")
        self.role("AWSServiceRoleForSageMakerDemo", "/aws-service-role/sagemaker.amazonaws.com/")
        self.say(f"2. role {PIPELINE_ROLE} creates models with ordinary SageMaker calls "
                 "(trail -> EventBridge -> SQS -> handler)")
        self.model("Churn-Predictor", "data-scientist")
        self.model("fraud-detector", f"arn:aws:iam::{ACCOUNT}:role/teams/ml-platform")
        for i in range(BULK_MODELS):
            self.model(f"demand-forecast-{i:02d}", "analyst")
        self.model("untagged-model", None)
        self.model("intruder-model", "arn:aws:iam::999999999999:role/intruder")
        self.model("self-grant-model", PROVISIONER_ROLE)
        self.model("slr-model", "AWSServiceRoleForSageMakerDemo")
        self.model("ghost-owner-model", "no-such-role")
        self.model("wildcard-model", "*")
        self.model("contractor-model", "contractor")
        try:
            self.model("failed-call", "analyst", image="not an image")
        except ClientError as exc:
            self.say(f"   failed-call refused by SageMaker: {exc.response['Error']['Code']}")
        self.drain()
        self.say("3. lifecycle: delete demand-forecast-00; data-scientist re-tags Churn-Predictor "
                 "to ml-platform; intern re-tags fraud-detector to itself and forges an event")
        self.pipeline.sagemaker.delete_model(ModelName="demand-forecast-00")
        self.as_role("data-scientist").sagemaker.add_tags(
            ResourceArn=self.arns["Churn-Predictor"],
            Tags=[{"Key": self.settings.owner_tag_key, "Value": "ml-platform"}])
        self.forged_retag()
        self.drain()
        self.say("4. trail logging stopped: native-model is granted from SageMaker's own "
                 "event alone")
        self.trail.stop_logging()
        self.model("native-model", "data-scientist")
        self.drain()
        self.native_grant = self.record("native-model")
        self.say(f"   native-model: {self.native_grant.outcome} to {self.native_grant.role}, "
                 f"trigger {self.native_grant.trigger}")
        self.trail.start_logging()
        self.registry()
        self.say("6. events lost entirely: late-model's CreateModel reaches no bus; "
                 "then the backfill runs")
        self.trail.lose_events()
        self.model("late-model", "analyst")
        self.trail.lose_events(False)
        context = LocalContext("model-access-backfill",
                               f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:model-access-backfill")
        summary = self.backfill({"dryRun": False}, context)
        self.say(f"   backfill: seen {summary['seen']}, granted {summary['granted']}, "
                 f"revoked {summary['revoked']}, refused {summary['refused']}, "
                 f"unchanged {summary['unchanged']}")
        self.report()
        ok = self.check()
        self.draw_dashboard()
        return ok

    def registry(self) -> None:
        """Step 5: a model package group's life, through the same trail, rule and handler."""
        self.say(f"5. Model Registry: {PIPELINE_ROLE} creates group {GROUP} owned by "
                 "data-scientist, then registers versions")
        key = self.settings.owner_tag_key
        self.arns[GROUP] = self.pipeline.sagemaker.create_model_package_group(
            ModelPackageGroupName=GROUP, ModelPackageGroupDescription="fraud models",
            Tags=[{"Key": key, "Value": "data-scientist"}])["ModelPackageGroupArn"]
        self.drain()
        self.group_granted_to = self.record(GROUP, GROUP_KIND).role
        writes = self._handler_calls()["iam_writes"]
        for _ in range(GROUP_VERSIONS):
            self.pipeline.sagemaker.create_model_package(
                ModelPackageGroupName=GROUP, ModelPackageDescription="nightly training run",
                InferenceSpecification={
                    "Containers": [{"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"]})
        self.drain()
        self.version_writes = self._handler_calls()["iam_writes"] - writes
        self.say(f"   {GROUP_VERSIONS} versions registered: {self.version_writes} IAM write(s) "
                 "by the functions (the grant's `model-package/<group>/*` covers them)")
        self.say("   data-scientist moves the group to analyst; intern re-tags it to itself")
        self.as_role("data-scientist").sagemaker.add_tags(
            ResourceArn=self.arns[GROUP], Tags=[{"Key": key, "Value": "analyst"}])
        self.drain()
        self.group_moved_to = self.record(GROUP, GROUP_KIND).role
        self.as_role("intern").sagemaker.add_tags(
            ResourceArn=self.arns[GROUP], Tags=[{"Key": key, "Value": "intern"}])
        self.drain()
        self.group_refusal = self.record(GROUP, GROUP_KIND).outcome
        self.say(f"   after intern's re-tag: {self.group_refusal}, held by "
                 f"{self.record(GROUP, GROUP_KIND).role}")
        self.say("   the pipeline deletes the versions, then the group")
        versions = self.pipeline.sagemaker.list_model_packages(ModelPackageGroupName=GROUP)
        for summary in versions["ModelPackageSummaryList"]:
            self.pipeline.sagemaker.delete_model_package(
                ModelPackageName=summary["ModelPackageArn"])
        self.pipeline.sagemaker.delete_model_package_group(ModelPackageGroupName=GROUP)
        self.drain()
        self.group_after_delete = self.record(GROUP, GROUP_KIND)
        self.say(f"   {GROUP}: {self.group_after_delete.outcome}; history "
                 + " -> ".join(f"{h['outcome']}({h['role']})"
                               for h in self.group_after_delete.history))

    # --- report --------------------------------------------------------------------------

    def tool_policies(self, role: str) -> list[tuple[str, frozenset[str], int]]:
        """(name, model ARNs, size) of each tool policy attached to `role`."""
        facts = self.observer.iam.get_role(role)
        if facts is None:
            return []
        state = self.observer.iam.read_role_state(facts)
        return [(p.name, p.model_arns, len(to_json(p.document)))
                for _, p in sorted(state.tool_policies.items()) if p.attached]

    def granted(self, role: str) -> set[str]:
        held: set[str] = set()
        for _, arns, _ in self.tool_policies(role):
            held |= arns
        return held

    def record(self, name: str, kind: str = "model") -> GrantRecord:
        key = ResourceKey.of(REGION, name, kind)
        return self.observer.records.get_many([key])[key]

    def report(self) -> None:
        rows = []
        for role in ("data-scientist", "ml-platform", "analyst", PROVISIONER_ROLE):
            policies = self.tool_policies(role)
            names = sorted(a.rsplit("/", 1)[-1] for _, arns, _ in policies for a in arns)
            shown = ", ".join(names[:3]) + (f", ... ({len(names)} in all)" if len(names) > 3
                                            else "")
            sizes = ", ".join(f"{n} ({size} chars)" for n, _, size in policies) or "-"
            rows.append((role, len(names), shown or "-", sizes))
        self.say("")
        self.say(render(("role", "models", "granted", "tool policies"), rows,
                        title="Grants now in IAM"))
        refusals = [(r.model_arn.rsplit("/", 1)[-1] if r.model_arn else r.key.name_lower,
                     r.outcome, r.reason)
                    for r in self.observer.records.scan() if r.status == "refused"]
        self.say("")
        self.say(render(("model", "outcome", "reason"), sorted(refusals),
                        title="Refused (final, counted, never retried)"))
        history = [(name, " -> ".join(f"{h['outcome']}({h['role']})" for h in
                                      self.record(name).history))
                   for name in ("Churn-Predictor", "fraud-detector", "demand-forecast-00",
                                "native-model", "late-model")]
        self.say("")
        self.say(render(("model", "history in the grant record"), history,
                        title="Lifecycle"))
        counter = self.clients.counter
        handler_calls = self._handler_calls()
        self.say("")
        self.say(render(("metric", "value"), sorted(self.tally.totals.items()),
                        title="Metrics the functions emitted (EMF; what the dashboard shows)"))
        self.say("")
        self.say(f"IAM calls by the functions: {handler_calls['iam']} "
                 f"({handler_calls['iam_writes']} writes); demo set-up calls: "
                 f"{counter.total('iam')}")

    def _handler_calls(self) -> dict[str, int]:
        total = {"iam": 0, "iam_writes": 0}
        for invoker in (self.provisioner, self.backfill):
            runtime = getattr(invoker.module, "_runtime", None)
            if runtime is not None:
                total["iam"] += runtime.clients.counter.total("iam")
                total["iam_writes"] += runtime.clients.counter.total("iam", writes_only=True)
        return total

    def draw_dashboard(self) -> None:
        """The stack's dashboard, drawn from the EMF lines the functions printed."""
        try:
            png = draw_demo_dashboard(self.tally.lines, self.dashboard_dir)
        except DrawingUnavailableError as exc:
            self.say(f"dashboard not drawn: {exc}")
            return
        self.say(f"dashboard (drawn from the {len(self.tally.lines)} EMF lines the functions "
                 f"printed, kept in {self.dashboard_dir / 'emf.log'}):")
        self.say(str(png))

    def check(self) -> bool:
        churn, fraud = self.arns["Churn-Predictor"], self.arns["fraud-detector"]
        bulk = {self.arns[f"demand-forecast-{i:02d}"] for i in range(1, BULK_MODELS)}
        analyst_policies = self.tool_policies("analyst")
        expectations = [
            Expectation("Churn-Predictor moved: ml-platform holds its exact (mixed-case) ARN",
                        lambda: churn in self.granted("ml-platform")),
            Expectation("Churn-Predictor no longer granted to data-scientist",
                        lambda: churn not in self.granted("data-scientist")),
            Expectation("fraud-detector granted to the role named by ARN (path /teams/), and "
                        "kept there after intern's re-tag",
                        lambda: fraud in self.granted("ml-platform")
                        and not self.granted("intern")),
            Expectation("intern's forged direct invoke was not believed (UnverifiedCaller)",
                        lambda: self.forged_outcome == "UnverifiedCaller"),
            Expectation("analyst holds the 24 remaining forecasts and late-model",
                        lambda: self.granted("analyst") == bulk | {self.arns["late-model"]}),
            Expectation("analyst's models fit in at most two tool policies, each <= 6,144",
                        lambda: 1 <= len(analyst_policies) <= 2
                        and all(size <= 6144 for _, _, size in analyst_policies)),
            Expectation("native-model granted from SageMaker's own event alone (trail off)",
                        lambda: self.arns["native-model"] in self.granted("data-scientist")
                        and self.native_grant is not None
                        and self.native_grant.trigger == "ModelStateChange"),
            Expectation("deleted demand-forecast-00 is revoked everywhere",
                        lambda: self.arns["demand-forecast-00"] not in self.granted("analyst")),
            Expectation(f"model package group {GROUP} granted to data-scientist on creation",
                        lambda: self.group_granted_to == "data-scientist"),
            Expectation(f"{GROUP_VERSIONS} versions registered after the grant cost 0 IAM writes",
                        lambda: self.version_writes == 0),
            Expectation(f"{GROUP} moved to analyst by its owner; intern's re-tag refused "
                        "(OwnerChangeDenied)",
                        lambda: self.group_moved_to == "analyst"
                        and self.group_refusal == "OwnerChangeDenied"),
            Expectation(f"deleting {GROUP} revoked it: no role holds it",
                        lambda: self.group_after_delete.role is None
                        and not any(self.arns[GROUP] in self.granted(r) for r in (
                            "data-scientist", "analyst", "intern"))),
            Expectation("the provisioner's own role got nothing",
                        lambda: not self.granted(PROVISIONER_ROLE)),
        ]
        expectations.append(Expectation(
            "untagged-model refused as NoOwnerTag, and costs no record (nobody holds it)",
            lambda: self.record("untagged-model").version == 0
            and not any(self.arns["untagged-model"] in self.granted(r) for r in (
                "data-scientist", "ml-platform", "analyst", PROVISIONER_ROLE))))
        for name, outcome in (("intruder-model", "ForeignOwner"),
                              ("self-grant-model", "ProvisionerRole"),
                              ("slr-model", "ServiceLinkedRole"),
                              ("ghost-owner-model", "RoleNotFound"),
                              ("wildcard-model", "InvalidOwner"),
                              ("contractor-model", "IneligibleRole"),
                              ("fraud-detector", "OwnerChangeDenied")):
            expectations.append(Expectation(
                f"{name} refused as {outcome}",
                lambda n=name, o=outcome: self.record(n).outcome == o))  # type: ignore[misc]
        expectations.append(Expectation(
            "the failed CreateModel reached the bus with its errorCode, and the rule kept it "
            "out of the queue",
            lambda: "CloudTrail CreateModel (ValidationException): failed-call" in self.bus_events
            and self.record("failed-call").version == 0))
        self.say("")
        ok = True
        for expectation in expectations:
            passed = bool(expectation.check())
            ok &= passed
            self.say(f"  [{'ok' if passed else 'FAILED'}] {expectation.description}")
        self.say("")
        self.say("demo: every expected outcome happened" if ok else "demo: FAILED (see above)")
        return ok


def run_demo(out: TextIO = sys.stdout, *, verbose: bool = False,
             dashboard_dir: Path = DEFAULT_DASHBOARD_DIR) -> int:
    """Start a moto server, run the scenario, stop the server; 0 when every check passed."""
    use_dummy_credentials(REGION)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if verbose else "WARNING")
    os.environ[Env.PROVISIONER_ROLE] = PROVISIONER_ROLE
    tap = SageMakerTap(SAGEMAKER_GUARDS)
    with moto_server(wrap=tap.around) as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        print(f"moto server on {url} (stopped at the end)", file=out, flush=True)
        demo = None
        try:
            demo = Demo(url, tap, out, dashboard_dir)
            return 0 if demo.run() else 1
        finally:
            if demo is not None:
                demo.trail.stop()
            os.environ.pop("AWS_ENDPOINT_URL", None)
