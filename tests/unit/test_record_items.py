"""Grant record items: the fast attribute writer matches boto3's TypeSerializer exactly, and
history entries read back the same whether stored as compact strings or as older maps."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from model_access.arns import ResourceKey
from model_access.aws.records import GrantRecord, attribute

plain = st.recursive(
    st.text() | st.integers(-10**12, 10**12) | st.booleans()
    | st.frozensets(st.text(), min_size=1, max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(plain)
def test_attribute_is_what_type_serializer_writes(value: Any) -> None:
    assert attribute(value) == TypeSerializer().serialize(value)


def test_attribute_leaves_the_rest_to_type_serializer() -> None:
    assert attribute(None) == {"NULL": True}
    assert attribute(b"x") == TypeSerializer().serialize(b"x")


@given(st.lists(st.fixed_dictionaries({"at": st.text(), "outcome": st.text(),
                                       "role": st.text(), "event": st.text()}), max_size=3))
def test_history_round_trips_and_reads_older_maps(entries: list[dict[str, str]]) -> None:
    record = GrantRecord(ResourceKey("us-east-1", "m1"), version=1, history=tuple(entries))
    item = record.to_item()
    assert GrantRecord.from_item(item).history == tuple(entries)
    if entries:  # an item written before entries were strings: the same history
        older = {**item, "history": {"L": [TypeSerializer().serialize(e) for e in entries]}}
        assert GrantRecord.from_item(older).history == tuple(entries)
