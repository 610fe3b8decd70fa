"""Turn an EventBridge event into a typed hint about one resource (a model or a model
package group: the kinds in `kinds/` say which CloudTrail events create and delete each).

Three kinds arrive: CloudTrail records of SageMaker API calls ("AWS API Call via
CloudTrail"), SageMaker's own "SageMaker Model State Change" events (sent when a model is
created or deleted, in near real time and with no trail, but naming no caller), and
operators' "Reconcile Model" requests. Each is only a hint: the reconcile re-reads the
truth from SageMaker, so a native event need not say whether the model was created or
deleted, and tags inside any event are never believed. The parser is pure and strict:
anything it cannot understand raises BadEventError with a reason; things it understands
but that need no work come back as `Ignored`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from model_access.core.arns import (
    MODEL_KIND,
    ResourceKey,
    is_valid_model_name,
    parse_model_arn,
    parse_resource_arn,
)
from model_access.core.errors import BadEventError
from model_access.core.outcomes import Outcome
from model_access.model.kinds import KINDS, CreateEvent, ResourceKind, child_parent, kind_named

CLOUDTRAIL_DETAIL_TYPE: Final = "AWS API Call via CloudTrail"
MODEL_STATE_DETAIL_TYPE: Final = "SageMaker Model State Change"
SAGEMAKER_SOURCE: Final = "aws.sagemaker"
SAGEMAKER_EVENT_SOURCE: Final = "sagemaker.amazonaws.com"
RECONCILE_SOURCE: Final = "model-access"
RECONCILE_DETAIL_TYPE: Final = "Reconcile Model"
MAX_EVENT_BYTES: Final = 1_048_576
"""SQS's largest message (1 MiB); a bigger body cannot be a real delivery."""


class Trigger(StrEnum):
    """What made us look at a model: a handled SageMaker API call (CloudTrail), SageMaker's
    own state-change event, or a manual reconcile (operator, backfill, sweep)."""

    CREATE = "CreateModel"
    DELETE = "DeleteModel"
    CREATE_GROUP = "CreateModelPackageGroup"
    DELETE_GROUP = "DeleteModelPackageGroup"
    ADD_TAGS = "AddTags"
    DELETE_TAGS = "DeleteTags"
    MODEL_STATE_CHANGE = "ModelStateChange"
    RECONCILE = "Reconcile"

    @property
    def via(self) -> str:
        """The path the hint came by, for the log line: cloudtrail, native or reconcile."""
        if self is Trigger.MODEL_STATE_CHANGE:
            return "native"
        return "reconcile" if self is Trigger.RECONCILE else "cloudtrail"

    @property
    def is_create(self) -> bool:
        """An API call that created the resource (of any kind)."""
        return self.value in _CREATES

    @property
    def is_delete(self) -> bool:
        return self.value in _DELETES


_CREATES: Final[dict[str, tuple[ResourceKind, CreateEvent]]] = {
    name: (kind, event) for kind in KINDS for name, event in kind.create_events.items()}
_DELETES: Final[dict[str, tuple[ResourceKind, str]]] = {
    name: (kind, param) for kind in KINDS for name, param in kind.delete_events.items()}
HANDLED_EVENT_NAMES: Final = tuple(
    [Trigger(name) for kind in KINDS for name in kind.event_names()]
    + [Trigger.ADD_TAGS, Trigger.DELETE_TAGS])
NOT_CLOUDTRAIL: Final = frozenset({Trigger.RECONCILE, Trigger.MODEL_STATE_CHANGE})


@dataclass(frozen=True)
class ModelHint:
    """One event's claim about one resource; `key` is what batches are grouped by.
    (`model_name`/`model_arn` name the resource of any kind: the names are from when models
    were the only kind.)"""

    trigger: Trigger
    event_id: str
    model_name: str
    region: str
    model_arn: str | None = None
    account: str | None = None
    caller_arn: str | None = None
    """Who made the call (CloudTrail); None when the event names nobody (native, reconcile)."""
    event_time: str | None = None
    owner_value: str | None = None
    """For an AddTags that sets the owner tag: the value it set (protected mode checks it)."""
    kind: str = MODEL_KIND
    caller_trusted: bool = False
    """Whether `caller_arn` may be believed. Only the entry path knows: a body read from the
    event queue, whose policy admits nothing but our EventBridge rules, is trusted; a direct
    invoke is a hint, never an identity. The parser itself never sets it."""

    @property
    def key(self) -> ResourceKey:
        return ResourceKey.of(self.region, self.model_name, self.kind)

    @property
    def is_tag_edit(self) -> bool:
        return self.trigger in (Trigger.ADD_TAGS, Trigger.DELETE_TAGS)


@dataclass(frozen=True)
class Ignored:
    """A well-formed event that needs no work (failed call, other resource, other tag), or
    one refused outright (`outcome`: an owner tag put on a model package version)."""

    event_id: str
    reason: str
    outcome: Outcome = Outcome.IGNORED
    kind: str | None = None
    """The kind the event was about, when it names one (the log line says it)."""


def parse_body(body: str | bytes | None, owner_tag_key: str) -> ModelHint | Ignored:
    """Parse an SQS message body holding one EventBridge event."""
    if body is None:
        raise BadEventError("empty message body")
    if len(body) > MAX_EVENT_BYTES:
        raise BadEventError(f"message body of {len(body)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEventError(f"message body is not JSON: {exc}") from None
    return parse_event(event, owner_tag_key)


def parse_event(event: Any, owner_tag_key: str) -> ModelHint | Ignored:
    """Parse one EventBridge event (a dict); raise BadEventError when it is not one we handle."""
    if not isinstance(event, Mapping):
        raise BadEventError(f"event is a JSON {type(event).__name__}, not an object")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise BadEventError("event has no 'detail' object")
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == RECONCILE_SOURCE and detail_type == RECONCILE_DETAIL_TYPE:
        return _reconcile_hint(event, detail)
    if source != SAGEMAKER_SOURCE:
        raise BadEventError(f"source {source!r} is not {SAGEMAKER_SOURCE!r}")
    if detail_type == MODEL_STATE_DETAIL_TYPE:
        return _model_state_hint(event, detail)
    if detail_type != CLOUDTRAIL_DETAIL_TYPE:
        raise BadEventError(f"detail-type {detail_type!r} is not {CLOUDTRAIL_DETAIL_TYPE!r}")
    if detail.get("eventSource") != SAGEMAKER_EVENT_SOURCE:
        raise BadEventError(f"eventSource {detail.get('eventSource')!r} is not SageMaker's")
    event_id = _text(detail.get("eventID")) or _text(event.get("id")) or "unknown"
    name = _text(detail.get("eventName"))
    if detail.get("errorCode") is not None:
        return Ignored(event_id, f"failed call {name}: {detail.get('errorCode')}")
    try:
        trigger = Trigger(name or "")
    except ValueError:
        return Ignored(event_id, f"event {name!r} is not one this tool handles")
    if trigger in NOT_CLOUDTRAIL:
        raise BadEventError(f"{trigger} is not a CloudTrail event name")
    region = _text(detail.get("awsRegion")) or _text(event.get("region"))
    if not region:
        raise BadEventError("event has no region (detail.awsRegion or region)")
    common: dict[str, Any] = {
        "trigger": trigger,
        "event_id": event_id,
        "region": region,
        "account": _text(detail.get("recipientAccountId")) or _text(event.get("account")),
        "caller_arn": _caller_arn(detail.get("userIdentity")),
        "event_time": _text(detail.get("eventTime")) or _text(event.get("time")),
    }
    params = detail.get("requestParameters")
    params = params if isinstance(params, Mapping) else None
    if trigger.is_create:
        kind, created = _CREATES[trigger.value]
        return _create_hint(kind, created, detail, params, common)
    if trigger.is_delete:
        kind, param = _DELETES[trigger.value]
        given = _text(params.get(param)) if params else None
        if not given:
            raise BadEventError(f"{trigger} without requestParameters.{param}")
        name, arn = _name_or_arn(kind, given, param)
        return ModelHint(model_name=name, model_arn=arn, kind=kind.name, **common)
    return _tag_edit_hint(trigger, params, owner_tag_key, common)


def _name_or_arn(kind: ResourceKind, given: str, param: str) -> tuple[str, str | None]:
    """A request member that takes a name or an ARN (ModelPackageGroupName does): the name,
    and the ARN when one was given (its account and region are checked like any ARN's)."""
    if not given.startswith("arn:"):
        return _checked_name(given, kind), None
    parsed = parse_resource_arn(given)
    if parsed is None or parsed.kind != kind.name:
        raise BadEventError(f"{param} {given[:200]!r} is neither a {kind.label} name nor ARN")
    return parsed.name, given


def _create_hint(
    kind: ResourceKind, created: CreateEvent, detail: Mapping[str, Any],
    params: Mapping[str, Any] | None, common: dict[str, Any],
) -> ModelHint:
    response = detail.get("responseElements")
    arn = _text(response.get(created.arn_response)) if isinstance(response, Mapping) else None
    given = _text(params.get(created.name_parameter)) if params else None
    name, given_arn = _name_or_arn(kind, given, created.name_parameter) if given else (None, None)
    if arn:
        parsed = parse_resource_arn(arn)
        if parsed is None or parsed.kind != kind.name:
            raise BadEventError(f"responseElements.{created.arn_response} {arn[:200]!r} is not "
                                f"a {kind.label} ARN")
        if name and name.lower() != parsed.name.lower():
            raise BadEventError(f"{created.name_parameter} {given!r} does not match {arn!r}")
        if given_arn and given_arn != arn:
            return ModelHint(model_name=parsed.name, model_arn=given_arn, kind=kind.name,
                             **common)  # an ARN naming elsewhere: refused as foreign
        return ModelHint(model_name=parsed.name, model_arn=arn, kind=kind.name, **common)
    if not name:
        raise BadEventError(f"{common['trigger']} without {created.arn_response} or "
                            f"{created.name_parameter}")
    return ModelHint(model_name=name, model_arn=given_arn, kind=kind.name, **common)


def _tag_edit_hint(
    trigger: Trigger,
    params: Mapping[str, Any] | None,
    owner_tag_key: str,
    common: dict[str, Any],
) -> ModelHint | Ignored:
    if params is None:
        raise BadEventError(f"{trigger} without requestParameters: cannot tell which resource")
    arn = _text(params.get("resourceArn"))
    if not arn:
        raise BadEventError(f"{trigger} without requestParameters.resourceArn")
    if (child := child_parent(arn)) is not None:
        parent, group = child
        if _touches_owner(trigger, params, owner_tag_key):
            return Ignored(common["event_id"], f"{trigger} of the owner tag on {arn[:200]!r}, "
                           f"a version of {parent.label} {group[:100]!r}: versions follow "
                           f"their group's owner tag, never their own", Outcome.VERSION_OWNER_TAG,
                           parent.name)
        return Ignored(common["event_id"], f"{trigger} on a {parent.label} version",
                       kind=parent.name)
    parsed = parse_resource_arn(arn)
    if parsed is None or not _known_kind(parsed.kind):
        resource = arn.split(":", 5)[-1].partition("/")[0] if arn.startswith("arn:") else "?"
        if parsed is None and resource in {k.name for k in KINDS}:
            raise BadEventError(f"resourceArn {arn[:200]!r} is not a valid {resource} ARN")
        return Ignored(common["event_id"], f"{trigger} on a resource that is not a model or "
                                           f"model package group")
    if not _touches_owner(trigger, params, owner_tag_key):
        return Ignored(common["event_id"], f"{trigger} does not touch tag {owner_tag_key!r}")
    return ModelHint(
        model_name=parsed.name,
        model_arn=arn,
        kind=parsed.kind,
        owner_value=_owner_value_set(trigger, params, owner_tag_key),
        **common,
    )


def _known_kind(name: str) -> bool:
    try:
        kind_named(name)
    except KeyError:
        return False
    return True


def _touches_owner(trigger: Trigger, params: Mapping[str, Any], owner_tag_key: str) -> bool:
    """Whether a tag edit may change the owner; unknown shapes count as touching it (safe)."""
    if trigger is Trigger.ADD_TAGS:
        tags = params.get("tags")
        if not isinstance(tags, list):
            return True
        return any(not isinstance(t, Mapping) or t.get("key", t.get("Key")) == owner_tag_key
                   for t in tags)
    keys = params.get("tagKeys")
    if not isinstance(keys, list):
        return True
    return owner_tag_key in keys


def _owner_value_set(
    trigger: Trigger, params: Mapping[str, Any], owner_tag_key: str
) -> str | None:
    if trigger is not Trigger.ADD_TAGS or not isinstance(params.get("tags"), list):
        return None
    values = {
        t.get("value", t.get("Value"))
        for t in params["tags"]
        if isinstance(t, Mapping) and t.get("key", t.get("Key")) == owner_tag_key
    }
    value = values.pop() if len(values) == 1 else None
    return value if isinstance(value, str) else None


def _reconcile_hint(event: Mapping[str, Any], detail: Mapping[str, Any]) -> ModelHint:
    """An operator's request: `detail.modelArn` (a model's or a group's ARN: the name is kept
    from when models were the only kind), or a name with `detail.kind` and the region."""
    arn = _text(detail.get("modelArn")) or _text(detail.get("resourceArn"))
    event_id = _text(event.get("id")) or "manual"
    if arn:
        parsed = parse_resource_arn(arn)
        if parsed is None or not _known_kind(parsed.kind):
            raise BadEventError(f"modelArn {arn[:200]!r} is not a model or model package "
                                "group ARN")
        return ModelHint(Trigger.RECONCILE, event_id, parsed.name, parsed.region, model_arn=arn,
                         account=parsed.account, kind=parsed.kind)
    kind_text = _text(detail.get("kind")) or MODEL_KIND
    if not _known_kind(kind_text):
        raise BadEventError(f"kind {kind_text[:60]!r} is not one of "
                            f"{', '.join(k.name for k in KINDS)}")
    name, region = _text(detail.get("modelName")), _text(event.get("region"))
    if not name or not region:
        raise BadEventError("Reconcile needs detail.modelArn, or detail.modelName and region")
    return ModelHint(Trigger.RECONCILE, event_id, _checked_name(name, kind_named(kind_text)),
                     region, kind=kind_text)


def _model_state_hint(event: Mapping[str, Any], detail: Mapping[str, Any]) -> ModelHint:
    """SageMaker's own event: the model ARN from `resources` or `detail.ModelArn`, no caller.

    Account and region come from the ARN (an envelope forwarded between buses is rewritten);
    `detail.Tags` and the rest of the description are never read.
    """
    resources = event.get("resources")
    listed = [r for r in resources if isinstance(r, str)] if isinstance(resources, list) else []
    candidates = {a for a in (*listed, _text(detail.get("ModelArn"))) if a}
    if not candidates:
        raise BadEventError("model state change without a model ARN (resources, ModelArn)")
    if len(candidates) > 1:
        raise BadEventError(f"model state change names {len(candidates)} models: "
                            f"{sorted(c[:200] for c in candidates)}")
    arn = candidates.pop()
    model = parse_model_arn(arn)
    if model is None:
        raise BadEventError(f"model state change names {arn[:200]!r}, not a model ARN")
    name = _text(detail.get("ModelName"))
    if name and name.lower() != model.name.lower():
        raise BadEventError(f"ModelName {name!r} does not match model ARN {arn!r}")
    return ModelHint(
        trigger=Trigger.MODEL_STATE_CHANGE,
        event_id=_text(event.get("id")) or "unknown",
        model_name=model.name,
        region=model.region,
        model_arn=arn,
        account=model.account,
        caller_arn=None,
        event_time=_text(event.get("time")),
    )


def _caller_arn(identity: Any) -> str | None:
    """The caller's role ARN for role sessions (sessionIssuer), else the identity ARN."""
    if not isinstance(identity, Mapping):
        return None
    context = identity.get("sessionContext")
    if isinstance(context, Mapping):
        issuer = context.get("sessionIssuer")
        if isinstance(issuer, Mapping) and _text(issuer.get("arn")):
            return _text(issuer.get("arn"))
    return _text(identity.get("arn"))


def _checked_name(name: str, kind: ResourceKind | None = None) -> str:
    label = kind.label if kind is not None else "model"
    if not is_valid_model_name(name):
        raise BadEventError(f"{label} name {name[:100]!r} is not a valid SageMaker {label} name")
    return name


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
