"""Operator commands against an endpoint: local up, plan, backfill, grants, verify."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from botocore.config import Config

from model_access.aws.clients import Clients
from model_access.backfill import Backfill, BackfillResult
from model_access.errors import ModelAccessError
from model_access.kinds import parse_grantable_arn
from model_access.patterns import TriggerMode
from model_access.runtime import Runtime, build_runtime
from model_access.settings import Settings
from model_access.uninstall import uninstall
from model_access.verify import verify
from model_access_cli.local_stack import local_up
from model_access_cli.server import use_dummy_credentials
from model_access_cli.table import render

EXIT_CHANGES = 3
CLI_CHUNK = 1_000_000
"""The CLI has no time limit: one chunk, so each role is written once per backfill."""


def add_commands(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    plan = commands.add_parser(
        "plan", help="show what a backfill would change, per role (read-only)",
        description="Read every model and every tool policy and print, per role, what a "
                    f"backfill would change. Exit status: 0 nothing to change, {EXIT_CHANGES} "
                    "changes pending, 1 or 2 on errors.")
    common(plan)
    backfill = commands.add_parser(
        "backfill", help="bring every model's grant in line (the manual re-invoke)",
        description="Enumerate every model and every tool policy and reconcile them all: "
                    "grant what is missing, revoke grants of deleted or re-tagged models, "
                    "repair hand-edited or detached tool policies. Runs here against the "
                    "endpoint, or with --function invokes the deployed backfill Lambda.")
    common(backfill)
    backfill.add_argument("--dry-run", action="store_true", help="report the plan, write nothing")
    backfill.add_argument("--function", help="invoke this deployed backfill function instead")
    grants = commands.add_parser(
        "grants", help="what the tool has granted (record, cross-checked with IAM)",
        description="List grants from the tool's record and check each against IAM.")
    common(grants)
    which = grants.add_mutually_exclusive_group()
    which.add_argument("--role", help="only grants held by this role name")
    which.add_argument("--model", help="only the grant of this model ARN")
    remove = commands.add_parser(
        "uninstall", help="detach and delete every tool policy (after `make destroy`)",
        description="The tool's IAM policies on owner roles are not stack resources and keep "
                    "granting after `make destroy`. This detaches and deletes every policy "
                    "the tool created (its path, name pattern and managed-by tag; nothing "
                    "else). Destroy the stack first, or a sweep recreates them. Try "
                    "--dry-run first.")
    common(remove)
    remove.add_argument("--dry-run", action="store_true", help="list what would be removed")
    verify_cmd = commands.add_parser(
        "verify", help="compare IAM, the record and SageMaker; non-zero on any discrepancy",
        description="Print every discrepancy between SageMaker's truth, the tool's IAM "
                    "policies and its record. Exit status 0 only when all three agree.")
    common(verify_cmd)


def _runtime(args: argparse.Namespace) -> Runtime:
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get(
        "AWS_DEFAULT_REGION") or "us-east-1"
    if args.endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        use_dummy_credentials(region)
    env = dict(os.environ, AWS_REGION=region)
    return build_runtime(env, clients=Clients(region=region, endpoint_url=args.endpoint_url))


def local_serve_command(args: argparse.Namespace) -> int:
    """Run the local stack with its stand-ins until interrupted."""
    from model_access_cli.local_run import ServeOptions, serve

    return serve(ServeOptions(
        port=args.port, region=args.region, trail=not args.no_trail,
        trail_delay=args.trail_delay, consumer=not args.no_consumer,
        sweep_every=args.sweep_every, verbose=args.verbose,
        trigger=TriggerMode(args.trigger)))


def local_up_command(args: argparse.Namespace) -> int:
    region = args.region or os.environ.get("AWS_REGION") or "us-east-1"
    if not args.endpoint_url:
        print("model-access local up: needs --endpoint-url or AWS_ENDPOINT_URL "
              "(it only ever creates resources on a local endpoint)", file=sys.stderr)
        return 2
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        use_dummy_credentials(region)
    stack = local_up(Clients(region=region, endpoint_url=args.endpoint_url),
                     Settings.from_mapping(dict(os.environ, AWS_REGION=region)),
                     TriggerMode(args.trigger))
    print(render(("resource", "name / address"), [
        ("table", stack.table), ("queue", stack.queue_url), ("dead-letter queue", stack.dlq_url),
        *(("EventBridge rule", rule) for rule in stack.rules)],
        title=f"local stack on {args.endpoint_url}"))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.command == "backfill" and args.function:
        return _invoke_function(args)
    runtime = _runtime(args)
    if args.command == "plan":
        return _plan(runtime)
    if args.command == "backfill":
        return _backfill(runtime, dry_run=args.dry_run)
    if args.command == "grants":
        return _grants(runtime, role=args.role, model=args.model)
    if args.command == "verify":
        return _verify(runtime)
    if args.command == "uninstall":
        return _uninstall(runtime, dry_run=args.dry_run)
    raise ModelAccessError(f"unknown command {args.command}")


class ProgressBar:
    """A one-line progress bar on stderr (a plain line per step when stderr is not a TTY)."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if phase != self.phase:
            self.finish()
            self.phase, self.started = phase, time.monotonic()
        rate = done / max(time.monotonic() - self.started, 1e-6)
        if total:
            filled = int(self.WIDTH * done / total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            line = f"  {phase:<24} [{bar}] {done:,}/{total:,}"
        else:
            line = f"  {phase:<24} {done:,} ({rate:,.0f}/s)"
        if self.stream.isatty():
            print("\r" + line, end="", file=self.stream, flush=True)
        elif total is None or done == total:
            print(line, file=self.stream, flush=True)

    def finish(self) -> None:
        if self.phase and self.stream.isatty():
            print(file=self.stream, flush=True)
        self.phase = ""


def _summary(result: BackfillResult) -> str:
    data = result.as_dict()
    fields = ("seen", "granted", "moved", "revoked", "repaired", "unchanged", "refused", "failed")
    return render(fields, [[data[f] for f in fields]])


def _plan(runtime: Runtime) -> int:
    bar = ProgressBar()
    result = Backfill(runtime, chunk_models=CLI_CHUNK, progress=bar).run(dry_run=True)
    bar.finish()
    rows = []
    for plan in sorted(result.report.role_plans.values(), key=lambda p: p.role.lower()):
        if not plan.changes:
            continue
        kinds: dict[str, int] = {}
        for op in plan.ops:
            kinds[op.kind.value] = kinds.get(op.kind.value, 0) + 1
        rows.append((plan.role, f"+{len(plan.added)}", f"-{len(plan.removed)}",
                     ", ".join(f"{n} {k}" for k, n in kinds.items()),
                     len(plan.unplaced) or ""))
    print(render(("role", "grant", "revoke", "IAM writes", "no room"), rows,
                 title="Planned changes per role") if rows else "Nothing to change.")
    refusals = [(str(k), r.outcome.value, r.reason) for k, r in result.report.results.items()
                if r.outcome.is_refusal]
    if refusals:
        print()
        print(render(("model", "outcome", "reason"), sorted(refusals), title="Refused"))
    print()
    print(_summary(result))
    return EXIT_CHANGES if rows else 0


def _backfill(runtime: Runtime, *, dry_run: bool) -> int:
    bar = ProgressBar()
    result = Backfill(runtime, chunk_models=CLI_CHUNK, progress=bar).run(dry_run=dry_run)
    bar.finish()
    print(("Dry run: nothing was written.\n" if dry_run else "") + _summary(result))
    failed = [r for r in result.report.results.values() if r.outcome.is_retryable]
    for r in failed[:20]:
        print(f"  failed: {r.key}: {r.reason}", file=sys.stderr)
    return 1 if failed else 0


def _invoke_function(args: argparse.Namespace) -> int:
    # A synchronous backfill may run the function's full 15 minutes; never retry it (a retry
    # would start a second backfill next to the first).
    config = Config(read_timeout=910, connect_timeout=10, retries={"max_attempts": 1})
    clients = Clients(region=args.region, endpoint_url=args.endpoint_url, config=config)
    answer = clients.lambda_.invoke(FunctionName=args.function,
                                    Payload=json.dumps({"dryRun": bool(args.dry_run)}))
    payload = json.loads(answer["Payload"].read() or b"{}")
    print(json.dumps(payload, indent=2))
    return 1 if answer.get("FunctionError") else 0


def _grants(runtime: Runtime, *, role: str | None, model: str | None) -> int:
    if role:
        records = runtime.records.by_role(role)
    elif model:
        parsed = parse_grantable_arn(model)
        if parsed is None:
            print(f"model-access grants: {model!r} is not a model or model package group ARN",
                  file=sys.stderr)
            return 2
        records = [runtime.records.get_many([parsed.key])[parsed.key]]
    else:
        records = [r for r in runtime.records.scan() if r.role]
    held: dict[str, set[str]] = {}
    rows = []
    for record in sorted(records, key=lambda r: (r.role or "", str(r.key))):
        if not record.role:
            rows.append((record.model_arn or str(record.key), "-", "-", record.status, "-"))
            continue
        if record.role.lower() not in held:
            facts = runtime.iam.get_role(record.role)
            state = runtime.iam.read_role_state(facts) if facts else None
            held[record.role.lower()] = set(state.model_arns) if state else set()
        in_iam = "yes" if record.model_arn in held[record.role.lower()] else "NO"
        rows.append((record.model_arn or str(record.key), record.role, record.policy or "-",
                     record.granted_at or "-", in_iam))
    print(render(("model", "role", "policy", "granted at", "in IAM"), rows)
          if rows else "No grants recorded.")
    return 0


def _uninstall(runtime: Runtime, *, dry_run: bool) -> int:
    removed = uninstall(runtime, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    rows = [(r.name, r.role, r.models) for r in removed]
    print(render(("policy", "role", "models granted"), rows,
                 title=f"{verb} {len(removed)} tool policies") if rows
          else "No tool policies found.")
    return 0


def _verify(runtime: Runtime) -> int:
    problems = verify(runtime)
    if not problems:
        print("verify: IAM, the record and SageMaker agree.")
        return 0
    print(render(("kind", "subject", "detail"),
                 [(p.kind, p.subject, p.detail) for p in problems],
                 title=f"verify: {len(problems)} discrepancies"))
    return 1

