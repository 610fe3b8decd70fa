"""The bad-input catalogue: one table in code, rendered into docs/hostile-input.md.

Every row builds its AWS state and input on a fresh World and names the outcome the
public handler must end in (the metric of the same name is emitted). The test module
runs each row through an SQS batch and, where the input is one event object, through a
direct invoke too; `python -m tests.functional.hostile_catalogue` rewrites the doc from
this table and a test fails when the two disagree.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from model_access.core.outcomes import Outcome
from model_access_cli.local import cloudtrail
from tests.functional.world import ACCOUNT, REGION, World

DOC: Final = Path(__file__).resolve().parents[2] / "docs" / "hostile-input.md"
OTHER_ACCOUNT: Final = "999999999999"
PROVISIONER: Final = "model-access-provisioner"
SLR: Final = "AWSServiceRoleForAmazonSageMakerNotebooks"
SLR_PATH: Final = "/aws-service-role/sagemaker.amazonaws.com/"
ROLE_64: Final = "r" * 60 + "-x64"
NAME_63: Final = "Longest-Legal-Model-Name-" + "x" * 38
PREFIX_32: Final = "model-access-grants-for-owners--"
BIG_BATCH: Final = 10_000
BAD, GRANT, IGNORE, NO_TAG = (Outcome.BAD_EVENT, Outcome.GRANTED, Outcome.IGNORED,
                              Outcome.NO_OWNER_TAG)


@dataclass(frozen=True)
class Case:
    """The input of one row and what the truth says afterwards."""

    events: list[Any]
    """What is delivered: each item is one SQS body (JSON-encoded) or the direct-invoke event."""
    bodies: list[str | None] | None = None
    """Raw SQS bodies, when the input is not a JSON object (then there is no direct invoke)."""
    model: str | None = "m1"
    """The model the row is about (its ARN is checked in every policy afterwards)."""
    owner: str | None = None
    """The truth's owner: the only role that may hold `model` afterwards (None: nobody)."""
    settled: bool = True
    """False when the input was rightly dropped and the truth waits for the sweep."""
    outcomes: list[Outcome] | None = None
    """Per-record outcomes, when not every record ends in the row's outcome."""
    metrics: Mapping[Outcome, int] | None = None
    """Exact outcome metric counts for the batch, when not one per record (or per model)."""
    max_seconds: float = 10.0
    queue_arn: str | None = None
    """The `eventSourceARN` of the SQS records, when not the stack's own event queue."""


@dataclass(frozen=True)
class Row:
    """One line of the catalogue."""

    id: str
    group: str
    input: str
    outcome: Outcome
    build: Callable[[Scene], Case]
    why: str
    env: Mapping[str, str] = field(default_factory=dict)
    direct: bool = True
    """Whether the input is one event object, so the direct-invoke path is tested too."""
    queue: bool = True
    """Whether the row is delivered as an SQS batch (False: its point is the direct path)."""

    @property
    def metric(self) -> str:
        return self.outcome.value


@dataclass
class Scene:
    """The World of one row plus shorthands for the events rows are made of."""

    world: World
    deliver: Callable[[list[Any]], Any]
    """Deliver events through the handler before the snapshot (a state to start from)."""

    def owned(self, value: str | None, name: str = "m1", **kw: Any) -> dict[str, Any]:
        """Create a model whose owner tag is `value` and return its CreateModel event."""
        self.world.model(name, value)
        return self.world.create_event(name, **kw)

    def arn(self, name: str = "m1", account: str = ACCOUNT, region: str = REGION,
            partition: str = "aws") -> str:
        return f"arn:{partition}:sagemaker:{region}:{account}:model/{name}"

    def granted(self, name: str = "m1", owner: str = "alice") -> None:
        """A model already granted to `owner` through the handler."""
        self.deliver([self.owned(owner, name)])

    def append_owner_tag(self, value: str, name: str = "m1") -> dict[str, Any]:
        """AddTags of the owner key without deleting it first: moto appends a second value."""
        self.world.clients.sagemaker.add_tags(
            ResourceArn=self.world.arns[name], Tags=[{"Key": "owner-role", "Value": value}])
        return self.world.add_tags_event(name, value)


def with_detail(event: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    detail = dict(event["detail"])
    for key, value in changes.items():
        if value is _DROP:
            detail.pop(key, None)
        else:
            detail[key] = value
    return {**event, "detail": detail}


_DROP: Final = object()


def _role(scene: Scene, name: str, path: str = "/", tags: Mapping[str, str] | None = None) -> str:
    return scene.world.role(name, path, tags)


# --- envelope ---------------------------------------------------------------------------

def body_not_json(s: Scene) -> Case:
    s.owned("alice")
    return Case([], bodies=['{"detail-type": "AWS API Call via CloudTrail", '], owner="alice",
                settled=False)


def body_empty(s: Scene) -> Case:
    return Case([], bodies=[""], model=None)


def body_null(s: Scene) -> Case:
    return Case([], bodies=[None], model=None)


def json_array(s: Scene) -> Case:
    event = s.owned("alice")
    return Case([[event]], owner="alice", settled=False)


def json_scalar(s: Scene) -> Case:
    return Case(["CreateModel"], model=None)


def json_null(s: Scene) -> Case:
    return Case([None], model=None)


def no_detail(s: Scene) -> Case:
    event = s.owned("alice")
    event.pop("detail")
    return Case([event], owner="alice", settled=False)


def detail_not_object(s: Scene) -> Case:
    event = s.owned("alice")
    return Case([{**event, "detail": json.dumps(event["detail"])}], owner="alice",
                settled=False)


def wrong_source(s: Scene) -> Case:
    return Case([{**s.owned("alice"), "source": "com.attacker"}], owner="alice", settled=False)


def wrong_detail_type(s: Scene) -> Case:
    return Case([{**s.owned("alice"), "detail-type": "SageMaker Model State Change"}],
                owner="alice", settled=False)


def wrong_event_source(s: Scene) -> Case:
    return Case([with_detail(s.owned("alice"), eventSource="iam.amazonaws.com")], owner="alice",
                settled=False)


def unknown_event_name(s: Scene) -> Case:
    return Case([with_detail(s.owned("alice"), eventName="UpdateModel")], owner="alice",
                settled=False)


def failed_create(s: Scene) -> Case:
    s.world.model("m1", "alice")
    return Case([cloudtrail.envelope(cloudtrail.create_model(
        "m1", s.arn(), {"owner-role": "alice"}, error_code="AccessDenied"))], owner="alice",
        settled=False)


def failed_delete(s: Scene) -> Case:
    s.granted()
    return Case([cloudtrail.envelope(cloudtrail.delete_model("m1", error_code="AccessDenied"))],
                owner="alice")


def create_without_request_parameters(s: Scene) -> Case:
    return Case([with_detail(s.owned("alice"), requestParameters=None)], owner="alice")


def delete_without_request_parameters(s: Scene) -> Case:
    s.granted()
    s.world.delete_model("m1")
    return Case([with_detail(s.world.delete_event("m1"), requestParameters=_DROP)],
                settled=False)


def add_tags_without_request_parameters(s: Scene) -> Case:
    s.granted()
    _role(s, "carol")
    s.world.set_owner("m1", "carol")
    return Case([with_detail(s.world.add_tags_event("m1", "carol"), requestParameters=None)],
                owner="carol", settled=False)


def create_without_arn_or_name(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = with_detail(s.world.create_event("m1"), requestParameters=None,
                        responseElements=None)
    return Case([event], owner="alice", settled=False)


def create_with_name_only(s: Scene) -> Case:
    return Case([with_detail(s.owned("alice"), responseElements=None)], owner="alice")


def name_and_arn_disagree(s: Scene) -> Case:
    s.owned("alice")
    s.owned("alice", "m2")
    event = cloudtrail.envelope(cloudtrail.create_model("m1", s.world.arns["m2"]))
    return Case([event], owner="alice", settled=False)


def foreign_account_arn(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = cloudtrail.envelope(cloudtrail.create_model("m1", s.arn(account=OTHER_ACCOUNT)))
    return Case([event], owner="alice", settled=False)


def foreign_account_event(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = cloudtrail.envelope(cloudtrail.create_model("m1", s.arn(), account=OTHER_ACCOUNT))
    return Case([event], owner="alice", settled=False)


def foreign_twin(s: Scene) -> Case:
    real = s.owned("alice")
    twin = json.loads(json.dumps(real).replace(ACCOUNT, OTHER_ACCOUNT))
    return Case([twin, real], owner="alice", outcomes=[Outcome.ACCOUNT_NOT_MEMBER, GRANT],
                metrics={Outcome.ACCOUNT_NOT_MEMBER: 1, GRANT: 1})


def foreign_region_arn(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = cloudtrail.envelope(cloudtrail.create_model("m1", s.arn(region="eu-west-1")))
    return Case([event], owner="alice", settled=False)


def foreign_region_event(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = cloudtrail.envelope(cloudtrail.create_model(
        "m1", s.arn(region="eu-west-1"), region="eu-west-1"))
    return Case([event], owner="alice", settled=False)


def foreign_partition_arn(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = cloudtrail.envelope(cloudtrail.create_model("m1", s.arn(partition="aws-cn")))
    return Case([event], owner="alice", settled=False)


def add_tags_on_endpoint(s: Scene) -> Case:
    s.granted()
    endpoint = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/m1"
    return Case([cloudtrail.envelope(cloudtrail.add_tags(endpoint, {"owner-role": "mallory"}))],
                owner="alice")


def add_tags_other_key(s: Scene) -> Case:
    s.granted()
    return Case([cloudtrail.envelope(cloudtrail.add_tags(s.arn(), {"cost-center": "42"}))],
                owner="alice")


def record_256_kb(s: Scene) -> Case:
    event = s.owned("alice")
    params = event["detail"]["requestParameters"]
    params["primaryContainer"]["environment"] = {"PAD": "x" * (256 * 1024 - 2048)}
    size = len(json.dumps(event))
    assert 250 * 1024 <= size <= 256 * 1024, size
    return Case([event], owner="alice")


def record_over_1_mib(s: Scene) -> Case:
    event = s.owned("alice")
    event["detail"]["requestParameters"]["primaryContainer"]["environment"] = {
        "PAD": "x" * (1024 * 1024)}
    return Case([event], owner="alice", settled=False)


def batch_of_10000(s: Scene) -> Case:
    """One real CreateModel 5,000 times, and 5,000 bodies of nine kinds of junk."""
    event = s.owned("alice")
    good = json.dumps(event)
    junk = [("{", BAD), ("[]", BAD), ("null", BAD), ('"x"', BAD), ("x" * 1000, BAD),
            (json.dumps({**event, "source": "x"}), BAD),
            (json.dumps({**event, "detail": None}), BAD),
            (json.dumps(with_detail(event, eventSource="x")), BAD),
            (json.dumps(with_detail(event, eventName="X")), IGNORE)]
    bodies: list[str | None] = []
    outcomes: list[Outcome] = []
    for i in range(BIG_BATCH // 2):
        body, outcome = junk[i % len(junk)]
        bodies += [good, body]
        outcomes += [GRANT, outcome]
    ignored = outcomes.count(IGNORE)
    return Case([], bodies=bodies, owner="alice", outcomes=outcomes,
                metrics={GRANT: 1, BAD: BIG_BATCH // 2 - ignored, IGNORE: ignored},
                max_seconds=60.0)


def same_record_twice(s: Scene) -> Case:
    event = s.owned("alice")
    return Case([event, event], owner="alice", metrics={GRANT: 1})


def reconcile_bad_arn(s: Scene) -> Case:
    s.owned("alice")
    event = {"version": "0", "id": "r-1", "source": "model-access",
             "detail-type": "Reconcile Model", "region": REGION, "resources": [],
             "detail": {"modelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/*"}}
    return Case([event], owner="alice", settled=False)


def reconcile_as_event_name(s: Scene) -> Case:
    return Case([with_detail(s.owned("alice"), eventName="Reconcile")], owner="alice",
                settled=False)


def no_region(s: Scene) -> Case:
    event = with_detail(s.owned("alice"), awsRegion=_DROP)
    event.pop("region")
    return Case([event], owner="alice", settled=False)


def lying_create(s: Scene) -> Case:
    _role(s, "mallory")
    s.world.model("m1", "alice")
    return Case([s.world.create_event("m1", "mallory")], owner="alice")


def delete_event_for_live_model(s: Scene) -> Case:
    s.granted()
    return Case([s.world.delete_event("m1")], owner="alice")


def identity_not_object(s: Scene) -> Case:
    return Case([with_detail(s.owned("alice"), userIdentity="root")], owner="alice")


# --- owner tag ---------------------------------------------------------------------------

def owner(value: str | None, *roles: str, granted: str | None = None) -> Callable[[Scene], Case]:
    """A model tagged `value`; `roles` exist (so a wrong reading could grant to them)."""
    def build(s: Scene) -> Case:
        for role in roles:
            if role in {"alice", "bob"}:
                continue  # every row's bystander state has them
            if role == SLR:
                _role(s, SLR, SLR_PATH)
            elif role == PROVISIONER:
                _role(s, PROVISIONER, "/service/")
            elif role == "ml-platform":
                _role(s, role, "/teams/")
            else:
                _role(s, role)
        return Case([s.owned(value)], owner=granted)
    return build


def duplicate_owner(second: str, granted: str | None = None) -> Callable[[Scene], Case]:
    """alice holds m1; then AddTags sets the owner key again (moto appends, AWS overwrites)."""
    def build(s: Scene) -> Case:
        _role(s, "carol")
        s.granted()
        return Case([s.append_owner_tag(second)], owner=granted)
    return build


def other_case_key(s: Scene) -> Case:
    s.world.model("m1", extra_tags={"Owner-Role": "alice"})
    return Case([s.world.create_event("m1")])


# --- names -------------------------------------------------------------------------------

def mixed_case_name(s: Scene) -> Case:
    s.owned("alice", "Churn-Predictor-V3")
    arn = s.world.clients.sagemaker.describe_model(ModelName="Churn-Predictor-V3")["ModelArn"]
    assert arn == s.world.arns["Churn-Predictor-V3"]
    return Case([s.world.create_event("Churn-Predictor-V3")], model="Churn-Predictor-V3",
                owner="alice")


def mixed_case_delete(s: Scene) -> Case:
    s.granted("Churn-Predictor-V3")
    s.world.delete_model("Churn-Predictor-V3")
    return Case([s.world.delete_event("churn-predictor-v3")], model="Churn-Predictor-V3")


def longest_model_name(s: Scene) -> Case:
    assert len(NAME_63) == 63
    return Case([s.owned("alice", NAME_63)], model=NAME_63, owner="alice")


def model_name_64(s: Scene) -> Case:
    return Case([s.world.delete_event(NAME_63 + "x")], model=None)


def model_name_illegal(s: Scene) -> Case:
    return Case([s.world.delete_event("m1_../*")], model=None)


def model_name_newline(s: Scene) -> Case:
    s.granted()
    return Case([s.world.delete_event("m1\n")], owner="alice")


def role_name_64(s: Scene) -> Case:
    assert len(ROLE_64) == 64
    _role(s, ROLE_64)
    return Case([s.owned(ROLE_64, NAME_63)], model=NAME_63, owner=ROLE_64)


def role_name_65(s: Scene) -> Case:
    _role(s, ROLE_64)
    return Case([s.owned(ROLE_64 + "5")])


def role_arn(name: str, account: str = ACCOUNT, path: str = "/", partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role{path}{name}"


# --- trust: who is believed ----------------------------------------------------------------

def retagged_by_mallory(s: Scene) -> None:
    """alice holds m1; mallory (allowed only sagemaker:AddTags) re-tags it to herself."""
    _role(s, "mallory")
    s.granted()
    s.world.set_owner("m1", "mallory")


def forged_owner_claim(s: Scene) -> Case:
    retagged_by_mallory(s)
    return Case([s.world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("alice"))],
                owner="alice")


def forged_claim_from_other_queue(s: Scene) -> Case:
    retagged_by_mallory(s)
    return Case([s.world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("alice"))],
                owner="alice", queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:mallory-queue")


def stranger_retag(s: Scene) -> Case:
    retagged_by_mallory(s)
    return Case([s.world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("mallory"))],
                owner="alice")


def not_opted_in(s: Scene) -> Case:
    s.world.role("dave", eligible=False)
    return Case([s.owned("dave")])


# --- registry (model package groups) ----------------------------------------------------

def _group_granted(s: Scene, owner_role: str = "alice", name: str = "g1") -> str:
    """A group tagged `owner_role`, already granted through the handler."""
    arn = s.world.group(name, owner_role)
    s.deliver([s.world.create_group_event(name)])
    return arn


def group_arn_of_another_account(s: Scene) -> Case:
    arn = _group_granted(s)
    foreign = arn.replace(f":{ACCOUNT}:", f":{OTHER_ACCOUNT}:")
    return Case([s.world.delete_group_event(foreign)], model="group:g1", owner="alice")


def group_arn_of_another_region(s: Scene) -> Case:
    arn = _group_granted(s)
    return Case([s.world.delete_group_event(arn.replace(f":{REGION}:", ":eu-west-1:"))],
                model="group:g1", owner="alice")


def _version_tags(s: Scene, tags: Mapping[str, str]) -> Case:
    _group_granted(s)
    version = s.world.version("g1")
    return Case([cloudtrail.envelope(cloudtrail.add_tags(version, tags))], model="group:g1",
                owner="alice")


def owner_tag_on_a_version(s: Scene) -> Case:
    return _version_tags(s, {"owner-role": "bob"})


def other_tag_on_a_version(s: Scene) -> Case:
    return _version_tags(s, {"stage": "approved"})


def group_deleted_before_reconcile(s: Scene) -> Case:
    """The group's AddTags event arrives after the group is gone."""
    _group_granted(s)
    s.world.delete_group("g1")
    event = cloudtrail.envelope(cloudtrail.add_tags(s.world.arns["group:g1"],
                                                    {"owner-role": "alice"}))
    return Case([event], model="group:g1", owner=None)


def model_and_group_of_one_name(s: Scene) -> Case:
    """Model m1 granted to alice; then, in one batch, its event again and group m1's (bob):
    alice's policy must not change at all, and only bob may hold the group."""
    s.granted("m1", "alice")
    s.world.group("m1", "bob")
    return Case([s.world.create_event("m1"), s.world.create_group_event("m1")],
                model="group:m1", owner="bob", outcomes=[Outcome.UNCHANGED, GRANT],
                metrics={GRANT: 1, Outcome.UNCHANGED: 1})


def group_owner_with_8_of_10_taken(s: Scene) -> Case:
    s.world.attach_foreign_policies("alice", 8)
    s.world.group("g1", "alice")
    return Case([s.world.create_group_event("g1")], model="group:g1", owner="alice")


def group_owner_with_no_slot_left(s: Scene) -> Case:
    s.world.attach_foreign_policies("alice", 10)
    s.world.group("g1", "alice")
    return Case([s.world.create_group_event("g1")], model="group:g1", owner=None)


# --- organization -------------------------------------------------------------------------

MEMBER: Final = "111111111111"
ORG_REGIONS: Final = {"MODEL_ACCESS_REGIONS": "eu-west-1"}


def unserved_account(s: Scene) -> Case:
    event = cloudtrail.envelope(cloudtrail.create_model(
        "m1", s.arn(account=OTHER_ACCOUNT), account=OTHER_ACCOUNT))
    return Case([event], model=None)


def _organization(s: Scene) -> str:
    """The hub (moto's default account) creates the organization; one member, closed."""
    orgs = s.world.clients.organizations
    orgs.create_organization(FeatureSet="ALL")
    closed: str = orgs.create_account(Email="gone@example.com", AccountName="gone")[
        "CreateAccountStatus"]["AccountId"]
    orgs.close_account(AccountId=closed)
    return closed


def outside_the_organization(s: Scene) -> Case:
    _organization(s)
    return unserved_account(s)


def closed_member(s: Scene) -> Case:
    closed = _organization(s)
    event = cloudtrail.envelope(cloudtrail.create_model(
        "m1", s.arn(account=closed), account=closed))
    return Case([event], model=None)


def native_event_of_two_accounts(s: Scene) -> Case:
    s.world.model("m1", "alice")
    event = s.world.native_event("m1")
    event["detail"]["ModelArn"] = s.arn(account=MEMBER)
    return Case([event], owner="alice", settled=False)


def forwarded_member_event(s: Scene) -> Case:
    from tests.functional.members import account_clients, create_event, model, owner_role

    member = account_clients(s.world.clients, MEMBER)
    owner_role(member, "alice")
    return Case([create_event("m1", model(member, "m1", "alice"), MEMBER)], model=None)


def unserved_region(s: Scene) -> Case:
    event = cloudtrail.envelope(cloudtrail.create_model(
        "m1", s.arn(region="ap-south-1"), region="ap-south-1"))
    return Case([event], model=None)


ROWS: Final[tuple[Row, ...]] = (
    # Envelope
    Row("E01", "envelope", "SQS body that is not JSON", BAD, body_not_json,
        "final: a redelivery cannot fix it; the sweep grants what the lost event named",
        direct=False),
    Row("E02", "envelope", "empty SQS body", BAD, body_empty, "nothing to parse", direct=False),
    Row("E03", "envelope", "SQS body `null` (absent)", BAD, body_null, "nothing to parse",
        direct=False),
    Row("E04", "envelope", "JSON array instead of an object", BAD, json_array,
        "an EventBridge event is always an object"),
    Row("E05", "envelope", "JSON string instead of an object", BAD, json_scalar,
        "an EventBridge event is always an object"),
    Row("E06", "envelope", "JSON `null` as the event", BAD, json_null,
        "an EventBridge event is always an object"),
    Row("E07", "envelope", "`detail` missing", BAD, no_detail, "no CloudTrail record to read"),
    Row("E08", "envelope", "`detail` is a string, not an object", BAD, detail_not_object,
        "no CloudTrail record to read"),
    Row("E09", "envelope", "wrong `source` (`com.attacker`)", BAD, wrong_source,
        "only `aws.sagemaker` (and the tool's own reconcile requests) are trusted"),
    Row("E10", "envelope", "wrong `detail-type` (`SageMaker Model State Change`)", BAD,
        wrong_detail_type, "only CloudTrail-shaped events are understood"),
    Row("E11", "envelope", "`detail.eventSource` of another service", BAD, wrong_event_source,
        "not a SageMaker call"),
    Row("E12", "envelope", "unknown `eventName` (`UpdateModel`)", IGNORE, unknown_event_name,
        "well-formed but not a call this tool reacts to"),
    Row("E13", "envelope", "failed CreateModel (`errorCode` present)", IGNORE, failed_create,
        "a failed call changed nothing; the model of that name is someone else's"),
    Row("E14", "envelope", "failed DeleteModel (`errorCode` present) of a granted model", IGNORE,
        failed_delete, "the model still exists: its owner keeps access"),
    Row("E15", "envelope", "CreateModel without `requestParameters` (CloudTrail omits >100 KB)",
        GRANT, create_without_request_parameters,
        "`responseElements.modelArn` names the model; tags are read from SageMaker"),
    Row("E16", "envelope", "DeleteModel without `requestParameters`", BAD,
        delete_without_request_parameters,
        "no model named; the stale grant stays until the sweep revokes it"),
    Row("E17", "envelope", "AddTags without `requestParameters`", BAD,
        add_tags_without_request_parameters,
        "no resource named; the old grant stays until the sweep moves it (in protected mode "
        "the sweep keeps it with alice: it cannot tell who re-tagged)",
        {"MODEL_ACCESS_OWNER_CHANGE_MODE": "open"}),
    Row("E18", "envelope", "CreateModel without `modelArn` or `modelName`", BAD,
        create_without_arn_or_name, "no model named"),
    Row("E19", "envelope", "CreateModel with `modelName` but no `modelArn`", GRANT,
        create_with_name_only, "the name is enough: SageMaker returns the ARN"),
    Row("E20", "envelope", "`modelName` and `modelArn` name different models", BAD,
        name_and_arn_disagree, "a record that contradicts itself is not trusted"),
    Row("E21", "envelope", "model ARN of another account", Outcome.ACCOUNT_NOT_MEMBER,
        foreign_account_arn, "the hub serves its own account and `MODEL_ACCESS_MEMBER_ACCOUNTS` "
        "only; refused before any AWS call"),
    Row("E22", "envelope", "event of another account (`recipientAccountId`) naming our model",
        Outcome.FOREIGN_MODEL, foreign_account_event,
        "a record that contradicts itself is not acted on; the sweep settles the model"),
    Row("E23", "envelope", "a foreign-account twin of a real CreateModel, in the same batch",
        Outcome.ACCOUNT_NOT_MEMBER, foreign_twin,
        "judged per record: the twin is refused, the real event next to it is granted",
        direct=False),
    Row("E24", "envelope", "model ARN of another region (event's region ours)",
        Outcome.FOREIGN_MODEL, foreign_region_arn,
        "this deployment serves one region; the ARN is not ours to grant"),
    Row("E25", "envelope", "event and model ARN of another region", Outcome.FOREIGN_MODEL,
        foreign_region_event, "this deployment serves one region"),
    Row("E26", "envelope", "model ARN of another partition (`aws-cn`)", Outcome.FOREIGN_MODEL,
        foreign_partition_arn, "this deployment serves one partition"),
    Row("E27", "envelope", "AddTags on an endpoint ARN", IGNORE, add_tags_on_endpoint,
        "AddTags fires for every SageMaker resource; only models matter"),
    Row("E28", "envelope", "AddTags of another tag key", IGNORE, add_tags_other_key,
        "cannot change the owner; costs no AWS call"),
    Row("E29", "envelope", "record of 256 KB (valid CreateModel, padded)", GRANT, record_256_kb,
        "size alone is no reason to refuse"),
    Row("E30", "envelope", "record over 1 MiB", BAD, record_over_1_mib,
        "larger than any SQS message can be", direct=False),
    Row("E31", "envelope",
        f"batch of {BIG_BATCH:,} records: one CreateModel 5,000 times and 5,000 junk bodies",
        GRANT, batch_of_10000,
        "one reconcile for the model (one metric), one BadEvent/Ignored per junk record; "
        "answers in bounded time", direct=False),
    Row("E32", "envelope", "the same record twice in one batch", GRANT, same_record_twice,
        "coalesced: one reconcile, one IAM write set, one metric", direct=False),
    Row("E33", "envelope", "reconcile request with a wildcard `modelArn`", BAD,
        reconcile_bad_arn, "a wildcard never names a model"),
    Row("E34", "envelope", "`eventName` `Reconcile` inside a CloudTrail record", BAD,
        reconcile_as_event_name, "not a CloudTrail event name"),
    Row("E35", "envelope", "no region anywhere in the event", BAD, no_region,
        "cannot tell which model is meant"),
    Row("E36", "envelope", "CreateModel whose request tags name `mallory`; the model says "
        "`alice`", GRANT, lying_create,
        "the event is only a hint: the truth is read from SageMaker"),
    Row("E37", "envelope", "DeleteModel for a model that still exists", Outcome.UNCHANGED,
        delete_event_for_live_model, "the truth wins: the owner keeps access"),
    Row("E38", "envelope", "`userIdentity` is a string, not an object", GRANT, identity_not_object,
        "the caller only matters in protected mode"),
    # Owner tag
    Row("O01", "owner tag", "absent", NO_TAG, owner(None), "nobody to grant"),
    Row("O02", "owner tag", "empty", Outcome.INVALID_OWNER, owner(""), "not a role"),
    Row("O03", "owner tag", "whitespace only", Outcome.INVALID_OWNER, owner("   "), "not a role"),
    Row("O04", "owner tag", "300 characters", Outcome.INVALID_OWNER, owner("a" * 300, "a" * 64),
        "longer than a tag value can be"),
    Row("O05", "owner tag", "`*`", Outcome.INVALID_OWNER, owner("*", "bob"),
        "wildcards never name a principal"),
    Row("O06", "owner tag", "`arn:aws:iam::*:role/*`", Outcome.INVALID_OWNER,
        owner("arn:aws:iam::*:role/*", "bob"), "wildcards never name a principal"),
    Row("O07", "owner tag", "`ali*` (wildcard in a name)", Outcome.INVALID_OWNER,
        owner("ali*"), "wildcards never name a principal"),
    Row("O08", "owner tag", "a user ARN (`...:user/eve`; a role `eve` exists too)",
        Outcome.INVALID_OWNER, owner(f"arn:aws:iam::{ACCOUNT}:user/eve", "eve"),
        "only roles are granted"),
    Row("O09", "owner tag", "role ARN of another account (a role of that name exists here)",
        Outcome.FOREIGN_OWNER, owner(role_arn("alice", OTHER_ACCOUNT)),
        "never grant to a principal of another account"),
    Row("O10", "owner tag", "role ARN of another partition", Outcome.FOREIGN_OWNER,
        owner(role_arn("alice", partition="aws-cn")), "never grant across partitions"),
    Row("O11", "owner tag", "role with a path, as a full ARN", GRANT,
        owner(role_arn("ml-platform", path="/teams/"), "ml-platform", granted="ml-platform"),
        "a same-account role ARN is a valid owner"),
    Row("O12", "owner tag", "role with a path, by bare name", GRANT,
        owner("ml-platform", "ml-platform", granted="ml-platform"),
        "role names are unique in an account, whatever the path"),
    Row("O13", "owner tag", "role ARN whose path differs from the role's", Outcome.ROLE_NOT_FOUND,
        owner(role_arn("ml-platform", path="/other/"), "ml-platform"),
        "the ARN names a role that does not exist"),
    Row("O14", "owner tag", "role ARN with `..` in the path (`role/../admin`)",
        Outcome.ROLE_NOT_FOUND, owner(role_arn("admin", path="/../"), "admin"),
        "no path traversal: the path must match exactly"),
    Row("O15", "owner tag", "a service-linked role, by name", Outcome.SERVICE_LINKED_ROLE,
        owner(SLR, SLR), "AWS manages it; never grant to it"),
    Row("O16", "owner tag", "a service-linked role, by ARN", Outcome.SERVICE_LINKED_ROLE,
        owner(role_arn(SLR, path=SLR_PATH), SLR), "AWS manages it; never grant to it"),
    Row("O17", "owner tag", "the provisioner's own role, by name", Outcome.PROVISIONER_ROLE,
        owner(PROVISIONER, PROVISIONER), "the tool never grants to itself"),
    Row("O18", "owner tag", "the provisioner's own role, by ARN", Outcome.PROVISIONER_ROLE,
        owner(role_arn(PROVISIONER, path="/service/"), PROVISIONER),
        "the tool never grants to itself"),
    Row("O19", "owner tag", "a denylisted role (`MODEL_ACCESS_DENY_ROLES=admin`)",
        Outcome.DENIED_ROLE, owner("admin", "admin"), "operators exclude privileged roles",
        {"MODEL_ACCESS_DENY_ROLES": "break-glass,admin"}),
    Row("O20", "owner tag", "a role outside `MODEL_ACCESS_ROLE_PATH_PREFIX=/teams/`, with "
        "`MODEL_ACCESS_ROLE_TAG=*` (the path is the only way in)",
        Outcome.INELIGIBLE_ROLE, owner("alice"), "only eligible roles are granted",
        {"MODEL_ACCESS_ROLE_PATH_PREFIX": "/teams/", "MODEL_ACCESS_ROLE_TAG": "*"}),
    Row("O21", "owner tag", "a role without the eligibility tag (`MODEL_ACCESS_ROLE_TAG`)",
        Outcome.INELIGIBLE_ROLE, owner("alice"), "only eligible roles are granted",
        {"MODEL_ACCESS_ROLE_TAG": "model-access=eligible"}),
    Row("O22", "owner tag", "a role that does not exist", Outcome.ROLE_NOT_FOUND,
        owner("ghost"), "nobody to grant"),
    Row("O23", "owner tag", "odd characters (`alice;rm -rf /`)", Outcome.INVALID_OWNER,
        owner("alice;rm -rf /"), "not a role name"),
    Row("O24", "owner tag", "look-alike letters (Cyrillic `\u0430` in `\u0430lice`)",
        Outcome.INVALID_OWNER, owner("\u0430lice"), "role names are ASCII"),
    Row("O25", "owner tag", "leading space (` alice`)", Outcome.INVALID_OWNER, owner(" alice"),
        "never trimmed into another principal's name"),
    Row("O26", "owner tag", "a newline (`alice\\nbob`)", Outcome.INVALID_OWNER,
        owner("alice\nbob", "bob"), "not a role name"),
    Row("O27", "owner tag", "a trailing newline (`alice\\n`)", Outcome.INVALID_OWNER,
        owner("alice\n"), "not a role name (a regex `$` would accept it)"),
    Row("O28", "owner tag", "a path in a bare name (`teams/ml-platform`)",
        Outcome.INVALID_OWNER, owner("teams/ml-platform", "ml-platform"),
        "a path needs the full ARN"),
    Row("O29", "owner tag", "an STS assumed-role ARN", Outcome.INVALID_OWNER,
        owner(f"arn:aws:sts::{ACCOUNT}:assumed-role/alice/s"), "a session is not a role"),
    Row("O30", "owner tag", "an instance-profile ARN", Outcome.INVALID_OWNER,
        owner(f"arn:aws:iam::{ACCOUNT}:instance-profile/alice"), "only roles are granted"),
    Row("O31", "owner tag", "role ARN without an account (`arn:aws:iam:::role/alice`)",
        Outcome.INVALID_OWNER, owner("arn:aws:iam:::role/alice"), "not a valid role ARN"),
    Row("O32", "owner tag", "the owner key twice with different values (`alice` granted, then "
        "AddTags `carol`, which moto appends)", Outcome.AMBIGUOUS_OWNER,
        duplicate_owner("carol"), "neither value wins and alice's grant is revoked: see below "
        "(protected mode instead keeps it with alice as `OwnerChangeDenied`)",
        {"MODEL_ACCESS_OWNER_CHANGE_MODE": "open"}),
    Row("O33", "owner tag", "the owner key twice with the same value", Outcome.UNCHANGED,
        duplicate_owner("alice", granted="alice"), "one owner, named twice"),
    Row("O34", "owner tag", "the key in another letter case (`Owner-Role`)", NO_TAG, other_case_key,
        "tag keys are case-sensitive"),
    Row("O35", "owner tag", "a role that has not opted in (no `model-access:eligible=true` tag, "
        "no configured path: the default)", Outcome.INELIGIBLE_ROLE, not_opted_in,
        "roles opt in; naming a role in a tag is not enough"),
    # Trust
    Row("T01", "trust", "AddTags naming the owner `alice` as its caller, invoked directly, after "
        "`mallory` re-tagged alice's model to herself", Outcome.UNVERIFIED_CALLER,
        forged_owner_claim, "a direct invoke is a hint, never an identity: the model is "
        "reconciled, the named caller is not believed, the grant stays with alice",
        queue=False),
    Row("T02", "trust", "the same forged AddTags in an SQS record from another queue "
        "(`eventSourceARN` not the stack's event queue)", Outcome.UNVERIFIED_CALLER,
        forged_claim_from_other_queue, "only the EventBridge-only event queue vouches for a "
        "caller", direct=False),
    Row("T03", "trust", "AddTags by `mallory` re-pointing alice's model to herself, from the "
        "event queue (protected mode, the default)", Outcome.OWNER_CHANGE_DENIED,
        stranger_retag, "only the current owner or `MODEL_ACCESS_OWNER_CHANGE_ALLOW` may "
        "move a grant"),
    # Names
    Row("N01", "names", "mixed-case model name (`Churn-Predictor-V3`)", GRANT, mixed_case_name,
        "the granted ARN is the one SageMaker returns, letter case kept"),
    Row("N02", "names", "DeleteModel naming a mixed-case model in lower case", Outcome.REVOKED,
        mixed_case_delete, "SageMaker names are case-insensitive; so is the record's key"),
    Row("N03", "names", "longest legal model name (63 characters)", GRANT, longest_model_name,
        "fits the ARN, the policy and the record"),
    Row("N04", "names", "model name of 64 characters", BAD, model_name_64,
        "longer than SageMaker allows"),
    Row("N05", "names", "model name with illegal characters (`m1_../*`)", BAD,
        model_name_illegal, "not a SageMaker model name"),
    Row("N06", "names", "model name with a trailing newline (`m1\\n`)", BAD,
        model_name_newline, "not a SageMaker model name (a regex `$` would accept it)"),
    Row("N07", "names", "role name at the 64-character limit, with a 32-character policy "
        "name prefix", GRANT, role_name_64,
        "policy name = prefix + role + `-NN`: at most 32 + 64 + 3 = 99 of 128 characters",
        {"MODEL_ACCESS_POLICY_NAME_PREFIX": PREFIX_32}),
    Row("N08", "names", "role name of 65 characters", Outcome.INVALID_OWNER, role_name_65,
        "longer than IAM allows"),
    # Registry
    Row("R01", "registry", "DeleteModelPackageGroup naming the group by an ARN of another "
        "account", Outcome.ACCOUNT_NOT_MEMBER, group_arn_of_another_account,
        "the name member may hold an ARN: it is checked like any ARN; alice keeps her grant"),
    Row("R02", "registry", "DeleteModelPackageGroup naming the group by an ARN of another "
        "region", Outcome.FOREIGN_MODEL, group_arn_of_another_region,
        "this deployment serves one region"),
    Row("R03", "registry", "AddTags of the owner tag on a version (`model-package/<G>/<n>`)",
        Outcome.VERSION_OWNER_TAG, owner_tag_on_a_version,
        "versions follow their group's owner tag; a tag on one never moves a grant"),
    Row("R04", "registry", "AddTags of another tag on a version", IGNORE,
        other_tag_on_a_version, "cannot change an owner; costs no AWS call"),
    Row("R05", "registry", "AddTags event of a group deleted before the reconcile",
        Outcome.REVOKED, group_deleted_before_reconcile,
        "the truth wins: the group is gone, so is its grant"),
    Row("R06", "registry", "a model (alice) and a model package group (bob) of the same "
        "name, both events in one batch", GRANT, model_and_group_of_one_name,
        "two kinds, two keys, two records: bob gets the group, alice's policy does not change",
        direct=False),
    Row("R07", "registry", "group whose owner role has 8 of its 10 managed-policy slots "
        "taken by others", GRANT, group_owner_with_8_of_10_taken,
        "two slots left: one tool policy is enough"),
    Row("R08", "registry", "group whose owner role has all 10 slots taken by others",
        Outcome.CAPACITY_EXHAUSTED, group_owner_with_no_slot_left,
        "never detach someone else's policy; the refusal is logged and counted"),
    Row("G01", "organization", "event of an account not in `MODEL_ACCESS_MEMBER_ACCOUNTS`",
        Outcome.ACCOUNT_NOT_MEMBER, unserved_account,
        "nothing is read or written there: refused before any AWS call",
        env={"MODEL_ACCESS_MEMBER_ACCOUNTS": MEMBER}),
    Row("G02", "organization", "`organization` mode: an account outside the organization",
        Outcome.ACCOUNT_NOT_MEMBER, outside_the_organization,
        "Organizations does not know it", env={"MODEL_ACCESS_MEMBER_ACCOUNTS": "organization"}),
    Row("G03", "organization", "`organization` mode: a closed (SUSPENDED) member",
        Outcome.ACCOUNT_NOT_MEMBER, closed_member, "only ACTIVE accounts are members",
        env={"MODEL_ACCESS_MEMBER_ACCOUNTS": "organization"}),
    Row("G04", "organization", "SageMaker's own event naming its model in two accounts "
        "(`resources` and `detail.ModelArn`)", BAD, native_event_of_two_accounts,
        "an event that contradicts itself is not believed; the sweep settles the model",
        env={"MODEL_ACCESS_MEMBER_ACCOUNTS": MEMBER}),
    Row("G05", "organization", "forwarded event: the envelope names the hub, the record a "
        "served member", GRANT, forwarded_member_event,
        "the envelope is never read (forwarding rewrites it): the member's alice is granted "
        "(in the member's IAM: test_organization_engine.py); the hub's IAM does not change",
        env={"MODEL_ACCESS_MEMBER_ACCOUNTS": MEMBER}),
    Row("G06", "organization", "model of a region neither home nor in `MODEL_ACCESS_REGIONS`",
        Outcome.FOREIGN_MODEL, unserved_region, "this deployment does not serve that region",
        env=ORG_REGIONS),
)


def expected_metrics(row: Row, case: Case, records: int) -> Counter[str]:
    """The outcome metrics one batch of this row emits."""
    if case.metrics is not None:
        return Counter({o.value: n for o, n in case.metrics.items() if n})
    per_record = row.outcome in (Outcome.BAD_EVENT, Outcome.IGNORED)
    return Counter({row.metric: records if per_record else 1})


def render() -> str:
    """The catalogue as Markdown (the docs/hostile-input.md table)."""
    lines = ["| # | group | input | outcome (= metric) | why |", "|---|---|---|---|---|"]
    for row in ROWS:
        env = "; ".join(f"`{k}={v}`" for k, v in row.env.items())
        why = f"{row.why} ({env})" if env and "`MODEL_ACCESS" not in row.input else row.why
        lines.append(f"| {row.id} | {row.group} | {row.input} | `{row.metric}` | {why} |")
    return "\n".join(lines) + "\n"


BEGIN: Final = ("<!-- catalogue:begin (generated by python -m "
                "tests.functional.hostile_catalogue) -->")
END: Final = "<!-- catalogue:end -->"


def table_in_doc(text: str) -> str:
    """The generated part of the doc."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n") + "\n"


def main() -> int:
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + render() + text[end:])
    print(f"{DOC}: {len(ROWS)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
