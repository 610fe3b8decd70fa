"""In-memory stand-ins for the engine's adapters, with a simulated clock.

For the scale benchmarks: 100,000 models through the real engine (reconcile, applier,
planning, packing, the sweep and its continuations) without moto's own cost, which grows
with the account. Every call advances a simulated clock by a stated latency and is
counted, so a 900 s Lambda can be "run" in seconds of real time. The fakes keep only the
semantics the engine relies on (conditional versions, leases, policy versions).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from model_access.aws.iam import InventoryRow
from model_access.aws.models import ModelTruth
from model_access.aws.policy_writer import CreatedPolicy, PolicyExistsError
from model_access.aws.records import GrantRecord
from model_access.aws.sweep_state import SweepState
from model_access.core.arns import ResourceKey, Scope, parse_model_arn
from model_access.core.settings import Settings
from model_access.model.grants import RoleGrants
from model_access.model.owner import RoleFacts
from model_access.policy.naming import parse_policy_name, policy_arn


@dataclass
class Latency:
    """Seconds each kind of call takes on the simulated clock (parameters, not AWS facts)."""

    read: float = 0.02
    write: float = 0.03
    iam_write: float = 0.15


@dataclass
class Sim:
    """The simulated clock and call counter shared by every fake."""

    latency: Latency = field(default_factory=Latency)
    now: float = 1_000_000.0
    calls: Counter[str] = field(default_factory=Counter)

    def call(self, name: str, kind: str = "read") -> None:
        self.calls[name] += 1
        self.now += getattr(self.latency, kind)

    def clock(self) -> float:
        return self.now

    def iam_writes(self) -> int:
        return sum(n for k, n in self.calls.items() if k.startswith("iam:") and k.split(":")[1][
            :1] in {"C", "A", "D", "P"})


@dataclass
class Account:
    """What AWS would hold: models, roles, policies, and the DynamoDB table."""

    scope: Scope
    models: dict[ResourceKey, ModelTruth] = field(default_factory=dict)
    roles: dict[str, RoleFacts] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[ResourceKey, GrantRecord] = field(default_factory=dict)
    grants: dict[str, RoleGrants] = field(default_factory=dict)
    leases: dict[str, tuple[str, float]] = field(default_factory=dict)
    sweeps: dict[str, SweepState] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=itertools.count)

    def add_role(self, name: str) -> None:
        self.roles[name.lower()] = RoleFacts(name, "/", f"arn:aws:iam::{self.scope.account}:"
                                             f"role/{name}", {"model-access:eligible": "true"})

    def add_model(self, name: str, owner: str | None) -> None:
        arn = f"arn:aws:sagemaker:{self.scope.region}:{self.scope.account}:model/{name}"
        key = ResourceKey.of(self.scope.region, name)
        tags = (("owner-role", owner),) if owner else ()
        self.models[key] = ModelTruth(key, True, arn, name, tags, "2026-01-01T00:00:00+00:00")


class FakeIam:
    def __init__(self, acct: Account, sim: Sim, settings: Settings) -> None:
        self.a, self.sim, self.s = acct, sim, settings

    def policy_arn(self, name: str) -> str:
        return policy_arn(self.a.scope, self.s.policy_path, name)

    def get_role(self, name: str) -> RoleFacts | None:
        self.sim.call("iam:GetRole")
        return self.a.roles.get(name.lower())

    def attached_policy_quota(self) -> int:
        return 10

    def role_attachments(self, role: str) -> tuple[set[str], set[int]]:
        self.sim.call("iam:ListAttachedRolePolicies")
        return {arn for arn, p in self.a.policies.items() if role.lower() in p["attached"]}, set()

    def list_tool_policies(self) -> Iterator[InventoryRow]:
        for start in range(0, len(self.a.policies), 100):
            self.sim.call("iam:ListPolicies")
            for arn, p in list(self.a.policies.items())[start:start + 100]:
                parsed = parse_policy_name(self.s.policy_name_prefix, p["name"])
                if parsed:
                    yield InventoryRow(p["name"], arn, parsed.role_name, parsed.index, p["id"],
                                       p["default"], len(p["attached"]))


class FakeWriter:
    def __init__(self, acct: Account, sim: Sim) -> None:
        self.a, self.sim = acct, sim

    def create(self, role: str, name: str, document: dict[str, Any]) -> CreatedPolicy:
        self.sim.call("iam:CreatePolicy", "iam_write")
        arn = f"arn:aws:iam::{self.a.scope.account}:policy/model-access/{name}"
        if arn in self.a.policies:
            raise PolicyExistsError(name)
        pid = f"ANPA{next(self.a.ids):012d}"
        self.a.policies[arn] = {"name": name, "id": pid, "versions": {"v1": document},
                                "default": "v1", "attached": set(), "next": 2}
        return CreatedPolicy(arn, pid, "v1")

    def adopt(self, arn: str, intended: Sequence[str]) -> CreatedPolicy | None:
        self.sim.call("iam:GetPolicy")
        return None

    def put_version(self, arn: str, document: dict[str, Any], ours: Sequence[str],
                    keep: int) -> tuple[str, tuple[str, ...]]:
        self.sim.call("iam:ListPolicyVersions")
        p = self.a.policies[arn]
        mine = [v for v in p["versions"] if v != p["default"] and v in ours]
        for version in mine[: max(0, len(mine) + 2 - keep)]:
            self.sim.call("iam:DeletePolicyVersion", "iam_write")
            del p["versions"][version]
        self.sim.call("iam:CreatePolicyVersion", "iam_write")
        new = f"v{p['next']}"
        p["next"] += 1
        p["versions"][new] = document
        old, p["default"] = p["default"], new
        kept = [v for v in p["versions"] if v != new]
        return new, (*[v for v in kept if v in ours or v == old], new)

    def attach(self, role: str, arn: str) -> None:
        self.sim.call("iam:AttachRolePolicy", "iam_write")
        self.a.policies[arn]["attached"].add(role.lower())

    def detach(self, role: str, arn: str) -> None:
        self.sim.call("iam:DetachRolePolicy", "iam_write")
        if arn in self.a.policies:
            self.a.policies[arn]["attached"].discard(role.lower())

    def delete(self, arn: str) -> None:
        self.sim.call("iam:DeletePolicy", "iam_write")
        self.a.policies.pop(arn, None)


class FakeModels:
    def __init__(self, acct: Account, sim: Sim) -> None:
        self.a, self.sim = acct, sim

    def read(self, by_arn: Mapping[ResourceKey, str], by_name: Mapping[ResourceKey, str]) -> dict[
        ResourceKey, ModelTruth
    ]:
        for _ in range(0, len(by_arn), 100):
            self.sim.call("tagging:GetResources")
        out = {}
        for key in by_arn:
            truth = self.a.models.get(key)
            if truth is not None and truth.tags:
                out[key] = replace(truth, from_index=True)
        for key in [*by_arn, *by_name]:
            if key not in out:
                out[key] = self.describe(key, key.name_lower)
        return out

    def describe(self, key: ResourceKey, name: str) -> ModelTruth:
        self.sim.call("sagemaker:DescribeModel")
        self.sim.call("sagemaker:ListTags")
        return self.a.models.get(key) or ModelTruth(key, False)

    def tagged_models(self, tag_key: str) -> Iterator[tuple[str, tuple[tuple[str, str], ...]]]:
        tagged = [t for t in self.a.models.values() if any(k == tag_key for k, _ in t.tags)]
        for start in range(0, len(tagged), 100):
            self.sim.call("tagging:GetResources")
            for truth in tagged[start:start + 100]:
                yield str(truth.arn), truth.tags


class FakeRecords:
    def __init__(self, acct: Account, sim: Sim) -> None:
        self.a, self.sim = acct, sim

    def get_many(self, keys: Iterable[ResourceKey], *, consistent: bool = True) -> dict[
        ResourceKey, GrantRecord
    ]:
        keys = list(keys)
        for _ in range(0, len(keys), 100):
            self.sim.call("dynamodb:BatchGetItem")
        return {k: self.a.records.get(k, GrantRecord(k)) for k in keys}

    def scan_held(self) -> Iterator[GrantRecord]:
        held = [r for r in self.a.records.values() if r.holders]
        for _ in range(0, max(len(self.a.records), 1), 1000):
            self.sim.call("dynamodb:Scan")
        yield from held

    def scan(self) -> Iterator[GrantRecord]:
        yield from self.a.records.values()


class FakeStore:
    def __init__(self, acct: Account, sim: Sim) -> None:
        self.a, self.sim = acct, sim

    def read(self, keys: Iterable[ResourceKey], roles: Iterable[str], *, consistent: bool = True,
             ) -> tuple[dict[ResourceKey, GrantRecord], dict[str, RoleGrants]]:
        keys, roles = list(keys), list(roles)
        for _ in range(0, len(keys) + len(roles), 100):
            self.sim.call("dynamodb:BatchGetItem")
        return ({k: self.a.records.get(k, GrantRecord(k)) for k in keys},
                {r.lower(): self.a.grants.get(r.lower(), RoleGrants(r)) for r in roles})

    def commit(self, records: Sequence[GrantRecord], roles: Sequence[RoleGrants],
               fence: Sequence[dict[str, Any]] = (), *, release: bool = False,
               ) -> set[ResourceKey]:
        """As GrantStore.commit; leases given back with it are dropped by FakeLeases."""
        for _ in range(0, len(records) + len(roles), 100 - len(fence)):
            self.sim.call("dynamodb:TransactWriteItems", "write")
        conflicts = set()
        for record in records:
            stored = self.a.records.get(record.key)
            if (stored.version if stored else 0) != record.version - 1:
                conflicts.add(record.key)
            else:
                self.a.records[record.key] = record
        for role in roles:
            if role.empty:
                self.a.grants.pop(role.key, None)
            else:
                self.a.grants[role.key] = role
        return conflicts

    def scan_roles(self) -> Iterator[RoleGrants]:
        self.sim.call("dynamodb:Scan")
        yield from list(self.a.grants.values())


class FakeLeases:
    def __init__(self, acct: Account, sim: Sim, seconds: float = 120.0) -> None:
        self.a, self.sim, self.seconds = acct, sim, seconds
        self.owner = "bench"
        self.wait_seconds = 0.0

    def acquire(self, roles: Iterable[str], wait: float | None = None) -> frozenset[str]:
        held = set()
        for role in sorted({r.lower() for r in roles}):
            self.sim.call("dynamodb:PutItem", "write")
            self.a.leases[role] = (self.owner, self.sim.now + self.seconds)
            held.add(role)
        return frozenset(held)

    def release(self, roles: Iterable[str]) -> None:
        for role in {r.lower() for r in roles}:
            if self.a.leases.pop(role, None) is not None:
                self.sim.call("dynamodb:DeleteItem", "write")

    def handed_back(self, roles: Iterable[str]) -> None:
        """The commit's transaction deleted these leases (no call of its own)."""
        for role in roles:
            self.a.leases.pop(role.lower(), None)

    def ensure(self, role: str, seconds: float) -> None:
        owner, until = self.a.leases[role.lower()]
        if until - self.sim.now < seconds:
            self.sim.call("dynamodb:PutItem", "write")
            self.a.leases[role.lower()] = (owner, self.sim.now + self.seconds)

    def remaining(self, role: str) -> float:
        return self.a.leases[role.lower()][1] - self.sim.now

    def fence_checks(self, roles: Iterable[str]) -> list[dict[str, Any]]:
        return [{} for _ in {r.lower() for r in roles}]


class FakeStates:
    """Sweep progress in the fake table (claim, save, advance), as aws/sweep_state.py."""

    def __init__(self, acct: Account, sim: Sim) -> None:
        self.a, self.sim = acct, sim

    def claim(self, run_id: str, owner: str) -> SweepState | None:
        self.sim.call("dynamodb:UpdateItem", "write")
        state = self.a.sweeps.setdefault(run_id, SweepState(run_id))
        return None if state.status == "done" else state

    def save(self, state: SweepState, owner: str, *, advance: bool = False,
             done: bool = False) -> None:
        self.sim.call("dynamodb:UpdateItem", "write")
        self.a.sweeps[state.run_id] = replace(
            state, slice=state.slice + (1 if advance else 0), status="done" if done else "running")


class _IamClient:
    """The two raw IAM reads the sweep's inventory makes (ListPolicyVersions, GetPolicyVersion)."""

    def __init__(self, acct: Account, sim: Sim) -> None:
        self.a, self.sim = acct, sim

    def list_policy_versions(self, PolicyArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's
        self.sim.call("iam:ListPolicyVersions")
        return {"Versions": [{"VersionId": v} for v in self.a.policies[PolicyArn]["versions"]]}

    def get_policy_version(self, PolicyArn: str, VersionId: str) -> dict[str, Any]:  # noqa: N803
        self.sim.call("iam:GetPolicyVersion")
        return {"PolicyVersion": {"Document": self.a.policies[PolicyArn]["versions"][VersionId]}}


@dataclass
class _Clients:
    iam: _IamClient


@dataclass
class MemoryRuntime:
    """The parts of `Runtime` the engine and the sweep use, wired to the fakes."""

    settings: Settings
    scope: Scope
    iam: FakeIam
    models: FakeModels
    records: FakeRecords
    store: FakeStore
    reconciler: Any
    clients: _Clients


def memory_runtime(acct: Account, sim: Sim, settings: Settings | None = None) -> MemoryRuntime:
    """The real Reconciler on in-memory adapters."""
    import random

    from model_access.engine.reconcile import Reconciler
    from model_access.model.access import profile_from_settings
    from model_access.policy.render import PolicyShape

    s = settings or Settings(account_id=acct.scope.account, region=acct.scope.region,
                             role_tag=("model-access:eligible", "true"))
    iam = FakeIam(acct, sim, s)
    models, records, store = FakeModels(acct, sim), FakeRecords(acct, sim), FakeStore(acct, sim)
    reconciler = Reconciler(s, acct.scope, iam, FakeWriter(acct, sim), models,  # type: ignore[arg-type]
                            records, store, FakeLeases(acct, sim),  # type: ignore[arg-type]
                            PolicyShape(profile_from_settings(s), acct.scope), clock=sim.clock,
                            rng=random.Random(0))
    return MemoryRuntime(s, acct.scope, iam, models, records, store, reconciler,
                         _Clients(_IamClient(acct, sim)))


def granted(acct: Account) -> dict[str, set[str]]:
    """role -> model ARNs its attached tool policies grant (from the fake IAM)."""
    from model_access.policy.render import model_arns_in

    out: dict[str, set[str]] = {}
    for p in acct.policies.values():
        for role in p["attached"]:
            out.setdefault(role, set()).update(model_arns_in(p["versions"][p["default"]]))
    return out


def owner_of(acct: Account) -> dict[str, str]:
    """model ARN -> lower-cased owner role, from the tags."""
    return {str(t.arn): v.lower() for t in acct.models.values() for k, v in t.tags
            if k == "owner-role" and parse_model_arn(str(t.arn))}
