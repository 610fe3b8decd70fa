"""The project's one error tree; only the handler decides what each means for the batch.

    ModelAccessError
    ├── ConfigurationError     settings that cannot work; fail at start-up, loudly
    ├── BadEventError          an event we cannot parse; final, counted as BadEvent
    ├── AccountNotMemberError  an account the hub does not serve; final, AccountNotMember
    ├── BadSubjectError        an operator named no resource of a kind we serve (CLI)
    ├── RetryableError         try again later through the queue (batch item failure)
    │   ├── LeaseBusyError         another worker holds the role's lease
    │   ├── LeaseLostError         our lease expired or was taken over before a write
    │   ├── DeadlineError          the invocation's time budget ran out before this work
    │   ├── ConcurrentUpdateError  the model's record changed under us
    │   ├── ModelNotVisibleError   the event names a model SageMaker does not show yet
    │   ├── MemberUnavailableError a member's role is missing or refuses the hub
    │   └── AwsTransientError      throttling / 5xx / network after botocore's retries
    └── AwsPermanentError      an AWS answer that retrying will not change
        ├── AccountPolicyQuotaError  CreatePolicy: the account's managed policy quota is full
        └── PolicyInUseError         DeleteConflict persists: attached to another principal
"""

from __future__ import annotations


class ModelAccessError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(ModelAccessError):
    """Settings that cannot work (unknown action, bad share, malformed list)."""


class BadEventError(ModelAccessError):
    """An event that is not a CloudTrail-shaped SageMaker call we understand."""


class AccountNotMemberError(ModelAccessError):
    """An account outside MODEL_ACCESS_MEMBER_ACCOUNTS (or not an ACTIVE member of the
    organization): nothing is read or written there, and a retry cannot change that."""


class BadSubjectError(ModelAccessError):
    """A name or ARN given to a command that names no resource this deployment serves."""


class RetryableError(ModelAccessError):
    """A condition that a later delivery of the same record can get past."""


class LeaseBusyError(RetryableError):
    """Another reconcile holds the lease of a role this record needs."""


class LeaseLostError(RetryableError):
    """Our lease on a role ran out (or was taken over) before a write: fencing stopped it."""


class DeadlineError(RetryableError):
    """The invocation's time budget ran out before this work could start."""


class ConcurrentUpdateError(RetryableError):
    """The model's grant record changed between our read and our conditional write."""


class ModelNotVisibleError(RetryableError):
    """SageMaker does not (yet) show a model that an event says was created."""


class MemberUnavailableError(RetryableError):
    """A served member account whose role cannot be assumed (missing, not trusting the hub,
    region disabled). Retried through the queue: a StackSet may still be deploying it."""


class AwsTransientError(RetryableError):
    """Throttling, 5xx or a network failure that outlived botocore's own retries."""


class AwsPermanentError(ModelAccessError):
    """An AWS error that retrying will not fix (access denied, malformed request)."""


class AccountPolicyQuotaError(AwsPermanentError):
    """CreatePolicy answered LimitExceeded: the account's customer managed policies are full."""


class PolicyInUseError(AwsPermanentError):
    """A tool policy cannot be deleted: it is attached to a principal other than its role."""
