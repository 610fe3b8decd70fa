"""Event parsing: every fixture in events/ and the malformed shapes around them."""

from __future__ import annotations

import json

import pytest

from model_access.core.errors import BadEventError
from model_access.core.outcomes import Outcome
from model_access.model.events import Ignored, ModelHint, Trigger, parse_body, parse_event
from tests.conftest import EVENTS, load_event

KEY = "owner-role"


@pytest.mark.parametrize("path", sorted(p.relative_to(EVENTS).as_posix()
                                        for p in (EVENTS / "lambda").glob("*.json")))
def test_parse_every_lambda_fixture_without_error(path: str) -> None:
    """Every fixture a Lambda can receive parses to a hint or a reasoned Ignored."""
    event = load_event(path)
    bodies = ([json.loads(r["body"]) for r in event["Records"]] if "Records" in event
              else [event])
    for body in bodies:
        parsed = parse_event(body, KEY)
        assert isinstance(parsed, ModelHint | Ignored)


def test_parse_create_model_reads_arn_from_response() -> None:
    """CreateModel yields the ARN SageMaker returned, the caller role and the event id."""
    hint = parse_event(load_event("lambda/create-model.json"), KEY)
    assert isinstance(hint, ModelHint)
    assert hint.trigger is Trigger.CREATE
    assert hint.model_arn == "arn:aws:sagemaker:us-east-1:123456789012:model/churn-predictor-v3"
    assert hint.caller_arn == "arn:aws:iam::123456789012:role/ml-pipeline"
    assert hint.event_id == "0d5c6a8e-6f5a-4b7e-9d7e-1a2b3c4d5e01"
    assert hint.account == "123456789012"


def test_parse_create_model_keeps_mixed_case_arn() -> None:
    """The ARN keeps SageMaker's letter case; the grouping key is case-insensitive."""
    hint = parse_event(load_event("lambda/create-model-owner-arn.json"), KEY)
    assert isinstance(hint, ModelHint)
    assert hint.model_arn is not None and hint.model_arn.endswith("model/Fraud-Detector-XGB")
    assert hint.key.name_lower == "fraud-detector-xgb"


def test_parse_create_model_without_request_parameters_uses_response() -> None:
    """CloudTrail omits requestParameters over 100 KB; responseElements.modelArn suffices."""
    hint = parse_event(load_event("lambda/create-model-no-request-parameters.json"), KEY)
    assert isinstance(hint, ModelHint) and hint.model_name == "churn-predictor-v3"


def test_parse_failed_call_is_ignored() -> None:
    """A call that failed (errorCode present) changes nothing and is ignored with a reason."""
    parsed = parse_event(load_event("lambda/create-model-failed.json"), KEY)
    assert isinstance(parsed, Ignored) and "ValidationException" in parsed.reason


def test_parse_delete_model_has_only_a_name() -> None:
    """DeleteModel carries no ARN: the hint has the name and region only."""
    hint = parse_event(load_event("lambda/delete-model.json"), KEY)
    assert isinstance(hint, ModelHint)
    assert (hint.trigger, hint.model_name, hint.model_arn) == (
        Trigger.DELETE, "churn-predictor-v3", None)


def test_parse_add_tags_owner_records_value_and_caller() -> None:
    """An AddTags on the owner key carries the new value and who set it."""
    hint = parse_event(load_event("lambda/add-tags-owner.json"), KEY)
    assert isinstance(hint, ModelHint)
    assert hint.owner_value == "ml-platform"
    assert hint.caller_arn == "arn:aws:iam::123456789012:role/data-scientist"


@pytest.mark.parametrize(("path", "needle"), [
    ("lambda/add-tags-other-key.json", "does not touch"),
    ("lambda/add-tags-endpoint.json", "not a model"),
])
def test_parse_irrelevant_tag_edits_are_ignored(path: str, needle: str) -> None:
    """Tag edits on other keys or other resource types cost nothing."""
    parsed = parse_event(load_event(path), KEY)
    assert isinstance(parsed, Ignored) and needle in parsed.reason


def test_parse_delete_tags_owner_is_a_hint() -> None:
    """Removing the owner tag is a hint to revoke."""
    hint = parse_event(load_event("lambda/delete-tags-owner.json"), KEY)
    assert isinstance(hint, ModelHint) and hint.trigger is Trigger.DELETE_TAGS


def test_parse_sqs_bodies_without_account() -> None:
    """Bodies delivered by moto lack `account`; the detail's recipientAccountId is used."""
    batch = load_event("lambda/sqs-batch.json")
    first = json.loads(batch["Records"][0]["body"])
    assert "account" not in first
    hint = parse_body(batch["Records"][0]["body"], KEY)
    assert isinstance(hint, ModelHint) and hint.account == "123456789012"


def test_parse_reconcile_request() -> None:
    """An operator's re-drive names a model ARN and becomes a Reconcile hint."""
    hint = parse_event(load_event("lambda/reconcile-model.json"), KEY)
    assert isinstance(hint, ModelHint) and hint.trigger is Trigger.RECONCILE


@pytest.mark.parametrize(("body", "needle"), [
    ("not json", "not JSON"),
    ("[1, 2]", "not an object"),
    ('{"source": "aws.sagemaker"}', "no 'detail'"),
    ('{"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "detail": {}}',
     "source"),
    ('{"source": "aws.sagemaker", "detail-type": "Other", "detail": {}}', "detail-type"),
])
def test_parse_malformed_bodies_raise_bad_event(body: str, needle: str) -> None:
    """Malformed bodies raise BadEventError naming what is wrong."""
    with pytest.raises(BadEventError, match=needle):
        parse_body(body, KEY)


def test_parse_unknown_event_name_is_ignored() -> None:
    """A SageMaker call the tool does not handle is ignored, not an error."""
    event = load_event("lambda/create-model.json")
    event["detail"]["eventName"] = "ListModels"
    assert isinstance(parse_event(event, KEY), Ignored)


def test_parse_rejects_invalid_model_name() -> None:
    """A model name SageMaker could not have accepted is a bad event."""
    event = load_event("lambda/delete-model.json")
    event["detail"]["requestParameters"]["modelName"] = "bad name*"
    with pytest.raises(BadEventError, match="valid SageMaker model name"):
        parse_event(event, KEY)


def test_parse_native_create_names_the_model_and_no_caller() -> None:
    """A native event yields the model ARN from resources, account and region from it, no caller."""
    hint = parse_event(load_event("lambda/native-create-model.json"), KEY)
    assert isinstance(hint, ModelHint)
    assert hint.trigger is Trigger.MODEL_STATE_CHANGE and hint.trigger.via == "native"
    assert hint.model_arn == "arn:aws:sagemaker:us-east-1:123456789012:model/churn-predictor-v3"
    assert (hint.account, hint.region, hint.caller_arn) == ("123456789012", "us-east-1", None)
    assert hint.owner_value is None  # detail.Tags is never read
    assert hint.event_id == "5e1c2f4a-8b3d-4c6e-9f0a-1b2c3d4e5f60"


def test_parse_native_delete_is_the_same_hint_shape() -> None:
    """Create and delete look alike; the reconcile re-reads the truth to tell them apart."""
    created = parse_event(load_event("lambda/native-create-model.json"), KEY)
    deleted = parse_event(load_event("lambda/native-delete-model.json"), KEY)
    assert isinstance(created, ModelHint) and isinstance(deleted, ModelHint)
    assert (created.key, created.trigger) == (deleted.key, deleted.trigger)


def test_parse_native_arn_from_detail_when_resources_are_empty() -> None:
    """Without `resources`, detail.ModelArn names the model."""
    event = load_event("lambda/native-create-model.json")
    event["resources"] = []
    hint = parse_event(event, KEY)
    assert isinstance(hint, ModelHint) and hint.model_name == "churn-predictor-v3"


@pytest.mark.parametrize(("change", "needle"), [
    ({"resources": [], "detail": {"ModelName": "x"}}, "without a model ARN"),
    ({"resources": ["arn:aws:sagemaker:us-east-1:123456789012:model/other"]}, "names 2 models"),
    ({"resources": ["arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"],
      "detail": {}}, "not a model ARN"),
    ({"detail": {"ModelName": "another",
                 "ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/churn-predictor-v3"}},
     "does not match"),
])
def test_parse_native_malformed_raises_bad_event(change: dict[str, object], needle: str) -> None:
    """Missing, conflicting or non-model ARNs in a native event are bad events, with a reason."""
    event = load_event("lambda/native-create-model.json")
    event.update(change)
    with pytest.raises(BadEventError, match=needle):
        parse_event(event, KEY)


def test_parse_cloudtrail_event_named_like_a_native_trigger_is_bad() -> None:
    """A CloudTrail record cannot claim the native (or reconcile) trigger by its eventName."""
    event = load_event("lambda/create-model.json")
    event["detail"]["eventName"] = "ModelStateChange"
    with pytest.raises(BadEventError, match="not a CloudTrail event name"):
        parse_event(event, KEY)


GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/Fraud-Detector"


@pytest.mark.parametrize("path", ["lambda/create-model-package-group.json",
                                  "lambda/create-model-package-group-arn-as-name.json"])
def test_parse_create_group_by_name_or_arn(path: str) -> None:
    """CreateModelPackageGroup: the group's name and ARN, kind model-package-group, whether
    the request named it by name or by ARN."""
    hint = parse_event(load_event(path), KEY)
    assert isinstance(hint, ModelHint)
    assert (hint.trigger, hint.kind, hint.model_name, hint.model_arn) == (
        Trigger.CREATE_GROUP, "model-package-group", "Fraud-Detector", GROUP_ARN)
    assert hint.trigger.is_create and str(hint.key) == (
        "us-east-1/model-package-group/fraud-detector")


@pytest.mark.parametrize(("path", "arn"), [
    ("lambda/delete-model-package-group.json", None),
    ("lambda/delete-model-package-group-arn-as-name.json", GROUP_ARN),
])
def test_parse_delete_group_by_name_or_arn(path: str, arn: str | None) -> None:
    """DeleteModelPackageGroup carries a name or an ARN and no responseElements."""
    hint = parse_event(load_event(path), KEY)
    assert isinstance(hint, ModelHint) and hint.trigger.is_delete
    assert (hint.kind, hint.model_name, hint.model_arn) == (
        "model-package-group", "Fraud-Detector", arn)


@pytest.mark.parametrize("path", ["lambda/add-tags-model-package-group.json",
                                  "lambda/delete-tags-model-package-group.json"])
def test_parse_tag_edits_on_a_group(path: str) -> None:
    """AddTags/DeleteTags whose resourceArn is a group are hints about the group."""
    hint = parse_event(load_event(path), KEY)
    assert isinstance(hint, ModelHint) and hint.is_tag_edit
    assert (hint.kind, hint.model_arn) == ("model-package-group", GROUP_ARN)


def test_parse_owner_tag_on_a_version_is_refused() -> None:
    """The owner tag on a version (`model-package/<G>/<n>`) is a named refusal, not a hint."""
    parsed = parse_event(load_event("lambda/add-tags-model-package-version.json"), KEY)
    assert isinstance(parsed, Ignored)
    assert parsed.outcome is Outcome.VERSION_OWNER_TAG and "fraud-detector" in parsed.reason


def test_parse_other_tags_on_a_version_are_ignored() -> None:
    """A version's other tags cost nothing (and never parse as a model or group)."""
    event = load_event("lambda/add-tags-model-package-version.json")
    event["detail"]["requestParameters"]["tags"] = [{"key": "team", "value": "x"}]
    parsed = parse_event(event, KEY)
    assert isinstance(parsed, Ignored) and parsed.outcome is Outcome.IGNORED


def test_parse_group_name_that_is_not_a_name_or_group_arn() -> None:
    """A name member holding a model's ARN (or garbage) is a bad event, not a guess."""
    event = load_event("lambda/delete-model-package-group.json")
    event["detail"]["requestParameters"]["modelPackageGroupName"] = (
        "arn:aws:sagemaker:us-east-1:123456789012:model/Fraud-Detector")
    with pytest.raises(BadEventError, match="neither a model package group name nor ARN"):
        parse_event(event, KEY)
    event["detail"]["requestParameters"]["modelPackageGroupName"] = "no spaces allowed"
    with pytest.raises(BadEventError, match="model package group name"):
        parse_event(event, KEY)


def test_rule_pattern_routes_group_events() -> None:
    """The pattern the stack and `local up` install names the registry's event names."""
    from model_access.deploy.patterns import sagemaker_model_calls_pattern

    names = set(sagemaker_model_calls_pattern()["detail"]["eventName"])
    assert {"CreateModelPackageGroup", "DeleteModelPackageGroup"} <= names
    assert not names & {"CreateModelPackage", "UpdateModelPackage"}
