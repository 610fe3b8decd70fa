"""Run `model-access` through its entry point and check what it prints (stdout vs stderr)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from model_access_cli.main import main

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "cli-output.schema.json"


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one `model-access` invocation."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    """Like `run` with `--output json`: stdout must be exactly one document that validates
    against docs/cli-output.schema.json, under the definition of its own command."""
    code, out, err = run(capsys, *argv, "--output", "json")
    document = json.loads(out)  # raises if anything but one JSON document is on stdout
    assert isinstance(document, dict)
    assert document["command"] == argv[0]
    validator().validate(document)
    schema = validator().schema
    Draft202012Validator(schema["$defs"][argv[0]] | {"$defs": schema["$defs"]}).validate(document)
    return code, document, err
