"""Lazily built, reused boto3 clients with botocore's standard retry mode.

Never build a client at import time: it would defeat moto and slow every cold start.
`AWS_ENDPOINT_URL` (honoured by botocore itself) points every client at a moto server.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from model_access.aws.calls import CallCounter
from model_access.core.settings import (
    IAM_CALL_MAX_SECONDS,
    IAM_CONNECT_SECONDS,
    IAM_READ_SECONDS,
    IAM_RETRIES,
    IAM_TOTAL_ATTEMPTS,
)

__all__ = ["IAM_CALL_MAX_SECONDS", "IAM_TOTAL_ATTEMPTS", "Clients"]

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_lambda.client import LambdaClient
    from mypy_boto3_organizations.client import OrganizationsClient
    from mypy_boto3_resourcegroupstaggingapi.client import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sagemaker.client import SageMakerClient
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sts.client import STSClient

DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
    max_pool_connections=20,
)
IAM_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": IAM_RETRIES},
    connect_timeout=IAM_CONNECT_SECONDS,
    read_timeout=IAM_READ_SECONDS,
    max_pool_connections=20,
)
"""IAM calls are capped in time so that one fits inside a lease (see IAM_CALL_MAX_SECONDS)."""
GRANT_STORE_CONFIG = DEFAULT_CONFIG.merge(Config(parameter_validation=False))
"""The grant store's items are built by typed code (`records.attribute`) and DynamoDB validates
every request itself: botocore's client-side walk of each attribute of each item was the
largest CPU cost of a burst's transactions (see bench/RESULTS.md)."""


class Clients:
    """One client per service, created on first use and shared (clients are thread-safe)."""

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        counter: CallCounter | None = None,
    ) -> None:
        self._session = session
        self._region = region
        self._endpoint_url = endpoint_url
        self._config = config or DEFAULT_CONFIG
        self.counter = counter or CallCounter()
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def session(self) -> boto3.Session | None:
        """The session given (None: boto3's default chain)."""
        return self._session

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint given (a local moto server), for clients of other accounts."""
        return self._endpoint_url

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._cache.get(service)
            if client is None:
                if self._session is None:  # one default session for every client: a
                    self._session = boto3.Session()  # session per client reloads botocore data
                session = self._session
                config = self._config  # a caller's own config wins (tests, benchmarks)
                if config is DEFAULT_CONFIG:
                    config = {"iam": IAM_CONFIG, "dynamodb": GRANT_STORE_CONFIG}.get(
                        service, DEFAULT_CONFIG)
                client = session.client(
                    service,  # type: ignore[call-overload]
                    region_name=self._region,
                    endpoint_url=self._endpoint_url,
                    config=config,
                )
                self.counter.watch(client)
                self._cache[service] = client
            return client

    @property
    def iam(self) -> IAMClient:
        return self._client("iam")  # type: ignore[no-any-return]

    @property
    def sagemaker(self) -> SageMakerClient:
        return self._client("sagemaker")  # type: ignore[no-any-return]

    @property
    def tagging(self) -> ResourceGroupsTaggingAPIClient:
        return self._client("resourcegroupstaggingapi")  # type: ignore[no-any-return]

    @property
    def dynamodb(self) -> DynamoDBClient:
        return self._client("dynamodb")  # type: ignore[no-any-return]

    @property
    def sqs(self) -> SQSClient:
        return self._client("sqs")  # type: ignore[no-any-return]

    @property
    def events(self) -> EventBridgeClient:
        return self._client("events")  # type: ignore[no-any-return]

    @property
    def sts(self) -> STSClient:
        return self._client("sts")  # type: ignore[no-any-return]

    @property
    def lambda_(self) -> LambdaClient:
        return self._client("lambda")  # type: ignore[no-any-return]

    @property
    def organizations(self) -> OrganizationsClient:
        return self._client("organizations")  # type: ignore[no-any-return]
