"""SageMaker models: granted on the model ARN; `deploy` also lets the owner use the model
in endpoint configs and transform jobs (their own resource types, limited by the
`sagemaker:ModelArn` condition key)."""

from __future__ import annotations

from typing import Final

from model_access.core.arns import MODEL_KIND
from model_access.core.settings import AccessLevel
from model_access.model.kinds.base import CreateEvent, ResourceKind, Target

MODEL_ARN_CONDITION_KEY: Final = "sagemaker:ModelArn"
MODEL_SID: Final = "OwnerModelAccess"
CONDITIONED_SID: Final = "OwnerModelUse"

_READ: Final = ("sagemaker:DescribeModel", "sagemaker:ListTags")
_MANAGE: Final = (*_READ, "sagemaker:DeleteModel")


def _on_model(actions: tuple[str, ...]) -> Target:
    return Target(MODEL_SID, MODEL_KIND, tuple(sorted(actions)))


def _use(action: str, resource_type: str) -> Target:
    """`action` on `<resource_type>/*` only where the model used is one of ours."""
    return Target(CONDITIONED_SID + resource_type.title().replace("-", ""), resource_type,
                  (action,), condition_key=MODEL_ARN_CONDITION_KEY)


MODEL: Final = ResourceKind(
    name=MODEL_KIND,
    label="model",
    tag_index_type="sagemaker:model",
    describe_operation="describe_model",
    name_parameter="ModelName",
    arn_member="ModelArn",
    name_member="ModelName",
    create_events={"CreateModel": CreateEvent("modelName", "modelArn")},
    delete_events={"DeleteModel": "modelName"},
    levels={
        AccessLevel.READ: (_on_model(_READ),),
        AccessLevel.MANAGE: (_on_model(_MANAGE),),
        AccessLevel.DEPLOY: (
            _on_model(_MANAGE),
            _use("sagemaker:CreateEndpointConfig", "endpoint-config"),
            _use("sagemaker:CreateTransformJob", "transform-job"),
        ),
    },
    tag_edit_sid=MODEL_SID,
)
