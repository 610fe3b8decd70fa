"""Numbers the docs state, read back from the code that decides them (so they cannot drift)."""

from __future__ import annotations

import re

from model_access.sweep.backfill import DEFAULT_CHUNK
from model_access_cli.local.stack import MAX_RECEIVE_COUNT as LOCAL_MAX_RECEIVE_COUNT
from model_access_infra.stack_config import StackConfig
from tests.infra.pulumi_harness import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))


def _flat(text: str) -> str:
    """Markdown with its line breaks and indentation folded into single spaces."""
    return re.sub(r"\s+", " ", text)


def test_readme_backfill_chunk_is_the_code_default() -> None:
    """README's backfill chunk size is backfill.DEFAULT_CHUNK."""
    found = re.findall(r"sized from the measured cost of the ones before \(at most ([\d,]+) "
                       r"models\)", _flat(README.read_text()))
    assert found == [f"{DEFAULT_CHUNK:,}"]


def test_reliability_max_receive_counts_are_the_stack_and_local_defaults() -> None:
    """docs/reliability.md states the stack's maxReceiveCount and the local stack's."""
    text = _flat((REPO_ROOT / "docs" / "reliability.md").read_text())
    found = re.findall(r"`maxReceiveCount` times \((\d+) by default in the stack; (\d+) in the "
                       r"local stack", text)
    assert found == [(str(StackConfig().max_receive_count), str(LOCAL_MAX_RECEIVE_COUNT))]


def test_docs_state_the_stacks_tracing_default_as_the_code_has_it() -> None:
    """Every statement of the stack's tracing setting in README and docs/ matches StackConfig."""
    default = str(StackConfig().tracing).lower()
    pattern = re.compile(r"(?:stack's (?:default )?|from the stack \()`tracing: (true|false)`")
    found = [value for path in (README, *DOCS)
             for value in pattern.findall(_flat(path.read_text()))]
    assert len(found) >= 2
    assert set(found) == {default}


def test_readme_exit_status_table_is_the_clis() -> None:
    """README's exit status table lists exactly the codes cli/model_access_cli/commands/output.py
    defines, and says which commands take --output the parser gives it to."""
    from model_access_cli.commands import output
    from model_access_cli.main import build_parser

    codes = {value for name, value in vars(output).items() if name.startswith("EXIT_")}
    text = README.read_text()
    table = text[text.index("### Exit status"):]
    rows = re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)
    assert {int(code) for code in rows} == codes
    subcommands = build_parser()._subparsers._group_actions[0].choices
    with_output = {name for name, sub in subcommands.items()
                   if any("--output" in a.option_strings for a in sub._actions)}
    stated = re.search(r"((?:`\w+`, )+`\w+` and `\w+`) take `--output table\|json`", _flat(text))
    assert stated is not None
    assert set(re.findall(r"`(\w+)`", stated.group(1))) == with_output
