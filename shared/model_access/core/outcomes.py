"""Every outcome a record or model can end in: the single source for logs, metrics and dashboard.

Each outcome is emitted as an EMF metric named after its value, in one namespace, with only
the `service` dimension (never model or role names: those go in the log line).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    """How an outcome is grouped on the dashboard and treated by the handler."""

    CHANGE = "change"
    NO_CHANGE = "no-change"
    REFUSAL = "refusal"
    FAILURE = "failure"


class Outcome(StrEnum):
    """What happened to one model (or one record that never named a model)."""

    GRANTED = "Granted"
    REVOKED = "Revoked"
    MOVED = "Moved"
    REPAIRED = "Repaired"
    UNCHANGED = "Unchanged"
    IGNORED = "Ignored"
    NO_OWNER_TAG = "NoOwnerTag"
    INVALID_OWNER = "InvalidOwner"
    AMBIGUOUS_OWNER = "AmbiguousOwner"
    FOREIGN_OWNER = "ForeignOwner"
    ROLE_NOT_FOUND = "RoleNotFound"
    SERVICE_LINKED_ROLE = "ServiceLinkedRole"
    PROVISIONER_ROLE = "ProvisionerRole"
    DENIED_ROLE = "DeniedRole"
    INELIGIBLE_ROLE = "IneligibleRole"
    OWNER_CHANGE_DENIED = "OwnerChangeDenied"
    UNVERIFIED_CALLER = "UnverifiedCaller"
    """Protected mode: the only event vouching for an owner change named a caller we cannot
    believe (it came by direct invoke, not through the EventBridge-only queue)."""
    CAPACITY_EXHAUSTED = "CapacityExhausted"
    ACCOUNT_POLICY_QUOTA = "AccountPolicyQuota"
    FOREIGN_MODEL = "ForeignModel"
    """A model or model package group of another account, region or partition (an event's
    ARN, or a group name given as such an ARN)."""
    VERSION_OWNER_TAG = "VersionOwnerTag"
    """The owner tag set or removed on a model package version: versions follow their
    group's tag, so the edit is refused and changes no grant."""
    ACCOUNT_NOT_MEMBER = "AccountNotMember"
    """The event's account is neither the hub's nor a served member (MODEL_ACCESS_MEMBER_ACCOUNTS);
    nothing is read or written anywhere."""
    BAD_EVENT = "BadEvent"
    MODEL_GONE = "ModelGone"
    MEMBER_UNAVAILABLE = "MemberUnavailable"
    """A served member account whose member role is missing or refuses the hub: retried
    (a StackSet may still be deploying it); the sweep reports it and goes on."""
    RETRY = "RetryScheduled"
    FAILED = "Failed"

    @property
    def kind(self) -> Kind:
        """The dashboard group (and handler treatment) of this outcome."""
        return _KINDS[self]

    @property
    def is_refusal(self) -> bool:
        """A final decision not to grant: logged, counted, never retried."""
        return self.kind is Kind.REFUSAL

    @property
    def is_retryable(self) -> bool:
        """The record goes back to the queue (batch item failure); the DLQ if it persists."""
        return self.kind is Kind.FAILURE


_KINDS: Final[dict[Outcome, Kind]] = {
    Outcome.GRANTED: Kind.CHANGE,
    Outcome.REVOKED: Kind.CHANGE,
    Outcome.MOVED: Kind.CHANGE,
    Outcome.REPAIRED: Kind.CHANGE,
    Outcome.UNCHANGED: Kind.NO_CHANGE,
    Outcome.IGNORED: Kind.NO_CHANGE,
    Outcome.MODEL_GONE: Kind.NO_CHANGE,
    Outcome.NO_OWNER_TAG: Kind.REFUSAL,
    Outcome.INVALID_OWNER: Kind.REFUSAL,
    Outcome.AMBIGUOUS_OWNER: Kind.REFUSAL,
    Outcome.FOREIGN_OWNER: Kind.REFUSAL,
    Outcome.ROLE_NOT_FOUND: Kind.REFUSAL,
    Outcome.SERVICE_LINKED_ROLE: Kind.REFUSAL,
    Outcome.PROVISIONER_ROLE: Kind.REFUSAL,
    Outcome.DENIED_ROLE: Kind.REFUSAL,
    Outcome.INELIGIBLE_ROLE: Kind.REFUSAL,
    Outcome.OWNER_CHANGE_DENIED: Kind.REFUSAL,
    Outcome.UNVERIFIED_CALLER: Kind.REFUSAL,
    Outcome.CAPACITY_EXHAUSTED: Kind.REFUSAL,
    Outcome.ACCOUNT_POLICY_QUOTA: Kind.REFUSAL,
    Outcome.FOREIGN_MODEL: Kind.REFUSAL,
    Outcome.VERSION_OWNER_TAG: Kind.REFUSAL,
    Outcome.ACCOUNT_NOT_MEMBER: Kind.REFUSAL,
    Outcome.BAD_EVENT: Kind.REFUSAL,
    Outcome.MEMBER_UNAVAILABLE: Kind.FAILURE,
    Outcome.RETRY: Kind.FAILURE,
    Outcome.FAILED: Kind.FAILURE,
}


class CallMetric(StrEnum):
    """AWS call counters emitted next to the outcomes (one value per invocation)."""

    IAM_CALLS = "IamCalls"
    IAM_WRITES = "IamWrites"
    AWS_CALLS = "AwsCalls"


METRIC_DIMENSIONS: Final[tuple[str, ...]] = ("service",)
"""The only dimension on every metric; Powertools adds it from POWERTOOLS_SERVICE_NAME."""


def all_metric_names() -> tuple[str, ...]:
    """Every metric name the runtime can emit, outcomes first; the dashboard draws exactly these."""
    return tuple(o.value for o in Outcome) + tuple(c.value for c in CallMetric)
