"""A fresh moto server per measurement, the local stack on it, and the helpers every scenario uses.

A moto server on 127.0.0.1 (`server.moto_server`: moto's own app, served as
ThreadedMotoServer serves it), `local up` (table, queue + DLQ, EventBridge rule),
CloudTrail-shaped events put on the bus directly so the rule routes them into the queue (the
bench measures from the bus on: the trail stand-in of `local serve` is not in the path), and
the `LocalPoller` playing the Lambda event source mapping.

Set-up is not what we measure, so it takes shortcuts: models are created straight in moto's
in-process SageMaker backend (creating 10,000 over HTTP would take minutes per server), and
IAM is inspected the same way after a run, so checking the result costs no counted calls.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import unquote

from model_access_cli.local.server import moto_server, use_dummy_credentials

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"
"""moto's default account: the one every request without real credentials lands in."""
PROVISIONER_ROLE: Final = "model-access-provisioner"
OWNER_TAG: Final = "owner-role"
ELIGIBLE_TAGS: Final = [{"Key": "model-access:eligible", "Value": "true"}]
"""Owner roles opt in, as the default settings require."""
TRUST: Final = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
ESM_VISIBILITY_SECONDS: Final = 30
"""The queue's visibility timeout (as local_stack.VISIBILITY_TIMEOUT): failed records come back."""

_WORDS: Final = ("churn", "fraud", "demand", "ranker", "embed", "vision", "speech", "pricing",
                 "anomaly", "forecast", "recsys", "ner", "summarizer", "classifier")
_ALGOS: Final = ("xgboost", "pytorch", "sklearn", "tensorflow", "huggingface", "lightgbm")


def model_name(i: int, length: int = 40) -> str:
    """A real-looking SageMaker model name of exactly `length` characters (unique per i)."""
    base = f"{_WORDS[i % len(_WORDS)]}-{_ALGOS[i % len(_ALGOS)]}-20261128-{i:06d}"
    if len(base) >= length:
        name = base[-length:]
    else:
        name = (f"{_WORDS[(i // 7) % len(_WORDS)]}-prod-v{i % 97}-" * 4)[: length - len(base)]
        name = name + base
    name = name.strip("-")
    while len(name) < length:  # stripping a hyphen shortened it: pad with a letter
        name = "m" + name
    return name


def prepare_process(*, share_service_models: bool = False) -> None:
    """Once per process, before any client exists: dummy credentials and quiet, fast tooling.

    `share_service_models` (quick runs only): every botocore session of the process shares
    the service models it loaded. Each runtime and baseline otherwise loads them again, as a
    new Lambda container does (about 0.15 s per client): real cost that full runs keep in
    the first batch of each design, but that dominates a quick run of small scenarios.
    """
    use_dummy_credentials(REGION)
    if share_service_models:
        _share_botocore_models()
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(key, None)
    os.environ["AWS_REGION"] = REGION
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    os.environ["MODEL_ACCESS_PROVISIONER_ROLE"] = PROVISIONER_ROLE
    _speed_up_moto()
    _silence_powertools_logs()


def _share_botocore_models() -> None:
    """Service models, endpoint data and the like, loaded once per process (read-only)."""
    from botocore import loaders

    for name in ("load_service_model", "load_data"):
        method = getattr(loaders.Loader, name)
        shared: dict[tuple[Any, ...], Any] = {}

        def cached(self: Any, *args: Any, _method: Any = method,
                   _shared: dict[tuple[Any, ...], Any] = shared, **kwargs: Any) -> Any:
            key = (tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
            if key not in _shared:
                _shared[key] = _method(self, *args, **kwargs)
            return _shared[key]

        setattr(loaders.Loader, name, cached)


def _speed_up_moto() -> None:
    """Remove hot spots of moto 5's *server* that no real AWS service has.

    Each patch keeps moto's answers exactly as they were and only makes the test double
    cheaper, for both designs alike (see MOTO_PATCHES for the reasons, reported with the
    results). Without them the measured wall times would mostly be moto's own quadratic
    work: e.g. a 100-item TransactWriteItems deep-copies the whole table 100 times.
    """
    import copy as copy_module
    import time as _time

    import jsonpath_ng.ext
    import moto.backends as moto_backends
    import moto.dynamodb.models as ddb_models
    import moto.sqs.models as sqs_models
    from moto.dynamodb.models.table import Table as DynamoTable

    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules

    moto_now_ms = sqs_models.unix_time_millis  # type: ignore[attr-defined]

    def now_ms(dt: Any = None) -> float:
        return _time.time() * 1000.0 if dt is None else moto_now_ms(dt)

    sqs_models.unix_time_millis = now_ms  # type: ignore[attr-defined]

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        # moto computes every queue attribute (three scans of the queue) per message received.
        period = int(self.get_queue(queue_name).message_retention_period)
        return bool(period + message.sent_timestamp / 1000 > _time.time())

    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]

    parse_path = jsonpath_ng.ext.parse  # type: ignore[attr-defined]
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(parse_path)  # type: ignore[attr-defined]

    backend_cls = ddb_models.DynamoDBBackend
    original = backend_cls.transact_write_items

    class _CopyShim:
        """`copy` for moto's dynamodb module: tables are not deep-copied (see below)."""

        copy = staticmethod(copy_module.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, DynamoTable):
                return value
            return copy_module.deepcopy(value, memo)

    ddb_models.copy = _CopyShim  # type: ignore[attr-defined,assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        # Back up only the items this transaction names, then let moto do the rest; on any
        # failure put exactly those items back (moto's own rollback is a no-op with the shim).
        saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table_name = op.get("TableName")
            table = self.tables.get(table_name)
            if table is None:
                continue
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op.get("Key", {})
            try:
                current = self.get_item(table_name, key)
            except Exception:  # noqa: S112 - a bad key: moto itself rejects the call below
                continue
            attributes = current.to_json()["Attributes"] if current else None
            if "Update" in entry:  # moto updates an item in place: keep a copy
                saved.append((table_name, key, copy_module.deepcopy(attributes)))
            else:  # Put and Delete replace or drop the Item object: its JSON cannot change
                saved.append((table_name, key, attributes))
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(saved):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    backend_cls.transact_write_items = transact_write_items  # type: ignore[method-assign]

    import moto.iam.models as iam_models

    attach = iam_models.IAMBackend.attach_role_policy

    def attach_role_policy(self: Any, policy_arn: str, role_name: str) -> None:
        # moto rebuilds an ARN -> policy dict of every managed policy on each attach; its
        # `managed_policies` is already keyed by ARN (anything else takes moto's own path).
        policy = self.managed_policies.get(policy_arn)
        if policy is None or policy.arn != policy_arn:
            attach(self, policy_arn, role_name)
            return
        policy.attach_to(self.get_role(role_name))

    iam_models.IAMBackend.attach_role_policy = attach_role_policy  # type: ignore[method-assign]

    import moto.dynamodb.comparisons as ddb_comparisons
    import moto.dynamodb.models.table as ddb_table

    parse_condition = ddb_comparisons.get_filter_expression

    @functools.lru_cache(maxsize=4096)
    def _parsed(expr: str | None, names: str, values: str) -> Any:
        return parse_condition(expr, json.loads(names), json.loads(values))

    def get_filter_expression(expr: Any, names: Any, values: Any) -> Any:
        # moto re-parses a condition (several times per item of a transaction); the parsed
        # expression is a pure function of its text, names and values, so it is reused.
        try:
            return _parsed(expr, json.dumps(names, sort_keys=True),
                           json.dumps(values, sort_keys=True))
        except TypeError:
            return parse_condition(expr, names, values)

    ddb_models.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]
    ddb_table.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]

    import moto.dynamodb.responses as ddb_responses

    make_parser = ddb_responses.create_condition_expression_parser

    @functools.lru_cache(maxsize=4096)
    def _checked(expr: str | None, names: str,
                 values: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        parser = make_parser(expr, json.loads(names), json.loads(values))
        parser.parse()  # raises as moto's own check would
        return tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)

    class _CheckedExpression:
        """What moto's request layer reads of a parser it builds only to validate."""

        def __init__(self, expr: Any, names: Any, values: Any) -> None:
            self._args = (expr, names, values)
            self.expr_attr_names_found: list[str] = []
            self.expr_attr_values_found: list[str] = []

        def parse(self) -> None:
            expr, names, values = self._args
            try:
                found = _checked(expr, json.dumps(names, sort_keys=True),
                                 json.dumps(values, sort_keys=True))
            except TypeError:
                parser = make_parser(expr, names, values)
                parser.parse()
                found = (tuple(parser.expr_attr_names_found),
                         tuple(parser.expr_attr_values_found))
            self.expr_attr_names_found = list(found[0])
            self.expr_attr_values_found = list(found[1])

    def create_condition_expression_parser(expr: Any, names: Any, values: Any) -> Any:
        # moto's TransactWriteItems parses each item's condition once more, uncached, only
        # to validate it before the backend parses it again (cached above).
        return _CheckedExpression(expr, names, values)

    ddb_responses.create_condition_expression_parser = create_condition_expression_parser  # type: ignore[assignment]

    from moto.core import serialize as moto_serialize

    json_serializer = moto_serialize.BaseJSONSerializer
    structure = json_serializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        # An AttributeValue moto holds is already its wire form; the generic serializer walks
        # all ten members through alias lookups (~3 ms per DynamoDB item). Anything that is
        # not plainly that shape (binary values included) still takes moto's own path.
        if key and shape.name == "AttributeValue" and _plain_attribute(value):
            self._default_serialize(serialized, value, shape, key)
            return
        structure(self, serialized, value, shape, key)

    json_serializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]

    from moto.core import parse as moto_parse

    json_parser = moto_parse.BaseJSONParser
    parse_structure = json_parser._parse_structure

    def parse_attribute(self: Any, shape: Any, value: Any) -> Any:
        # The request side of the same walk: a plain AttributeValue parses to exactly the
        # JSON it came as (DynamoDB's parser builds plain dicts), so it is passed through;
        # binary values and anything else take moto's own path.
        if shape.name == "AttributeValue" and _plain_attribute(value):
            return value
        return parse_structure(self, shape, value)

    json_parser._parse_structure = parse_attribute  # type: ignore[method-assign]

    _speed_up_item_size_check()
    _speed_up_sqs_scans()


def _speed_up_item_size_check() -> None:
    """moto checks the 400 KB item limit on every attribute it sets, summing the sizes of all
    attributes set before: quadratic in an item's attributes, on every item put. An item
    built from a full attribute map (every Put) is checked once on its total instead, which
    raises in exactly the same cases (sizes are never negative, so a prefix over the limit
    means the total is over it). Updates keep moto's own per-attribute check."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    limit = 405000  # moto's own figure (LimitedSizeDict)

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        self.attrs = dynamo_type.LimitedSizeDict()
        values = {key: dynamo_type.DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > limit:
            raise ItemSizeTooLarge
        for key, value in values.items():
            dict.__setitem__(self.attrs, key, value)

    dynamo_type.Item.__init__ = item_init  # type: ignore[method-assign]


def _speed_up_sqs_scans() -> None:
    """moto's SQS reads the clock twice per message of the queue on every ReceiveMessage (to
    list the visible ones), and scans every message twice per receipt handle deleted: with
    2,000 messages queued, that is most of the poller's time, for either design alike. The
    visible list is built with one clock reading per scan, and a delete finds its message in
    one pass, with the same answers and errors."""
    import time as _time

    import moto.sqs.models as sqs_models

    def messages(self: Any) -> list[Any]:
        now = _time.time() * 1000.0
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    sqs_models.Queue.messages = property(messages)  # type: ignore[assignment]

    def delayed_count(self: Any) -> int:
        now = _time.time() * 1000.0
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible_count(self: Any) -> int:
        now = _time.time() * 1000.0
        return sum(1 for m in self._messages if not now > m.visible_at)

    # Every SendMessage reads the queue's attributes (twice), and with them these counts:
    # set-up cost of each scenario (the bench's own run time), not a measured one.
    sqs_models.Queue.approximate_number_of_messages_delayed = property(delayed_count)  # type: ignore[assignment]
    sqs_models.Queue.approximate_number_of_messages_not_visible = property(not_visible_count)  # type: ignore[assignment]

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # already deleted: moto answers success again
        kept, gone = [], []
        for message in self._messages:
            if (message.receipt_handle == receipt_handle
                    or receipt_handle in message._old_receipt_handles):
                gone.append(message)
            else:
                kept.append(message)
        if not gone:
            raise sqs_models.ReceiptHandleIsInvalid()
        for message in gone:
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
        self._messages = kept

    sqs_models.Queue.delete_message = delete_message  # type: ignore[method-assign]

    def delete_message_batch(self: Any, queue_name: str,
                             receipts: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
        # moto deletes a batch one receipt handle at a time (a scan of the queue each): one
        # pass finds the messages of all ten, then the entries are answered in order as
        # moto answers them (already deleted: success; unknown handle: that entry fails).
        queue = self.get_queue(queue_name)
        wanted = {r["ReceiptHandle"] for r in receipts} - queue.deleted_messages
        owner = {handle: message for message in queue._messages
                 for handle in message.all_receipt_handles if handle in wanted}
        success, errors, gone = [], [], set()
        for entry in receipts:
            handle = entry["ReceiptHandle"]
            message = owner.get(handle)
            if handle in queue.deleted_messages:
                success.append(entry["Id"])
            elif message is not None:
                gone.add(id(message))
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(message.all_receipt_handles)
                success.append(entry["Id"])
            else:
                errors.append({"Id": entry["Id"], "SenderFault": True,
                               "Code": "ReceiptHandleIsInvalid",
                               "Message": f'The input receipt handle "{handle}" is not a '
                                          "valid receipt handle."})
        if gone:
            queue._messages = [m for m in queue._messages if id(m) not in gone]
        return success, errors

    sqs_models.SQSBackend.delete_message_batch = delete_message_batch  # type: ignore[method-assign]

    import string

    from moto.moto_api._internal import mock_random

    def generate_receipt_handle() -> str:
        # 185 lower-case letters as moto makes them, drawn in one call instead of 185.
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    sqs_models.generate_receipt_handle = generate_receipt_handle  # type: ignore[attr-defined]


def _plain_attribute(value: Any) -> bool:
    """A DynamoDB AttributeValue dict in wire form without binary members."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (kind, inner), = value.items()
    if kind in ("S", "N"):
        return isinstance(inner, str)
    if kind in ("SS", "NS"):
        return isinstance(inner, list) and all(isinstance(v, str) for v in inner)
    if kind in ("NULL", "BOOL"):
        return isinstance(inner, bool)
    if kind == "M":
        return isinstance(inner, dict) and all(
            isinstance(k, str) and _plain_attribute(v) for k, v in inner.items())
    if kind == "L":
        return isinstance(inner, list) and all(_plain_attribute(v) for v in inner)
    return False


MOTO_PATCHES: Final = (
    "moto's server lists its package directory on every request: listed once",
    "moto's SQS computes the time through datetime objects per message per scan: time.time()",
    "moto's SQS computes all queue attributes (three scans of the queue) per message received "
    "to read the retention period: read directly",
    "moto's EventBridge builds a JSONPath parser per target per event: parses cached",
    "moto's TransactWriteItems deep-copies the whole table once per item for its rollback: "
    "only the items the transaction names are backed up (same results, same cancellations)",
    "moto's IAM AttachRolePolicy rebuilds an ARN index of every managed policy per call: "
    "looked up by ARN directly",
    "moto's DynamoDB parses a condition expression again for every use (several times per "
    "item of a transaction): parses cached by expression, names and values",
    "moto's JSON serializer walks every DynamoDB AttributeValue member by member (~3 ms per "
    "item in Scan/BatchGetItem answers): plain values are passed through as they are",
    "moto's DynamoDB checks the 400 KB item limit once per attribute set, re-summing every "
    "attribute before it (quadratic per item put): an item put whole is checked once on its "
    "total (raises in the same cases); the transaction backup above keeps a Put's or "
    "Delete's old item as it was instead of deep-copying it",
    "moto's SQS reads the clock twice per queued message on every ReceiveMessage (and on "
    "every SendMessage, for its queue attributes) and scans the queue twice per receipt "
    "handle deleted (the poller's cost, both designs alike): one clock reading per scan, one "
    "pass per delete (same answers and errors)",
    "moto's SQS deletes a batch one receipt handle at a time (a scan of the queue each) and "
    "draws each receipt handle one letter at a time: one scan per batch (same answers and "
    "errors, in order), the 185 letters drawn in one call",
    "moto's request parser walks every DynamoDB AttributeValue of a request member by member "
    "through the service model: a plain value (no binary) is taken as the JSON it came as, "
    "which is what the walk builds",
    "moto's DynamoDB request layer parses each condition of a TransactWriteItems once more, "
    "uncached, only to validate it: validated once per expression, names and values (same "
    "errors)",
)


def _silence_powertools_logs() -> None:
    """Keep the provisioner's per-record JSON log lines (their cost stays in) off the terminal."""
    from model_access.handlers.observability import logger

    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    handler = logger.logger_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sink)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


@contextmanager
def fresh_aws() -> Iterator[Aws]:
    """A new moto server, empty, with the local stack on it; AWS_ENDPOINT_URL points there."""
    with moto_server() as url:
        # Backends are process-global in moto: a new server thread alone would keep old state.
        request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - local moto server
            pass
        os.environ["AWS_ENDPOINT_URL"] = url
        try:
            yield Aws(url)
        finally:
            os.environ.pop("AWS_ENDPOINT_URL", None)


class Aws:
    """One moto server's worth of state, plus set-up and inspection helpers."""

    def __init__(self, url: str) -> None:
        from model_access.aws.clients import Clients
        from model_access.core.settings import Settings
        from model_access_cli.local.stack import local_up

        self.url = url
        self.clients = Clients(region=REGION, endpoint_url=url)
        self.settings = Settings.from_mapping(os.environ)
        self.stack = local_up(self.clients, self.settings)
        self.arns: dict[str, str] = {}

    # --- set-up ---------------------------------------------------------------------------

    def roles(self, names: Iterable[str]) -> None:
        for name in names:
            self.clients.iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST,
                                         Tags=ELIGIBLE_TAGS)

    def models(self, owners: Mapping[str, str]) -> None:
        """Create models (name -> owner role) directly in moto's SageMaker backend."""
        from moto.sagemaker.models import sagemaker_backends

        backend = sagemaker_backends[ACCOUNT][REGION]
        for name, owner in owners.items():
            model = backend.create_model(
                model_name=name,
                execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec",
                primary_container={"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1"},
                vpc_config=None, containers=None,
                tags=[{"Key": OWNER_TAG, "Value": owner}],
            )
            self.arns[name] = model.arn

    def delete_models(self, names: Iterable[str]) -> None:
        from moto.sagemaker.models import sagemaker_backends

        backend = sagemaker_backends[ACCOUNT][REGION]
        for name in names:
            backend.delete_model(name)

    def emit(self, details: Sequence[dict[str, Any]]) -> None:
        """PutEvents, ten entries a call; the rule routes them into the queue."""
        from model_access_cli.local import cloudtrail

        for start in range(0, len(details), 10):
            entries = [cloudtrail.put_events_entry(d) for d in details[start : start + 10]]
            answer = self.clients.events.put_events(Entries=entries)  # type: ignore[arg-type]
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"PutEvents refused entries: {answer}")

    def create_events(self, owners: Mapping[str, str]) -> list[dict[str, Any]]:
        from model_access_cli.local import cloudtrail

        return [cloudtrail.create_model(name, self.arns[name], {OWNER_TAG: owner})
                for name, owner in owners.items()]

    def queue_depth(self) -> int:
        attributes = self.clients.sqs.get_queue_attributes(
            QueueUrl=self.stack.queue_url,
            AttributeNames=["ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def poller(self, handler: Callable[[dict[str, Any], Any], Any], *, batch_size: int,
               window_seconds: float) -> Any:
        from model_access_cli.local.poller import LocalPoller

        class DrainingPoller(LocalPoller):
            """LocalPoller that does not sit out a last batching window on an empty queue.

            A burst is queued before the drain starts, so once the queue (visible and in
            flight) is empty nothing more can arrive; batches themselves are gathered as before.
            """

            def _gather(self) -> list[dict[str, Any]]:
                if self._queue_empty():
                    return []
                return super()._gather()

        return DrainingPoller(self.clients.sqs, self.stack.queue_url, self.stack.queue_arn,
                              handler, account=ACCOUNT, batch_size=batch_size,
                              window_seconds=window_seconds,
                              visibility_timeout=ESM_VISIBILITY_SECONDS)

    # --- inspection (moto's IAM backend, no counted calls) --------------------------------

    def grants(self, path: str) -> dict[str, set[str]]:
        """role name (lower-cased) -> model ARNs its attached policies under `path` grant."""
        from model_access.policy.render import model_arns_in

        out: dict[str, set[str]] = {}
        for role in _iam_backend().roles.values():
            held: set[str] = set()
            for policy in role.managed_policies.values():
                if policy.path != path:
                    continue
                held |= model_arns_in(_default_document(policy))
            out[role.name.lower()] = held
        return out

    def attached_counts(self, path: str | None = None) -> dict[str, int]:
        """role name -> attached managed policies (all, or only those under `path`)."""
        return {
            role.name: sum(1 for p in role.managed_policies.values()
                           if path is None or p.path == path)
            for role in _iam_backend().roles.values()
        }

    def policy_sizes(self, path: str) -> list[int]:
        """Size of every customer managed policy under `path`, as IAM counts it (no whitespace)."""
        sizes = []
        for policy in _iam_backend().managed_policies.values():
            if getattr(policy, "path", None) == path:
                text = json.dumps(_default_document(policy), separators=(",", ":"))
                sizes.append(len("".join(text.split())))
        return sizes

    def policy_count(self, path: str) -> int:
        return len(self.policy_sizes(path))


def _iam_backend() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT]["aws"]


def _default_document(policy: Any) -> dict[str, Any]:
    for version in policy.versions:
        if version.version_id == policy.default_version_id:
            text = version.document
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = json.loads(unquote(text))
            return decoded if isinstance(decoded, dict) else {}
    return {}


def expected_grants(owners: Mapping[str, str], arns: Mapping[str, str]) -> dict[str, set[str]]:
    """role (lower-cased) -> the model ARNs it should hold."""
    out: dict[str, set[str]] = {}
    for name, owner in owners.items():
        out.setdefault(owner.lower(), set()).add(arns[name])
    return out


def missing_grants(expected: Mapping[str, set[str]], actual: Mapping[str, set[str]]) -> int:
    """How many (role, model) grants that should exist are not in IAM."""
    return sum(len(arns - actual.get(role, set())) for role, arns in expected.items())


def call_delta(after: Mapping[str, int], before: Mapping[str, int]) -> Counter[str]:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})
