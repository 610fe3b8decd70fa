"""Build the reconcile machinery from settings: the one place adapters get wired together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from model_access.aws.clients import Clients
from model_access.aws.iam import IamGateway
from model_access.aws.leases import RoleLeases
from model_access.aws.member_sessions import MemberSessions
from model_access.aws.models import ModelReader
from model_access.aws.policy_writer import PolicyWriter
from model_access.aws.records import GrantRecords, account_namespace
from model_access.aws.regional_models import RegionalModels
from model_access.aws.store import GrantStore
from model_access.aws.translate import translated
from model_access.core.arns import Scope
from model_access.core.settings import Settings
from model_access.engine.reconcile import Reconciler
from model_access.model.access import profile_from_settings, validate_profile
from model_access.model.catalog import default_catalog
from model_access.policy.render import PolicyShape


@dataclass
class Runtime:
    """Settings, clients and the reconciler built from them (one per process), for the hub's
    own account and home region; `for_origin` gives the same for another account or region."""

    settings: Settings
    scope: Scope
    clients: Clients
    reconciler: Reconciler
    records: GrantRecords
    models: ModelReader
    iam: IamGateway
    store: GrantStore
    sessions: MemberSessions | None = None
    hub: Runtime | None = None
    """The hub's runtime when this one acts in another account or region."""
    _origins: dict[tuple[str, str], Runtime] = field(default_factory=dict, repr=False)

    @property
    def hub_account(self) -> str | None:
        return (self.hub or self).scope.account

    def for_origin(self, account: str | None, region: str) -> Runtime:
        """The runtime acting in `account` and `region`: the hub's own for its account and
        home region; otherwise SageMaker and IAM through the member role (or the hub's
        credentials in another region of its own account), with the grant store, leases
        and records of that account (one writer per account and role, across regions).

        Raises AccountNotMemberError for an account the hub does not serve (nothing is read
        or written) and MemberUnavailableError when its member role cannot be assumed."""
        hub = self.hub or self
        account = account or hub.scope.account or ""
        if account == hub.scope.account and region == hub.scope.region:
            return hub
        cached = hub._origins.get((account, region))
        if cached is not None:
            if hub.sessions is not None and account != hub.scope.account:
                hub.sessions.admit(account)  # organization answers expire
            return cached
        if hub.sessions is None:
            raise RuntimeError("for_origin needs member sessions (build_runtime makes them)")
        clients = hub.sessions.clients(account, region)
        built = _wire(hub.settings, Scope(hub.scope.partition, region, account), clients,
                      hub.clients, account_namespace(account, hub.scope.account),
                      member=account != hub.scope.account)
        built.hub = hub
        _span_regions(built, hub)
        hub._origins[(account, region)] = built
        return built


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
    validate_profile(profile_from_settings(settings), default_catalog())
    clients = clients or Clients(region=settings.region)
    scope = resolve_scope(settings, clients, function_arn)
    runtime = _wire(settings, scope, clients, clients, "", member=False)
    runtime.sessions = MemberSessions(settings, scope.account or "", clients,
                                      hub_session=clients.session)
    _span_regions(runtime, runtime)
    return runtime


def _span_regions(runtime: Runtime, hub: Runtime) -> None:
    """With several served regions, the runtime's reconciler reads each model in its own
    region (other regions' SageMaker through `hub.for_origin`, built on first use), so one
    reconcile writes a role once for its models of every region."""
    settings, scope = runtime.settings, runtime.scope
    if not settings.regions:
        return
    account = scope.account

    def reader_for(region: str) -> ModelReader:
        return hub.for_origin(account, region).models

    runtime.reconciler.models = RegionalModels(runtime.models, scope.region, reader_for)
    runtime.reconciler.regions = settings.served_regions


def _wire(settings: Settings, scope: Scope, clients: Clients, table_clients: Clients,
          namespace: str, *, member: bool) -> Runtime:
    """Adapters for one (account, region): SageMaker and IAM from `clients`, the grant store,
    records and leases from the hub's table under the account's namespace."""
    if member:  # the role the hub acts as there is never granted anything
        settings = replace(settings, provisioner_role=settings.member_role)
    profile = profile_from_settings(settings)
    iam = IamGateway(clients.iam, scope, policy_path=settings.policy_path,
                     name_prefix=settings.policy_name_prefix)
    writer = PolicyWriter(clients.iam, policy_path=settings.policy_path)
    models = ModelReader(clients.sagemaker, clients.tagging)
    db = table_clients.dynamodb
    records = GrantRecords(db, settings.table_name, namespace=namespace)
    store = GrantStore(db, settings.table_name, namespace=namespace)
    leases = RoleLeases(db, settings.table_name, lease_seconds=settings.lease_seconds,
                        wait_seconds=settings.lease_wait_seconds, namespace=namespace)
    # A role's policies hold its models of every served region: with more than one, the
    # conditioned statements' `<type>/*` cannot name one region (the condition still names
    # each model ARN exactly).
    render_scope = scope if not settings.regions else replace(scope, region="*")
    reconciler = Reconciler(settings, scope, iam, writer, models, records, store, leases,
                            PolicyShape(profile, render_scope))
    return Runtime(settings, scope, clients, reconciler, records, models, iam, store)


def context_function_arn(context: Any) -> str | None:
    """The invoked function ARN from a Lambda context (None for local calls)."""
    arn = getattr(context, "invoked_function_arn", None)
    return arn if isinstance(arn, str) else None
