"""Pure pieces of the local stack: CloudTrail's spelling of a call, the per-record line."""

from __future__ import annotations

import botocore.session

from model_access_cli.local.serve import record_line
from model_access_cli.local.trail import cloudtrail_shape, watched_event_names


def test_cloudtrail_shape_lower_camel_cases_members_but_not_map_keys() -> None:
    """Structure members become lower camel case; environment variable names keep theirs."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateModel").input_shape
    request = {"ModelName": "m", "PrimaryContainer": {"Image": "i", "Environment": {"MY_VAR": "1"}},
               "Tags": [{"Key": "owner-role", "Value": "alice"}], "EnableNetworkIsolation": True}
    assert cloudtrail_shape(shape, request) == {
        "modelName": "m", "primaryContainer": {"image": "i", "environment": {"MY_VAR": "1"}},
        "tags": [{"key": "owner-role", "value": "alice"}], "enableNetworkIsolation": True}


def test_trail_watches_exactly_the_rule_event_names() -> None:
    """The stand-in records the calls the stack's CloudTrail rule routes, and no other."""
    assert watched_event_names() == {"CreateModel", "DeleteModel", "AddTags", "DeleteTags",
                                     "CreateModelPackageGroup", "DeleteModelPackageGroup"}


def test_record_line_shows_outcome_model_roles_trigger_and_reason() -> None:
    """A Moved log line reads as one terminal line with both roles and the trigger."""
    line = record_line({"message": "owner is now bob; revoked from alice", "outcome": "Moved",
                        "model_name": "Churn",
                        "model_arn": "arn:aws:sagemaker:us-east-1:1:model/Churn",
                        "granted_to": "bob", "revoked_from": ["alice"], "trigger": "AddTags"})
    assert line is not None
    assert line.split()[:5] == ["Moved", "Churn", "+bob", "-alice", "AddTags"]
    assert line.endswith("owner is now bob; revoked from alice")


def test_record_line_names_the_owner_when_nothing_changed_and_skips_other_lines() -> None:
    """An Unchanged line shows the owner, not a '+'; a line without an outcome is no record."""
    line = record_line({"message": "already granted", "outcome": "Unchanged", "model_name": "m",
                        "granted_to": "bob", "owner": "bob", "trigger": "CreateModel"})
    assert line is not None and line.split()[:3] == ["Unchanged", "m", "bob"]
    assert record_line({"message": "reconcile failed", "level": "ERROR"}) is None
