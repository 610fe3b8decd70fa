"""Carry out a RolePlan against IAM, one operation at a time, in the plan's safe order.

Order inside a role: create and update first, then attach, then detach and delete, so an
ARN that moves between two policies of one role is never missing in between.
"""

from __future__ import annotations

from collections.abc import Callable

from model_access.aws.iam import IamGateway, PolicyExistsError
from model_access.errors import AwsPermanentError, LeaseBusyError
from model_access.plan import OpKind, RolePlan


class NameTakenError(AwsPermanentError):
    """A slot's deterministic name belongs to a policy the tool did not create."""

    def __init__(self, index: int, name: str) -> None:
        super().__init__(f"policy name {name} is taken by a policy the tool did not create")
        self.index = index


def apply_role_plan(
    iam: IamGateway,
    plan: RolePlan,
    *,
    keep_versions: int,
    lease_valid: Callable[[], bool] = lambda: True,
) -> None:
    """Apply every op; before each write, make sure our lease on the role still holds."""
    for op in plan.ops:
        if not lease_valid():
            raise LeaseBusyError(f"lease on role {plan.role} ran out before {op.kind} {op.name}")
        arn = iam.policy_arn(op.name)
        if op.kind is OpKind.CREATE and op.document is not None:
            try:
                iam.create_policy(plan.role, op.name, op.document)
            except PolicyExistsError:
                # Left over by a crash or a role deleted and re-created: adopt it, but only
                # if it really is ours (a same-named policy of someone else is never touched).
                if iam.read_tool_policy(plan.role, op.name, attached=False) is None:
                    raise NameTakenError(op.index, op.name) from None
                iam.put_version(arn, op.document, keep_versions)
        elif op.kind is OpKind.UPDATE and op.document is not None:
            iam.put_version(arn, op.document, keep_versions)
        elif op.kind is OpKind.ATTACH:
            iam.attach(plan.role, arn)
        elif op.kind is OpKind.DETACH:
            iam.detach(plan.role, arn)
        elif op.kind is OpKind.DELETE:
            iam.delete_policy(arn)
