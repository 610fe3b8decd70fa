"""Every row of the bad-input catalogue (docs/hostile-input.md), through the public handler.

Each row asserts: its named outcome (per record in the log, and in the handler's answer for
a direct invoke), exactly the matching metrics, no exception out of the handler, no new
holder of the model other than the truth's owner, and no other change anywhere in IAM
(snapshot before and after). A row whose input is rightly dropped changes nothing at all,
and the sweep then brings the truth in; every row ends with a clean `verify`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from model_access.handlers.provisioner import handle
from model_access.operate.verify import verify
from model_access.policy.naming import POLICY_NAME_MAX
from model_access.runtime import Runtime
from model_access.sweep.backfill import Backfill
from model_access_cli.local import cloudtrail
from tests.functional.hostile_catalogue import (
    DOC,
    ROWS,
    Case,
    Row,
    Scene,
    expected_metrics,
    render,
    table_in_doc,
)
from tests.functional.observe import Observed, holders, iam_snapshot, owned_keys
from tests.functional.world import World

PARAMS = [pytest.param(row, path, id=f"{row.id}-{path}") for row in ROWS
          for path in (("sqs",) if row.queue else ()) + (("direct",) if row.direct else ())]


def bystander(world: World, rt: Runtime) -> None:
    """State every row starts from: bob (eligible under every setting) holds model `held`."""
    world.role("alice")
    world.role("bob", "/teams/", {"model-access": "eligible"})
    world.model("held", "bob")
    assert handle(world.batch([world.create_event("held")]), rt) == {"batchItemFailures": []}
    assert world.granted(rt, "bob") == {world.arns["held"]}


def deliver_sqs(seen: Observed, row: Row, case: Case, rt: Runtime) -> None:
    bodies = case.bodies if case.bodies is not None else [json.dumps(e) for e in case.events]
    source = {"queue_arn": case.queue_arn} if case.queue_arn else {}
    batch: dict[str, Any] = {"Records": [cloudtrail.sqs_record(b, **source)  # type: ignore[arg-type]
                                         for b in bodies]}
    assert seen.run(batch, rt) == {"batchItemFailures": []}
    lines = seen.by_message()
    assert len(lines) == len(bodies), "every record has its own log line"
    expected = case.outcomes or [row.outcome] * len(bodies)
    for record, outcome in zip(batch["Records"], expected, strict=True):
        line = lines[record["messageId"]]
        assert (line.outcome, bool(line.getMessage())) == (outcome.value, True)  # type: ignore[attr-defined]
    assert seen.outcome_metrics == expected_metrics(row, case, len(bodies))


def deliver_direct(seen: Observed, row: Row, case: Case, rt: Runtime) -> None:
    assert case.bodies is None and len(case.events) == 1
    answer = seen.run(case.events[0], rt)
    assert answer["outcome"] == row.metric and answer["reason"]
    assert [line.outcome for line in seen.lines] == [row.metric]  # type: ignore[attr-defined]
    assert seen.outcome_metrics == Counter({row.metric: 1})


@pytest.mark.parametrize(("row", "path"), PARAMS)
def test_hostile_input_ends_in_its_named_outcome(world: World, row: Row, path: str) -> None:
    """The row's input ends in its outcome and metric, and IAM changes only for the owner."""
    rt = world.runtime(**row.env)
    bystander(world, rt)
    case = row.build(Scene(world, lambda events: handle(world.batch(events), rt)))
    arn = world.arns.get(case.model) if case.model else None
    before = iam_snapshot(world.clients.iam)
    seen = Observed()
    started = time.monotonic()
    (deliver_sqs if path == "sqs" else deliver_direct)(seen, row, case, rt)
    assert time.monotonic() - started < case.max_seconds
    after = iam_snapshot(world.clients.iam)
    owner = {f"role:{case.owner}"} if case.owner else set()

    if not case.settled:  # dropped input: nothing at all changed; the sweep settles it
        assert after == before
        Backfill(rt).run()
        after = iam_snapshot(world.clients.iam)
    else:
        allowed = set()
        for role in ({case.owner} if case.owner else set()) | {
                h.removeprefix("role:") for h in holders(before, arn or "-")}:
            allowed |= owned_keys(before, role, rt.settings.policy_name_prefix)
            allowed |= owned_keys(after, role, rt.settings.policy_name_prefix)
        assert {k: v for k, v in after.items() if k not in allowed} == {
            k: v for k, v in before.items() if k not in allowed}
    if arn:
        assert holders(after, arn) == owner
    assert all(len(k.rsplit("/", 1)[-1]) <= POLICY_NAME_MAX for k in after if k[:7] == "policy:")
    assert verify(rt) == []


def test_hostile_input_catalogue_matches_the_doc() -> None:
    """docs/hostile-input.md shows exactly the table the tests run (regenerate if not)."""
    assert table_in_doc(DOC.read_text()) == render(), (
        "run: .venv/bin/python -m tests.functional.hostile_catalogue")
    assert len(ROWS) >= 30
    assert len({row.id for row in ROWS}) == len(ROWS)
