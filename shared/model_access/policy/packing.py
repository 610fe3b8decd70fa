"""Pack a role's resource ARNs into numbered tool policies: few writes, never over a limit.

Stable by design: an ARN that is already placed stays in its policy, new ARNs go to the
first policy with room (first fit, lowest number first), a new policy is opened only when
none has room and the role's share allows it. Rewriting fewer policies means fewer IAM
writes; a full repack would touch every policy of the role on every change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

MAX_SLOT_INDEX: Final = 99
"""Policy names end in a two-digit number."""


@dataclass(frozen=True)
class PackResult:
    """Where every ARN ended up: numbered slots (all non-empty) and what did not fit."""

    slots: Mapping[int, frozenset[str]]
    unplaced: frozenset[str]


Section = Callable[[str], tuple[str, int]]
"""For an ARN: the document section it lands in (its kind) and that section's fixed size."""


def pack(
    current: Mapping[int, Iterable[str]],
    add: Iterable[str],
    remove: Iterable[str],
    *,
    base_size: int,
    arn_cost: Callable[[str], int],
    budget: int,
    max_slots: int,
    section_of: Section,
    reserved: frozenset[int] = frozenset(),
) -> PackResult:
    """Apply `remove` then `add` to the current slots, keeping each slot's size within `budget`.

    A slot's size is modelled as `base_size` plus the fixed size of each section present
    (`section_of`: one per resource kind) plus `sum(arn_cost(a))`; `PolicyShape.size` is the
    exact figure and a property test pins the model to it.
    Slots already over budget (a lowered margin, a hand edit) shed their last ARNs, which
    are then placed like new ones. ARNs that fit nowhere are returned in `unplaced`.
    `reserved` slot numbers are never opened (their names are taken by someone else).
    """

    def size(arns: Iterable[str]) -> int:
        arns = list(arns)
        sections = {section_of(a) for a in arns}
        return base_size + sum(fixed for _, fixed in sections) + sum(arn_cost(a) for a in arns)

    def added_cost(index: int, arn: str) -> int:
        section = section_of(arn)
        new_section = section not in sections[index]
        return arn_cost(arn) + (section[1] if new_section else 0)

    removed = set(remove)
    slots: dict[int, set[str]] = {}
    kept: set[str] = set()
    for index in sorted(current):  # an ARN found in two policies stays in the first only
        slots[index] = set(current[index]) - removed - kept
        kept |= slots[index]
    sizes = {i: size(arns) for i, arns in slots.items()}
    shed: set[str] = set()
    for index in sorted(slots):
        for arn in sorted(slots[index], reverse=True):
            if sizes[index] <= budget:
                break
            slots[index].discard(arn)
            sizes[index] = size(slots[index])
            shed.add(arn)
    sections = {i: {section_of(a) for a in arns} for i, arns in slots.items()}
    placed = set().union(*slots.values()) if slots else set()
    pending = sorted((set(add) | shed) - placed)
    unplaced: set[str] = set()
    for arn in pending:
        target = next(
            (i for i in sorted(slots) if slots[i] and sizes[i] + added_cost(i, arn) <= budget),
            None)
        if target is None:
            target = _open_slot(slots, max_slots, reserved)
            if target is None or size([arn]) > budget:
                unplaced.add(arn)
                continue
            slots[target], sections[target] = set(), set()
            sizes[target] = base_size
        sizes[target] += added_cost(target, arn)
        slots[target].add(arn)
        sections[target].add(section_of(arn))
    return PackResult(
        {i: frozenset(arns) for i, arns in sorted(slots.items()) if arns}, frozenset(unplaced)
    )


def _open_slot(
    slots: Mapping[int, set[str]], max_slots: int, reserved: frozenset[int]
) -> int | None:
    """The lowest free slot number, or None when the role's share is used up."""
    in_use = {i for i, arns in slots.items() if arns}
    if len(in_use) >= max_slots:
        return None
    return next(
        (i for i in range(1, MAX_SLOT_INDEX + 1) if i not in in_use and i not in reserved), None
    )
