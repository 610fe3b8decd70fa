"""The `model-access` command: local stack, demo, dashboard, plan, backfill, grants, verify,
explain, uninstall."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from model_access.core.errors import ModelAccessError
from model_access.deploy.patterns import TriggerMode
from model_access_cli.commands.output import EXIT_INTERRUPTED, EXIT_USAGE
from model_access_cli.local.trail import DEFAULT_DELAY_SECONDS as DEFAULT_TRAIL_DELAY

DESCRIPTION = """\
Least-privilege access to each SageMaker model for the IAM role named in its owner tag.

Every command but `demo` works against the endpoint in --endpoint-url or AWS_ENDPOINT_URL
(a moto server, say); without one it uses your AWS credentials and region as boto3 finds
them. Settings come from the same MODEL_ACCESS_* environment variables the functions read.
Commands that print results take --output table|json (one JSON document on stdout;
progress and errors on stderr).

Exit status: 0 ok; 1 findings or failures (verify, backfill, demo); 2 usage, settings or
AWS error; 3 changes pending (plan); 4 model unknown (explain); 130 interrupted.
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"),
                        help="AWS endpoint to talk to (default: $AWS_ENDPOINT_URL)")
    parser.add_argument("--region", default=None,
                        help="AWS region (default: $AWS_REGION, else us-east-1); when "
                             "MODEL_ACCESS_REGIONS lists other served regions, only this "
                             "served region's models (the home region is then $AWS_REGION)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="model-access", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = commands.add_parser("local", help="manage the local (moto) stack",
                                description="Manage the stateful resources on a local endpoint.")
    local_commands = local.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    up = local_commands.add_parser(
        "up", help="create the table, queue, DLQ and EventBridge rule (idempotent)",
        description="Create, on the endpoint, every resource the functions need, with the "
                    "names they use by default, plus the production EventBridge rule and "
                    "queue. Safe to run again.")
    _common(up)
    serve = local_commands.add_parser(
        "serve", help="run the stack locally, like an AWS account with a trail, until Ctrl-C",
        description="Start a moto server on 127.0.0.1, run `local up` on it, and stand in "
                    "for what AWS would add: CloudTrail (every watched SageMaker call any "
                    "client makes becomes an event on the default bus, after a delay), the "
                    "SQS event source mapping (the real provisioner handler drains the "
                    "queue), and optionally the drift sweep schedule. Prints one line per "
                    "processed record. Point your tools at it with AWS_ENDPOINT_URL.")
    serve.add_argument("--port", type=int, default=5000, help="port to listen on (5000)")
    serve.add_argument("--region", default="us-east-1", help="region (us-east-1)")
    serve.add_argument("--trail-delay", type=float, default=DEFAULT_TRAIL_DELAY,
                       metavar="SECONDS",
                       help=f"delay before a call's event reaches the bus ({DEFAULT_TRAIL_DELAY:g}"
                            "; AWS takes minutes)")
    serve.add_argument("--sweep-every", type=float, default=None, metavar="SECONDS",
                       help="run the backfill function as the drift sweep every SECONDS")
    serve.add_argument("--no-trail", action="store_true",
                       help="no CloudTrail stand-in: SageMaker calls produce no events")
    serve.add_argument("--no-consumer", action="store_true",
                       help="no event source mapping: events stay in the queue")
    serve.add_argument("--verbose", action="store_true", help="show the handlers' JSON logs")
    for command in (up, serve):
        command.add_argument(
            "--trigger", choices=[m.value for m in TriggerMode], default=TriggerMode.BOTH.value,
            help="which SageMaker events feed the queue, as the stack setting `trigger`: "
                 "cloudtrail (API calls a trail records), native (SageMaker's own model "
                 "state changes, no trail) or both (default)")

    demo = commands.add_parser(
        "demo", help="run the whole flow on a private moto server and check the outcomes",
        description="Start a moto server on a free local port, create roles and tagged "
                    "models, send CloudTrail-shaped events through EventBridge and SQS to "
                    "the real handlers, then print grants, refusals and IAM calls. Exits 0 "
                    "only if every expected outcome happened.")
    demo.add_argument("--verbose", action="store_true", help="show the handlers' JSON logs")
    demo.add_argument("--org", action="store_true",
                      help="the organization instead: a hub and two member accounts in two "
                           "regions (spokes forward to the hub bus; grants land in each "
                           "member's IAM; a stranger account is refused)")
    demo.add_argument("--dashboard-dir", type=Path, default=Path("build/demo"),
                      help="where the demo writes its EMF log lines and the dashboard PNG "
                           "drawn from them (build/demo)")

    dashboard = commands.add_parser(
        "dashboard", help="draw the stack's CloudWatch dashboard from EMF log lines, as a PNG",
        description="Draw the dashboard the stack deploys (same widgets, same metrics, same "
                    "layout) from a file of EMF log lines: what the functions print, or what "
                    "`aws logs tail /aws/lambda/model-access-provisioner` shows. Prints the "
                    "PNG's path. Needs matplotlib (a development dependency).")
    dashboard.add_argument("--from-logs", type=Path, required=True, metavar="FILE",
                           help="file of log lines; lines that are not EMF are skipped")
    dashboard.add_argument("--out", type=Path, default=None,
                           help="PNG to write (default: FILE with the suffix .png)")
    dashboard.add_argument("--name-prefix", default="model-access",
                           help="the stack's namePrefix, naming the functions (model-access)")
    dashboard.add_argument("--region", default="us-east-1", help="region shown (us-east-1)")

    from model_access_cli.commands import ops

    ops.add_commands(commands, _common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo" and args.org:
            from model_access_cli.demo.org import run_org_demo

            return run_org_demo(verbose=args.verbose)
        if args.command == "demo":
            from model_access_cli.demo.single import run_demo

            return run_demo(verbose=args.verbose, dashboard_dir=args.dashboard_dir)
        if args.command == "dashboard":
            return _dashboard(args)
        if args.command == "local":
            from model_access_cli.commands.ops import local_serve_command, local_up_command

            if args.local_command == "serve":
                return local_serve_command(args)
            return local_up_command(args)
        from model_access_cli.commands import ops

        return ops.run(args)
    except ModelAccessError as exc:
        print(f"model-access: {exc}", file=sys.stderr)
        endpoint = getattr(args, "endpoint_url", None)
        if endpoint and "Could not connect" in str(exc):
            print(f"  nothing answers at {endpoint}: `make local` (or `model-access local "
                  "serve`) runs a moto server on 127.0.0.1:5000", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _dashboard(args: argparse.Namespace) -> int:
    from model_access_cli.demo.dashboard_png import (
        DrawingUnavailableError,
        default_targets,
        draw_from_lines,
    )
    from model_access_cli.demo.emf import parse_lines

    try:
        lines = args.from_logs.read_text().splitlines()
    except OSError as exc:
        print(f"model-access dashboard: cannot read {args.from_logs}: {exc}", file=sys.stderr)
        return 2
    points = parse_lines(lines)
    if not points:
        print(f"model-access dashboard: no EMF metrics in {args.from_logs}", file=sys.stderr)
        return 2
    out = args.out or args.from_logs.with_suffix(".png")
    targets = default_targets(points, args.name_prefix, args.region)
    try:
        png, drawn = draw_from_lines(lines, out, targets=targets)
    except DrawingUnavailableError as exc:
        print(f"model-access dashboard: {exc}", file=sys.stderr)
        return 2
    with_data = sum(1 for widget in drawn if widget.with_data)
    print(f"{len(points)} data points, {len(drawn)} widgets ({with_data} with data)",
          file=sys.stderr)
    print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
