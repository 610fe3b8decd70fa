"""Where the local server answers like SageMaker rather than like moto (`api_tap.Guard`s).

moto accepts what SageMaker refuses, and `DESIGN.md` lists the differences that matter
here: it validates no input (a model name with a space is created), `AddTags` appends a
second value for a key instead of overwriting it, and `CreateModel` silently replaces a
model of the same name. A user pointing their own tools at the local stack would then see
outcomes AWS never produces (an `AmbiguousOwner` after a plain re-tag). These guards give
the AWS answer, so a failed call also reaches the trail stand-in with its `errorCode`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Final

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from model_access_cli.local.api_tap import Forward, Refusal

VALIDATION: Final = "ValidationException"


@cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    """The Smithy pattern as a Python regex; None for Java-only syntax (\\p{L}: not checked)."""
    try:
        return re.compile(text)
    except re.error:
        return None


def validate_input(operation: str, request: Mapping[str, Any],
                   forward: Forward) -> Refusal | None:
    """Check required members, lengths, patterns and enums as SageMaker's front end does."""
    del forward
    try:
        shape = _service_model().operation_model(operation).input_shape
    except Exception:  # an operation botocore does not know: moto answers as it likes
        return None
    if shape is None:
        return None
    problems = list(_problems(shape, request, ""))
    if not problems:
        return None
    count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
    return Refusal(VALIDATION, count + "; ".join(problems[:10]))


def _problems(shape: Shape, value: Any, where: str) -> Iterator[str]:
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return
        for name in shape.required_members:
            if value.get(name) is None:
                yield (f"Value null at '{_path(where, name)}' failed to satisfy constraint: "
                       "Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                yield from _problems(member, value[name], _path(where, name))
        return
    sized = value if isinstance(value, str | list | dict) else None
    if sized is not None:
        if "max" in meta and len(sized) > meta["max"]:
            yield _constraint(value, where, f"Member must have length less than or equal to "
                                            f"{meta['max']}")
        if "min" in meta and len(sized) < meta["min"]:
            yield _constraint(value, where, f"Member must have length greater than or equal to "
                                            f"{meta['min']}")
    if isinstance(value, str):
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            yield _constraint(value, where, "Member must satisfy regular expression pattern: "
                                            + meta["pattern"])
        allowed = getattr(shape, "enum", None)
        if allowed and value not in allowed:
            yield _constraint(value, where, "Member must satisfy enum value set: "
                                            f"[{', '.join(allowed)}]")
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(shape.member, item, f"{where}.{index + 1}.member")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            yield from _problems(shape.key, key, f"{where}.key")
            yield from _problems(shape.value, item, f"{where}.{key}.value")


def _path(where: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{where}.{name}" if where else name


def _constraint(value: Any, where: str, rule: str) -> str:
    shown = value if isinstance(value, str) else f"<{type(value).__name__}>"
    return f"Value '{shown}' at '{where}' failed to satisfy constraint: {rule}"


def overwrite_tags(operation: str, request: Mapping[str, Any],
                   forward: Forward) -> Refusal | None:
    """AddTags replaces a key's value on AWS; moto appends, so drop the keys first."""
    if operation != "AddTags":
        return None
    tags = request.get("Tags")
    keys = [t["Key"] for t in tags if isinstance(t, Mapping) and isinstance(t.get("Key"), str)] \
        if isinstance(tags, list) else []
    if keys and isinstance(request.get("ResourceArn"), str):
        forward("DeleteTags", {"ResourceArn": request["ResourceArn"], "TagKeys": keys})
    return None


def refuse_existing_model(operation: str, request: Mapping[str, Any],
                          forward: Forward) -> Refusal | None:
    """CreateModel on a taken name fails on AWS; moto would replace the model silently."""
    name = request.get("ModelName")
    if operation != "CreateModel" or not isinstance(name, str):
        return None
    if forward("DescribeModel", {"ModelName": name})[0] == 200:
        return Refusal(VALIDATION, f'Cannot create already existing model "{name}".')
    return None


def refuse_existing_group(operation: str, request: Mapping[str, Any],
                          forward: Forward) -> Refusal | None:
    """CreateModelPackageGroup on a taken name fails on AWS; moto replaces the group."""
    name = request.get("ModelPackageGroupName")
    if operation != "CreateModelPackageGroup" or not isinstance(name, str):
        return None
    if forward("DescribeModelPackageGroup", {"ModelPackageGroupName": name})[0] == 200:
        return Refusal(VALIDATION, f"Model Package Group already exists: {name}")
    return None


def refuse_version_tags(operation: str, request: Mapping[str, Any],
                        forward: Forward) -> Refusal | None:
    """Tags on a group's version: AWS says a version uses its group's tags; moto crashes
    on such an ARN (a server error), so the local stack refuses the call instead."""
    del forward
    arn = request.get("ResourceArn")
    if operation not in {"AddTags", "DeleteTags", "ListTags"} or not isinstance(arn, str):
        return None
    if ":model-package/" in arn and arn.split(":model-package/", 1)[1].count("/") == 1:
        return Refusal(VALIDATION, f"{arn} is a model package version in a group: it uses "
                                   "the tags of its model package group")
    return None


SAGEMAKER_GUARDS: Final = (validate_input, refuse_existing_model, refuse_existing_group,
                           refuse_version_tags, overwrite_tags)
"""In this order: a refused call changes nothing."""
