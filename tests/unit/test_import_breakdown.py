"""bench/import_breakdown.py: import time charged to the family that asked for it; the
instruction count of the deployed import (callgrind)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from bench.cold_start import _instructions, collected_instructions, instructions
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
import time:        50 |      14050 | model_access.handlers.provisioner
import time:       800 |        800 | typing
"""


def test_each_module_is_charged_to_its_nearest_family_importer() -> None:
    """asyncio goes to the batch utility that imported it, the data classes to their own
    family, json to botocore, _io to our module, a top-level stdlib import to "other"."""
    assert breakdown(SAMPLE) == {
        "boto3 / botocore": 9.4, "Powertools batch utility": 3.3, "Powertools data classes": 1.2,
        "other": 0.8, "ours": 0.2,
    }


CALLGRIND_EXIT = """\
==4242== Callgrind, a call-graph generating cache profiler
==4242== Events    : Ir
==4242== Collected : 765169940
==4242==
==4242== I   refs:      765,169,940
"""


def test_callgrind_total_is_read_from_its_exit_report() -> None:
    assert collected_instructions(CALLGRIND_EXIT) == 765_169_940
    with pytest.raises(ValueError, match="no instruction total"):
        collected_instructions("==1== Callgrind\n")


def test_without_valgrind_the_count_is_a_note_not_a_number(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    out = instructions(sys.executable, tmp_path)
    assert "ratio" not in out
    assert "valgrind not found" in out["note"]


def test_instruction_count_of_an_import_exceeds_that_of_importing_nothing() -> None:
    """Real callgrind (valgrind is on every machine of this project's kind)."""
    valgrind = shutil.which("valgrind")
    assert valgrind is not None, "valgrind is missing (Debian package valgrind)"
    env = dict(os.environ)
    nothing = _instructions(valgrind, sys.executable, "pass", env)
    with_json = _instructions(valgrind, sys.executable, "import json", env)
    assert 0 < nothing < with_json
