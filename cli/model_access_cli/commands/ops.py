"""Operator commands against an endpoint: local up, plan, backfill, grants, verify, explain,
uninstall. What each prints is in views.py; `--output` and exit codes in output.py."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from botocore.config import Config

from model_access.aws.clients import Clients
from model_access.core.errors import ModelAccessError
from model_access.core.outcomes import Outcome
from model_access.core.settings import Settings
from model_access.deploy.patterns import TriggerMode
from model_access.model.kinds import parse_grantable_arn
from model_access.operate.explainer import explain
from model_access.operate.uninstall import uninstall
from model_access.operate.verify import verify
from model_access.runtime import Runtime, build_runtime
from model_access.sweep.backfill import Backfill
from model_access_cli.commands import views
from model_access_cli.commands.accounts import (
    add_scope_flags,
    home_region,
    run_scoped,
    subject_runtime,
)
from model_access_cli.commands.explain_view import explain_table
from model_access_cli.commands.output import (
    EXIT_CHANGES,
    EXIT_FINDINGS,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    add_output_flag,
    emit,
    note,
)
from model_access_cli.commands.table import render
from model_access_cli.local.server import use_dummy_credentials
from model_access_cli.local.stack import local_up

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
                    f"policies and its record. Exit status 0 only when all three agree, "
                    f"{EXIT_FINDINGS} on any discrepancy.")
    common(verify_cmd)
    why = commands.add_parser(
        "explain", help="why a role holds a model (or why nobody does), and what is next",
        description="For one model (name or ARN) or model package group (ARN): the owner "
                    "tag as SageMaker shows it, the "
                    "decision and its reason (the reconcile itself, run as a dry run), the "
                    "tool policies and statements that grant it in IAM, the grant store and "
                    "record, the record's history, and what the next reconcile would change. "
                    f"Exit status {EXIT_NOT_FOUND} when nothing knows the model, "
                    f"{EXIT_USAGE} when the argument names no model of this deployment.")
    common(why)
    why.add_argument("model", metavar="MODEL",
                     help="model name, model ARN, or model package group (or version) ARN")
    why.add_argument("--account", metavar="ID",
                     help="the account a model *name* is in (a member the hub serves; "
                          "default: the hub's own); an ARN names its own account and region")
    for command in (plan, backfill, grants, remove, verify_cmd, why):
        add_output_flag(command)
    for command in (plan, backfill, grants, remove, verify_cmd):
        add_scope_flags(command)


def _runtime(args: argparse.Namespace) -> Runtime:
    region = home_region(args)
    if args.endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        use_dummy_credentials(region)
    env = dict(os.environ, AWS_REGION=region)
    return build_runtime(env, clients=Clients(region=region, endpoint_url=args.endpoint_url))


def local_serve_command(args: argparse.Namespace) -> int:
    """Run the local stack with its stand-ins until interrupted."""
    from model_access_cli.local.serve import ServeOptions, serve

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
    scoped = {"plan": _plan, "backfill": _backfill, "grants": _grants, "verify": _verify,
              "uninstall": _uninstall}
    if args.command in scoped:
        return run_scoped(args, runtime, scoped[args.command])
    if args.command == "explain":
        return _explain(args, runtime)
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


def _plan(args: argparse.Namespace, runtime: Runtime,
          regions: Sequence[str] | None = None) -> int:
    bar = ProgressBar()
    result = Backfill(runtime, chunk_models=CLI_CHUNK, progress=bar,
                      regions=regions).run(dry_run=True)
    bar.finish()
    document = views.plan_document(result)
    emit(args, document, lambda: views.plan_table(document, result))
    return EXIT_CHANGES if document["changesPending"] else EXIT_OK


def _backfill(args: argparse.Namespace, runtime: Runtime,
              regions: Sequence[str] | None = None) -> int:
    bar = ProgressBar()
    result = Backfill(runtime, chunk_models=CLI_CHUNK, progress=bar,
                      regions=regions).run(dry_run=args.dry_run)
    bar.finish()
    document = views.backfill_document(result)
    emit(args, document, lambda: views.backfill_table(result))
    for failure in document["failures"][:20]:
        note(f"  failed: {failure['key']}: {failure['reason']}")
    return EXIT_FINDINGS if document["failures"] else EXIT_OK


def _invoke_function(args: argparse.Namespace) -> int:
    # A synchronous backfill may run the function's full 15 minutes; never retry it (a retry
    # would start a second backfill next to the first).
    config = Config(read_timeout=910, connect_timeout=10, retries={"max_attempts": 1})
    clients = Clients(region=args.region, endpoint_url=args.endpoint_url, config=config)
    note(f"invoking {args.function} (synchronously; it may take up to 15 minutes)")
    answer = clients.lambda_.invoke(FunctionName=args.function,
                                    Payload=json.dumps({"dryRun": bool(args.dry_run)}))
    payload = json.loads(answer["Payload"].read() or b"{}")
    failed = bool(answer.get("FunctionError"))
    document = {"dryRun": bool(args.dry_run), "function": args.function,
                "result": None if failed else payload,
                "functionError": payload if failed else None, "failures": []}
    emit(args, document, lambda: json.dumps(payload, indent=2))
    return EXIT_FINDINGS if failed else EXIT_OK


def _grants(args: argparse.Namespace, runtime: Runtime,
            regions: Sequence[str] | None = None) -> int:
    role, model = args.role, args.model
    if role:
        records = runtime.records.by_role(role)
    elif model:
        parsed = parse_grantable_arn(model)
        if parsed is None:
            note(f"model-access grants: {model!r} is not a model or model package group ARN")
            return EXIT_USAGE
        records = [runtime.records.get_many([parsed.key])[parsed.key]]
    else:
        records = [r for r in runtime.records.scan() if r.role]
    if regions is not None:
        records = [r for r in records if r.key.region in regions]
    held: dict[str, set[str]] = {}
    rows = []
    for record in sorted(records, key=lambda r: ((r.role or "").lower(), str(r.key))):
        name = record.model_arn or str(record.key)
        if not record.role:
            rows.append(views.GrantRow(name, str(record.key), None, None, None, record.status,
                                       None))
            continue
        if record.role.lower() not in held:
            facts = runtime.iam.get_role(record.role)
            state = runtime.iam.read_role_state(facts) if facts else None
            held[record.role.lower()] = set(state.model_arns) if state else set()
        rows.append(views.GrantRow(name, str(record.key), record.role, record.policy,
                                   record.granted_at, record.status,
                                   record.model_arn in held[record.role.lower()]))
    emit(args, views.grants_document(rows, role=role, model=model),
         lambda: views.grants_table(rows))
    return EXIT_OK


def _uninstall(args: argparse.Namespace, runtime: Runtime,
               _regions: Sequence[str] | None = None) -> int:
    """IAM is global: an account's tool policies go whatever regions were asked."""
    removed = uninstall(runtime, dry_run=args.dry_run)
    emit(args, views.uninstall_document(removed, dry_run=args.dry_run),
         lambda: views.uninstall_table(removed, dry_run=args.dry_run))
    return EXIT_OK


def _verify(args: argparse.Namespace, runtime: Runtime,
            regions: Sequence[str] | None = None) -> int:
    note("verify: reading SageMaker, the grant store and IAM")
    problems = verify(runtime, regions)
    emit(args, views.verify_document(problems), lambda: views.verify_table(problems))
    return EXIT_FINDINGS if problems else EXIT_OK


def _explain(args: argparse.Namespace, hub: Runtime) -> int:
    runtime, problem = subject_runtime(args, hub)
    if runtime is None:
        note(f"model-access explain: account {args.account_shown}: {problem}")
        return EXIT_USAGE if problem.startswith(Outcome.ACCOUNT_NOT_MEMBER) else EXIT_FINDINGS
    if runtime is not hub:
        note(f"account {runtime.scope.account}, region {runtime.scope.region}")
    explanation = explain(runtime, args.model, progress=lambda step: note(f"  {step}"))
    if not explanation.known:
        where = runtime.scope.region if runtime.scope.account == hub.scope.account else \
            f"account {runtime.scope.account}, {runtime.scope.region}"
        note(f"model-access explain: no {explanation.subject.label} {args.model!r} in "
             f"{where}: SageMaker does not show it, and the tool never "
             "recorded or granted it")
        return EXIT_NOT_FOUND
    document = explanation.as_dict()
    emit(args, document, lambda: explain_table(document))
    return EXIT_OK
