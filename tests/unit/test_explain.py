"""explain's pure core: what an operator typed becomes a key, and which statements name a model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from model_access.core.arns import ResourceKey, Scope
from model_access.core.errors import BadSubjectError
from model_access.core.settings import AccessLevel, Settings
from model_access.model.access import profile_from_settings
from model_access.operate.explain import resolve_subject, statements_naming
from model_access.policy.render import PolicyShape

SCOPE = Scope("aws", "us-east-1", "123456789012")
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model/Churn-Model"


def test_resolve_subject_name_and_arn_give_one_key() -> None:
    """A name and its ARN resolve to the same letter-case-free key; only the ARN is kept."""
    by_name = resolve_subject(" Churn-Model ", SCOPE)
    by_arn = resolve_subject(ARN, SCOPE)
    assert by_name.key == by_arn.key == ResourceKey("us-east-1", "churn-model")
    assert (by_name.arn, by_arn.arn, by_arn.name) == (None, ARN, "Churn-Model")


def test_resolve_subject_group_and_version_arns_give_the_group_key() -> None:
    """A model package group ARN resolves to the group's key; a version's ARN to its group."""
    group = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/Fraud"
    by_group = resolve_subject(group, SCOPE)
    by_version = resolve_subject(
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/3", SCOPE)
    assert by_group.key == by_version.key == ResourceKey("us-east-1", "fraud",
                                                         "model-package-group")
    assert (by_group.label, by_group.name, by_group.arn) == ("model package group", "Fraud", group)
    assert resolve_subject("fraud", SCOPE).key.kind == "model"  # a bare name is a model's


@pytest.mark.parametrize(("text", "message"), [
    ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn",
     "not the ARN of a SageMaker model or model package group"),
    ("arn:aws:sagemaker:us-east-1:999999999999:model/churn", "outside this deployment"),
    ("arn:aws-cn:sagemaker:us-east-1:123456789012:model/churn", "outside this deployment"),
    ("-churn", "neither a SageMaker model name nor an ARN"),
    ("x" * 64, "neither a SageMaker model name nor an ARN"),
])
def test_resolve_subject_refuses_with_the_reason(text: str, message: str) -> None:
    """Registry ARNs, other resource types, other accounts or partitions, bad names: refused."""
    with pytest.raises(BadSubjectError, match=message):
        resolve_subject(text, SCOPE)


def test_statements_naming_finds_resource_and_condition_statements() -> None:
    """At the deploy level the model is named as a resource and in each conditioned
    statement's sagemaker:ModelArn; a lower-cased twin counts as the same model."""
    shape = PolicyShape(profile_from_settings(Settings(access_level=AccessLevel.DEPLOY)), SCOPE)
    document = shape.render([ARN, "arn:aws:sagemaker:us-east-1:123456789012:model/other"])
    found = statements_naming(document, ResourceKey("us-east-1", "churn-model"))
    assert [s.via for s in found] == [("Resource",), ("Condition",), ("Condition",)]
    assert found[0].sid == "OwnerModelAccess"
    assert "sagemaker:DescribeModel" in found[0].actions
    assert statements_naming(document, ResourceKey("us-east-1", "absent")) == ()


def test_statements_naming_finds_a_groups_version_and_deploy_statements() -> None:
    """A group is named by its ARN, by `model-package/<group>/*` and (deploy) by the models
    named after it, each a statement of its own."""
    group = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/fraud"
    settings = Settings(group_access_level=AccessLevel.DEPLOY)
    shape = PolicyShape(profile_from_settings(settings), SCOPE)
    document = shape.render([group])
    key = ResourceKey("us-east-1", "fraud", "model-package-group")
    found = statements_naming(document, key, group)
    assert [s.sid for s in found] == ["OwnerModelPackageGroupAccess", "OwnerModelPackageAccess",
                                      "OwnerModelPackageDeploy"]
    assert statements_naming(document, key) == found[:1]  # without the ARN: its key only


def test_statements_naming_reads_hand_edited_shapes() -> None:
    """A single statement object, a string Action and a string Resource are read too."""
    document = {"Statement": {"Effect": "Allow", "Action": "sagemaker:*",
                              "Resource": ARN.lower()}}
    [found] = statements_naming(document, ResourceKey("us-east-1", "churn-model"))
    assert (found.index, found.sid, found.actions, found.via) == (
        0, None, ("sagemaker:*",), ("Resource",))


def test_explain_module_imports_no_boto3() -> None:
    """The assembly is pure: importing it loads no boto3 (the reads live in the adapters)."""
    shared = Path(__file__).resolve().parents[2] / "shared"
    code = "import sys, model_access.operate.explain; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(shared)})
    assert out.stdout.strip() == "False"
