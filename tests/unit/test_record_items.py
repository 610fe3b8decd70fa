"""Grant record items: the fast attribute writer matches boto3's TypeSerializer exactly, and
history entries read back the same whether stored as compact strings or as older maps."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from model_access.aws.records import GrantRecord, attribute
from model_access.aws.store import role_from_item, role_to_item
from model_access.core.arns import ResourceKey
from model_access.model.grants import RoleGrants

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


@given(st.sampled_from(["model", "model-package-group"]),
       st.sampled_from(["us-east-1", "eu-west-1"]),
       st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True),
       st.sampled_from(["", "acct#210987654321#"]))
def test_key_is_read_back_from_the_pk_in_any_namespace(kind: str, region: str, name: str,
                                                      namespace: str) -> None:
    record = GrantRecord(ResourceKey(region, name, kind), version=3, role="alice")
    item = record.to_item()
    assert not {"region", "name_lower", "kind"} & set(item)
    stored = {**item, "pk": {"S": namespace + item["pk"]["S"]}}
    assert GrantRecord.from_item(stored) == record


def test_items_written_by_earlier_versions_read_the_same() -> None:
    """Model records with their key parts as attributes, role records with slots as lists."""
    record = GrantRecord(ResourceKey("us-east-1", "m1"), version=2, role="alice")
    older = {**record.to_item(), "region": {"S": "us-east-1"}, "name_lower": {"S": "m1"},
             "kind": {"S": "model"}}
    assert GrantRecord.from_item(older) == record
    grants = RoleGrants("alice", 4, {0: frozenset({"arn:a", "arn:b"})})
    item = role_to_item(grants)
    assert set(item["slots"]["M"]["0"]["SS"]) == {"arn:a", "arn:b"}  # a string set
    as_list = {**item, "slots": {"M": {"0": {"L": [{"S": "arn:a"}, {"S": "arn:b"}]}}}}
    assert role_from_item(as_list) == role_from_item(item) == grants
