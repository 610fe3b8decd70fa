"""`--output table|json` and the exit codes every command shares.

Tables are for people; `--output json` prints exactly one JSON document on stdout (schema:
docs/cli-output.schema.json), so `model-access ... --output json | jq` works. Progress,
logs and errors always go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

SCHEMA_VERSION: Final = 1
"""Raised only when a field changes meaning or disappears; new fields keep it."""

EXIT_OK: Final = 0
EXIT_FINDINGS: Final = 1
"""verify found a discrepancy, a backfill left models failed, the demo missed an outcome."""
EXIT_USAGE: Final = 2
"""Bad arguments, settings that cannot work, or AWS errors that stopped the command."""
EXIT_CHANGES: Final = 3
"""plan: a backfill would change something."""
EXIT_NOT_FOUND: Final = 4
"""explain: neither SageMaker, nor the record, nor the grant store knows the model."""
EXIT_INTERRUPTED: Final = 130


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=("table", "json"), default="table",
                        help="table (default) for people, or json: one document on stdout "
                             "(docs/cli-output.schema.json)")


def emit(args: argparse.Namespace, document: Mapping[str, Any], table: Callable[[], str]) -> None:
    """Print the command's result: the JSON document, or the table built by `table`. With
    `--account` the document names the account; with `--all-accounts` (accounts_cli) each
    account's document is collected into one."""
    if getattr(args, "account_shown", None):
        document = {**document, "account": args.account_shown}
    collected = getattr(args, "collected", None)
    if collected is not None:
        collected.append(dict(document))
        return
    if args.output == "json":
        full = {"command": args.command, "schemaVersion": SCHEMA_VERSION, **document}
        print(json.dumps(full, indent=2, sort_keys=True))
    else:
        print(table())


def note(message: str) -> None:
    """A line for people, on stderr (never mixed into a JSON document)."""
    print(message, file=sys.stderr, flush=True)
