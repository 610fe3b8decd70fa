"""The local stack's moto server keeps DynamoDB's isolation (moto_extensions.serialize_dynamodb).

moto restores a whole table from a snapshot when a TransactWriteItems is cancelled; without
the extension's lock a write another client made meanwhile vanishes, which on AWS cannot
happen. Our leases and fences cancel transactions routinely under contention, so the e2e
race tests depend on this.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

pytestmark = pytest.mark.e2e

TABLE = "isolation-probe"


def test_write_racing_a_cancelled_transaction_survives(
        endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PutItem sent while a doomed transaction is inside moto is applied after it, not lost."""
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    inside = threading.Event()
    read = DynamoDBBackend.get_item

    def slow_read(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if not inside.is_set():  # the first read is the transaction's condition check
            inside.set()  # moto has taken its snapshot of the table
            time.sleep(0.3)
        return read(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "get_item", slow_read)
    finished: dict[str, float] = {}

    def doomed() -> None:
        with pytest.raises(ClientError, match="TransactionCanceled"):
            ddb.transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "absent"}},
                                    "ConditionExpression": "attribute_exists(pk)"}}])
        finished["transaction"] = time.monotonic()

    def racer() -> None:
        inside.wait(5)
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "racing-write"}})
        finished["put"] = time.monotonic()

    threads = [threading.Thread(target=doomed, name="doomed"),
               threading.Thread(target=racer, name="racer")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inside.is_set()
    assert set(finished) == {"transaction", "put"}
    assert "Item" in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "racing-write"}})
    assert finished["put"] >= finished["transaction"] - 0.05
