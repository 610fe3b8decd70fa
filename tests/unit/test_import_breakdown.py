"""bench/import_breakdown.py: import time charged to the family that asked for it."""

from __future__ import annotations

from bench.import_breakdown import breakdown

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       150 |        150 |   _io
import time:      2000 |       2000 |       asyncio.events
import time:      1000 |       3000 |     asyncio
import time:       500 |        500 |       aws_lambda_powertools.utilities.data_classes.sqs_event
import time:       700 |       1200 |     aws_lambda_powertools.utilities.data_classes
import time:       300 |       4500 |   aws_lambda_powertools.utilities.batch
import time:       400 |        400 |     json
import time:      9000 |       9400 |   botocore.client
import time:        50 |      14050 | model_access.provisioner
import time:       800 |        800 | typing
"""


def test_each_module_is_charged_to_its_nearest_family_importer() -> None:
    """asyncio goes to the batch utility that imported it, the data classes to their own
    family, json to botocore, _io to our module, a top-level stdlib import to "other"."""
    assert breakdown(SAMPLE) == {
        "boto3 / botocore": 9.4, "Powertools batch utility": 3.3, "Powertools data classes": 1.2,
        "other": 0.8, "ours": 0.2,
    }
