"""Which accounts and regions `plan`, `backfill`, `grants`, `verify` and `uninstall` act on,
and where the resource `explain` names lives (`subject_runtime`).

- No flag: the hub's own account (the single-account tool, unchanged).
- `--account ID`: that account, through `Runtime.for_origin` (the member role, the account's
  namespace in the grant store); an account the hub does not serve is refused
  (AccountNotMember) before any call there.
- `--all-accounts`: the hub's account, then every member it serves (MODEL_ACCESS_MEMBER_ACCOUNTS,
  or Organizations' ACTIVE accounts), one after the other, a line per account on stderr; a
  member whose role is missing or refuses the hub is reported (MemberUnavailable) and the
  rest goes on (exit status 1 at the end).
- `--region R`: with MODEL_ACCESS_REGIONS set (the hub serves several regions), only region
  R's models (the home region is then $AWS_REGION); without it, the stack's region as
  before. IAM is global, so `uninstall` always acts on whole accounts.

With `--output json`, `--all-accounts` prints one document: each account's document (the
one the command prints for one account) with the account and how it went.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from model_access.core.errors import (
    AccountNotMemberError,
    ConfigurationError,
    MemberUnavailableError,
)
from model_access.core.outcomes import Outcome
from model_access.model.accounts import origin_of_arn
from model_access.runtime import Runtime
from model_access.sweep.accounts import served_accounts
from model_access_cli.commands.output import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    SCHEMA_VERSION,
    note,
)

Command = Callable[[argparse.Namespace, Runtime, Sequence[str] | None], int]
"""One command for one account: (args, the account's runtime, regions or None: all)."""


def add_scope_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--account", metavar="ID",
                       help="act in this account (the hub's or a member it serves) instead "
                            "of the hub's own")
    group.add_argument("--all-accounts", action="store_true",
                       help="the hub's account and every member it serves, one after the "
                            "other (progress per account on stderr)")


def home_region(args: argparse.Namespace) -> str:
    """The hub's home region: --region unless the hub serves several regions, where
    --region picks one of them and the home region comes from the environment."""
    environment = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if os.environ.get("MODEL_ACCESS_REGIONS"):
        return environment or "us-east-1"
    return str(args.region or environment or "us-east-1")


def regions_asked(args: argparse.Namespace, hub: Runtime) -> list[str] | None:
    """The served regions to act in (None: every one)."""
    region = getattr(args, "region", None)
    if not region or not hub.settings.regions:
        return None
    if region not in hub.settings.served_regions:
        raise ConfigurationError(f"--region {region}: this hub serves "
                                 f"{', '.join(hub.settings.served_regions)}")
    return [region]


def run_scoped(args: argparse.Namespace, hub: Runtime, command: Command) -> int:
    """Run `command` for the account(s) and region(s) the flags ask for."""
    regions = regions_asked(args, hub)
    account = getattr(args, "account", None)
    if not account and not getattr(args, "all_accounts", False):
        return command(args, hub, regions)
    if account:
        runtime, problem = _account_runtime(hub, account)
        if runtime is None:
            note(f"account {account}: {problem}")
            return EXIT_USAGE if problem.startswith(Outcome.ACCOUNT_NOT_MEMBER) else EXIT_FINDINGS
        note(f"account {account}")
        args.account_shown = account
        return command(args, runtime, regions)
    return _all_accounts(args, hub, regions, command)


def _all_accounts(args: argparse.Namespace, hub: Runtime, regions: Sequence[str] | None,
                  command: Command) -> int:
    accounts = served_accounts(hub)
    as_json = getattr(args, "output", "table") == "json"
    entries: list[dict[str, Any]] = []
    codes: list[int] = []
    kept_out = False
    for index, account in enumerate(accounts, start=1):
        note(f"account {account} ({index}/{len(accounts)})")
        runtime, problem = _account_runtime(hub, account)
        if runtime is None:
            note(f"  {problem}")
            outcome, _, reason = problem.partition(": ")
            entries.append({"account": account, "outcome": outcome, "reason": reason,
                            "exitStatus": EXIT_FINDINGS, "document": None})
            kept_out = True
            continue
        args.collected = [] if as_json else None
        if not as_json:
            print(f"{'' if index == 1 else chr(10)}account {account}", flush=True)
        code = command(args, runtime, regions)
        codes.append(code)
        document = args.collected[0] if args.collected else None
        entries.append({"account": account, "outcome": "Done", "reason": "",
                        "exitStatus": code, "document": document})
    args.collected = None
    if as_json:
        print(json.dumps({"command": args.command, "schemaVersion": SCHEMA_VERSION,
                          "accounts": entries}, indent=2, sort_keys=True))
    if EXIT_USAGE in codes:
        return EXIT_USAGE
    if kept_out:
        return EXIT_FINDINGS
    return max(codes, default=EXIT_OK)


def subject_runtime(args: argparse.Namespace, hub: Runtime) -> tuple[Runtime | None, str]:
    """`explain`: the runtime of the account and region the resource is in (or why there is
    none). An ARN names its own account and region (`--account`, if given, must agree); a
    bare name is the hub's, or `--account`'s, in the home region or `--region`'s. A region
    the hub does not serve stays the hub's: the subject is then refused as outside this
    deployment, with the reason."""
    text = str(args.model).strip()
    flag = getattr(args, "account", None)
    account, region = flag or hub.scope.account or "", hub.scope.region
    named = origin_of_arn(text)
    if named is not None:
        if flag and flag != named.account:
            raise ConfigurationError(f"--account {flag}, but {text} is in account "
                                     f"{named.account}")
        account = named.account
        if named.region in hub.settings.served_regions:
            region = named.region
    elif not text.startswith("arn:"):
        region = (regions_asked(args, hub) or [region])[0]
    if account == hub.scope.account and region == hub.scope.region:
        return hub, ""
    if account != hub.scope.account:
        args.account_shown = account
    return _account_runtime(hub, account, region)


def _account_runtime(hub: Runtime, account: str,
                     region: str | None = None) -> tuple[Runtime | None, str]:
    """The account's runtime in `region` (default: the home region), or why there is none."""
    try:
        return hub.for_origin(account, region or hub.scope.region), ""
    except AccountNotMemberError as exc:
        return None, f"{Outcome.ACCOUNT_NOT_MEMBER}: {exc}"
    except MemberUnavailableError as exc:
        return None, f"{Outcome.MEMBER_UNAVAILABLE}: {exc}"
