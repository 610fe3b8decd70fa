"""The CloudWatch dashboard body: every metric the runtime emits, plus the AWS metrics around it.

Pure (no boto3, no pulumi). The outcome widgets are generated from `Outcome` and `CallMetric`
in `outcomes.py`, so a new outcome shows up on the dashboard without anyone listing it twice;
the namespace and the `service` dimension come in once, through `DashboardTargets`.

The account is never a metric dimension (unbounded in an organization); it is in every log
line, so one CloudWatch Logs Insights widget ranks the accounts by refusals and failures
from the functions' log lines (fields `account` and `outcome`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from model_access.core.outcomes import METRIC_DIMENSIONS, CallMetric, Kind, Outcome

WIDGET_WIDTH: Final = 12
WIDGET_HEIGHT: Final = 6
GRID_WIDTH: Final = 24
PERIOD_SECONDS: Final = 300

_KIND_TITLES: Final[dict[Kind, str]] = {
    Kind.CHANGE: "Grants changed (granted, revoked, moved, repaired)",
    Kind.NO_CHANGE: "Nothing to do (unchanged, ignored, model gone)",
    Kind.REFUSAL: "Refused, by reason",
    Kind.FAILURE: "Failures and retries",
}
_CONSOLE_HOSTS: Final[dict[str, str]] = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


@dataclass(frozen=True)
class DashboardTargets:
    """What the dashboard watches: the runtime's metric identity and the stack's resources."""

    region: str
    namespace: str
    service: str
    provisioner_function: str
    backfill_function: str
    queue_name: str
    dlq_name: str


def outcomes_by_kind() -> dict[Kind, tuple[str, ...]]:
    """Outcome metric names grouped as the dashboard draws them (one widget per kind)."""
    return {kind: tuple(o.value for o in Outcome if o.kind is kind) for kind in Kind}


def _custom(targets: DashboardTargets, name: str) -> list[Any]:
    """One runtime metric with exactly the dimensions Powertools puts on it."""
    (dimension,) = METRIC_DIMENSIONS
    return [targets.namespace, name, dimension, targets.service, {"stat": "Sum", "label": name}]


def _graph(title: str, metrics: list[list[Any]], region: str, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "period": PERIOD_SECONDS,
        "metrics": metrics,
    }
    properties.update(extra)
    return {"type": "metric", "properties": properties}


def _runtime_widgets(targets: DashboardTargets) -> Iterator[dict[str, Any]]:
    for kind, names in outcomes_by_kind().items():
        yield _graph(_KIND_TITLES[kind], [_custom(targets, n) for n in names], targets.region)
    yield _graph(
        "AWS calls (IamCalls, IamWrites, AwsCalls)",
        [_custom(targets, c.value) for c in CallMetric],
        targets.region,
    )


def _lambda_widgets(targets: DashboardTargets) -> Iterator[dict[str, Any]]:
    functions = (targets.provisioner_function, targets.backfill_function)
    yield _graph(
        "Lambda errors and throttles",
        [
            ["AWS/Lambda", metric, "FunctionName", fn, {"stat": "Sum", "label": f"{metric} {fn}"}]
            for fn in functions
            for metric in ("Errors", "Throttles")
        ],
        targets.region,
    )
    yield _graph(
        "Lambda duration (p99, ms)",
        [
            ["AWS/Lambda", "Duration", "FunctionName", fn, {"stat": "p99", "label": fn}]
            for fn in functions
        ],
        targets.region,
    )


def _queue_widgets(targets: DashboardTargets) -> Iterator[dict[str, Any]]:
    yield _graph(
        "Age of oldest queued event (s)",
        [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", targets.queue_name,
          {"stat": "Maximum", "label": targets.queue_name}]],
        targets.region,
    )
    yield _graph(
        "Queue and DLQ depth",
        [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name,
             {"stat": "Maximum", "label": name}]
            for name in (targets.queue_name, targets.dlq_name)
        ],
        targets.region,
    )


TOP_ACCOUNTS_TITLE: Final = "Top accounts by refusals and failures (Logs Insights)"
TOP_ACCOUNTS_LIMIT: Final = 20


def top_accounts_outcomes() -> tuple[str, ...]:
    """The outcomes the accounts are ranked by: every refusal and every failure."""
    return tuple(o.value for o in Outcome if o.kind in (Kind.REFUSAL, Kind.FAILURE))


def top_accounts_query(log_groups: tuple[str, ...]) -> str:
    """The Logs Insights query: log lines (one per record, one per swept account) that name
    an account and a refusal or failure, counted per account and outcome, largest first."""
    sources = " | ".join(f"SOURCE '{group}'" for group in log_groups)
    listed = ", ".join(f'"{name}"' for name in top_accounts_outcomes())
    return (f"{sources} | fields account, outcome"
            f" | filter ispresent(account) and outcome in [{listed}]"
            f" | stats count(*) as records by account, outcome"
            f" | sort records desc | limit {TOP_ACCOUNTS_LIMIT}")


def _logs_widgets(targets: DashboardTargets) -> Iterator[dict[str, Any]]:
    groups = tuple(f"/aws/lambda/{fn}"
                   for fn in (targets.provisioner_function, targets.backfill_function))
    yield {"type": "log", "properties": {
        "title": TOP_ACCOUNTS_TITLE, "region": targets.region, "view": "table",
        "query": top_accounts_query(groups)}}


def _place(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lay widgets out two per row, in order."""
    per_row = GRID_WIDTH // WIDGET_WIDTH
    placed = []
    for index, widget in enumerate(widgets):
        row, column = divmod(index, per_row)
        placed.append({**widget, "x": column * WIDGET_WIDTH, "y": row * WIDGET_HEIGHT,
                       "width": WIDGET_WIDTH, "height": WIDGET_HEIGHT})
    return placed


def dashboard_body(targets: DashboardTargets) -> dict[str, Any]:
    """The dashboard as CloudWatch's PutDashboard takes it (serialise with json.dumps)."""
    widgets = [
        *_runtime_widgets(targets),
        *_lambda_widgets(targets),
        *_queue_widgets(targets),
        *_logs_widgets(targets),
    ]
    return {"widgets": _place(widgets)}


def dashboard_url(partition: str, region: str, name: str) -> str:
    """The console link to a dashboard (the stack exports it)."""
    host = _CONSOLE_HOSTS.get(partition, _CONSOLE_HOSTS["aws"])
    return f"https://{region}.{host}/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
