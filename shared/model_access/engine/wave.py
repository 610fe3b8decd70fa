"""Apply several role groups at once: one read of role records, one intent write, one commit.

A wave is a set of role groups whose leases this worker holds together (groups share no
role and no model). Each group keeps its own steps (applier.py: re-check, plan, IAM); what
the groups write to the grant store goes in shared transactions, so a burst over twenty
roles costs a handful of DynamoDB calls per step instead of one per role. Every
transaction carries the fence checks of all the wave's leases: a write is recorded only
while every lease is still ours, as for a group alone.

A failed intent write or commit (a lost lease, a role record changed under its lease, a
DynamoDB error) sends every model of the wave back to the queue, as it did for a group;
what a transaction that did go through wrote is exactly what a crash at that point leaves,
which the next reconcile repairs (see applier.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.core.deadline import Deadline
from model_access.core.errors import ConcurrentUpdateError, DeadlineError, ModelAccessError
from model_access.model.grants import RoleGrants

if TYPE_CHECKING:
    from model_access.engine.applier import GroupApplier
    from model_access.engine.reconcile import Work

WAVE_ROLES: Final = 20
"""Most roles whose groups share a wave: their fence checks ride in every transaction of
at most 100 actions (DynamoDB's limit), which leaves 80 for records."""


def apply_wave(work: Work, appliers: Sequence[GroupApplier], *, dry_run: bool = False,
               deadline: Deadline | None = None, reread_models: bool = False) -> None:
    """Apply every group of the wave; the caller releases whatever leases remain held.

    The role records are read here, under the leases: they are the base of the IAM writes.
    The model records were read (consistently) by the decision phase; every write of one is
    conditioned on the version read, so a model changed meanwhile comes back as a conflict,
    never as a lost or doubled grant. `reread_models` reads them again first: for groups
    that waited for a lease, whose models the lease's last holder has likely just changed.

    No group starts its IAM writes past `deadline`: its models come back as retries, and
    the records its intents wrote are committed as unfinished (applier.undone)."""
    w = work
    held = frozenset().union(*(a.held for a in appliers))
    every = [k for a in appliers for k in a.pending_keys()]
    try:
        records, grants = w.rc.store.read(every if reread_models else (), held)
    except ModelAccessError as exc:
        w.fail(every, exc)
        return
    active = [(a, a.prepare(records, grants)) for a in appliers]
    if dry_run:
        for applier, keys in active:
            applier.settle(keys)
        return
    active = _write_intents(w, active, held)
    for applier, keys in active:
        if deadline is not None and deadline.expired():
            w.fail(keys, DeadlineError("the invocation's time ran out first"), retry_delay=0)
            keys.clear()
            applier.grants = dict(applier.stored)  # no IAM write: no role record changes
            continue
        failed = applier.apply_all(keys)
        keys[:] = [k for k in keys if k not in failed]
        applier.settle(keys)
    _commit(w, active, held)


def _write_intents(w: Work, active: list[tuple[GroupApplier, list[ResourceKey]]],
                   held: frozenset[str]) -> list[tuple[GroupApplier, list[ResourceKey]]]:
    writes = [(a, keys, *a.intent_writes(keys)) for a, keys in active]
    intents = [r for _, _, records, _ in writes for r in records]
    roles = [g for _, _, _, role_records in writes for g in role_records]
    if not intents and not roles:
        return active
    try:
        conflicts = w.rc.store.commit(intents, roles, w.rc.leases.fence_checks(held))
    except ModelAccessError as exc:
        for _, keys in active:
            w.fail(keys, exc)
        return []
    return [(a, a.intents_written(keys, records, role_records, conflicts & set(keys)))
            for a, keys, records, role_records in writes]


def _commit(w: Work, active: list[tuple[GroupApplier, list[ResourceKey]]],
            held: frozenset[str]) -> None:
    """Commit the wave's role records and changed model records, giving the leases back
    in the same transaction."""
    finals: list[GrantRecord] = []
    roles: list[RoleGrants] = []
    for applier, keys in active:
        records, role_records = applier.final_writes(keys)
        finals += records
        roles += role_records
    try:
        conflicts = w.rc.store.commit(finals, roles, w.rc.leases.fence_checks(held),
                                      release=True)
    except ModelAccessError as exc:  # nothing of the wave is recorded: all come back
        for _, keys in active:
            w.unfinish(keys, exc)
        return
    if finals or roles:
        w.rc.leases.handed_back(held)
    for _, keys in active:
        w.unfinish(conflicts & set(keys), ConcurrentUpdateError(
            "grant record changed concurrently"))
