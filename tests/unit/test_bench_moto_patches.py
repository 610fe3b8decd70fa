"""The bench's moto speed-ups change costs, not answers (bench/harness.py, MOTO_PATCHES).

Checked in a child process: the patches are process-wide and the other tests use moto as
it ships.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

REQUEST = {
    "TransactItems": [{"Put": {
        "TableName": "t",
        "Item": {"pk": {"S": "model#x"}, "version": {"N": "3"}, "ok": {"BOOL": True},
                 "gone": {"NULL": True}, "slots": {"SS": ["a", "b"]},
                 "history": {"L": [{"S": "{}"}, {"M": {"at": {"S": "now"}}}]},
                 "blob": {"B": "aGVsbG8="}},
        "ConditionExpression": "attribute_not_exists(pk) OR version = :v",
        "ExpressionAttributeValues": {":v": {"N": "2"}}}}],
}

CHILD = textwrap.dedent("""
    import json, sys
    from botocore.session import Session
    from moto.core.parse import PROTOCOL_PARSERS

    def parse():
        model = Session().get_service_model("dynamodb").operation_model("TransactWriteItems")
        parser = PROTOCOL_PARSERS["json"](model, map_type=dict)
        return parser.parse({"method": "POST", "values": {}, "headers": {},
                             "body": sys.argv[1].encode(), "url_path": "/", "url_params": {}})

    before = parse()
    from bench.harness import prepare_process
    prepare_process()
    after = parse()
    print(json.dumps({"same": before == after, "patched": repr(after)[:80],
                      "blob": repr(after["TransactItems"][0]["Put"]["Item"]["blob"])}))
""")


def test_request_parser_patch_parses_as_moto_does() -> None:
    """A TransactWriteItems body with every plain AttributeValue kind and a binary one
    parses to the same structure before and after the bench's patches."""
    answer = subprocess.run([sys.executable, "-c", CHILD, json.dumps(REQUEST)],
                            capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    assert result["same"], result
    assert result["blob"] == "{'B': b'hello'}"  # binary still decoded by moto's own path
