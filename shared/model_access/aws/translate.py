"""Turn botocore failures into the project's error tree (transient vs permanent)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from model_access.core.errors import AwsPermanentError, AwsTransientError, ModelAccessError

TRANSIENT_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceFailure",
        "TransactionInProgressException",
        "ConcurrentModification",
        "ConcurrentModificationException",
    }
)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError ('' when absent)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx and network failures: worth another delivery later."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in TRANSIENT_CODES or int(status or 0) >= 500
    return isinstance(
        exc, BotoConnectionError | EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError
    )


def translate(exc: BaseException, what: str) -> ModelAccessError:
    """The project error for a failed AWS call; `what` says which call, for the log line."""
    if isinstance(exc, ModelAccessError):
        return exc
    if is_transient(exc):
        return AwsTransientError(f"{what}: {exc}")
    return AwsPermanentError(f"{what}: {exc}")


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Run AWS calls; re-raise their failures as AwsTransientError or AwsPermanentError."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, what) from exc
