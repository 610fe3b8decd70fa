"""Build the reconcile machinery from settings: the one place adapters get wired together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from model_access.access import profile_from_settings, validate_profile
from model_access.arns import Scope
from model_access.aws.clients import Clients
from model_access.aws.iam import IamGateway
from model_access.aws.leases import RoleLeases
from model_access.aws.models import ModelReader
from model_access.aws.policy_writer import PolicyWriter
from model_access.aws.records import GrantRecords
from model_access.aws.store import GrantStore
from model_access.aws.translate import translated
from model_access.catalog import default_catalog
from model_access.policy import PolicyShape
from model_access.reconcile import Reconciler
from model_access.settings import Settings


@dataclass
class Runtime:
    """Settings, clients and the reconciler built from them (one per process)."""

    settings: Settings
    scope: Scope
    clients: Clients
    reconciler: Reconciler
    records: GrantRecords
    models: ModelReader
    iam: IamGateway
    store: GrantStore


def resolve_scope(settings: Settings, clients: Clients, function_arn: str | None = None) -> Scope:
    """Partition, region and account: from settings, else the function's ARN, else STS."""
    account, partition = settings.account_id, settings.partition
    if account is None and function_arn and function_arn.count(":") >= 6:
        parts = function_arn.split(":")
        partition, account = parts[1], parts[4]
    if account is None:
        with translated("GetCallerIdentity"):
            identity = clients.sts.get_caller_identity()
        account = identity["Account"]
        partition = identity["Arn"].split(":")[1] or partition
    return Scope(partition, settings.region, account)


def build_runtime(
    env: Mapping[str, str] | None = None,
    *,
    clients: Clients | None = None,
    function_arn: str | None = None,
) -> Runtime:
    """Validate settings and the access profile (ConfigurationError on failure) and wire up."""
    settings = Settings.from_mapping(os.environ if env is None else env)
    profile = profile_from_settings(settings)
    validate_profile(profile, default_catalog())
    clients = clients or Clients(region=settings.region)
    scope = resolve_scope(settings, clients, function_arn)
    iam = IamGateway(clients.iam, scope, policy_path=settings.policy_path,
                     name_prefix=settings.policy_name_prefix)
    writer = PolicyWriter(clients.iam, policy_path=settings.policy_path)
    models = ModelReader(clients.sagemaker, clients.tagging)
    records = GrantRecords(clients.dynamodb, settings.table_name)
    store = GrantStore(clients.dynamodb, settings.table_name)
    leases = RoleLeases(clients.dynamodb, settings.table_name,
                        lease_seconds=settings.lease_seconds,
                        wait_seconds=settings.lease_wait_seconds)
    reconciler = Reconciler(settings, scope, iam, writer, models, records, store, leases,
                            PolicyShape(profile, scope))
    return Runtime(settings, scope, clients, reconciler, records, models, iam, store)


def context_function_arn(context: Any) -> str | None:
    """The invoked function ARN from a Lambda context (None for local calls)."""
    arn = getattr(context, "invoked_function_arn", None)
    return arn if isinstance(arn, str) else None
