"""The dashboard and the runtime agree: every metric the code emits is drawn, and only those."""

from __future__ import annotations

from typing import Any

from model_access.core.outcomes import METRIC_DIMENSIONS, Kind, Outcome, all_metric_names
from model_access.core.settings import Env
from model_access.deploy.dashboard import (
    TOP_ACCOUNTS_TITLE,
    DashboardTargets,
    dashboard_body,
    outcomes_by_kind,
)
from tests.infra.pulumi_harness import StackRun, run_program

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def metric_rows(body: dict[str, Any]) -> list[list[Any]]:
    """Every metric line of every widget (each row spelled out in full, no `.` shorthand)."""
    return [row for widget in body["widgets"] if widget["type"] == "metric"
            for row in widget["properties"]["metrics"]]


def dimensions(row: list[Any]) -> dict[str, str]:
    names_and_values = [item for item in row[2:] if not isinstance(item, dict)]
    return dict(zip(names_and_values[::2], names_and_values[1::2], strict=True))


def runtime_metrics(run: StackRun, namespace: str) -> dict[str, dict[str, str]]:
    body = run.one(DASHBOARD).json("dashboardBody")
    rows = [row for row in metric_rows(body) if row[0] == namespace]
    drawn = {row[1]: dimensions(row) for row in rows}
    assert len(drawn) == len(rows), "a runtime metric is drawn twice"
    return drawn


def test_dashboard_draws_exactly_metrics_runtime_emits(stack: StackRun) -> None:
    """Dashboard metrics in the runtime's namespace are all_metric_names(), with its dimensions."""
    env = stack.one("aws:lambda/function:Function", "provisioner").inputs["environment"]
    namespace = env["variables"][Env.METRICS_NAMESPACE]
    service = env["variables"][Env.SERVICE_NAME]
    drawn = runtime_metrics(stack, namespace)
    assert set(drawn) == set(all_metric_names())
    assert all(dims == {METRIC_DIMENSIONS[0]: service} for dims in drawn.values())
    assert tuple(dict.fromkeys(METRIC_DIMENSIONS)) == ("service",)


def test_dashboard_follows_configured_namespace_and_service() -> None:
    """Changing namespace or service in config moves the dashboard and the functions together."""
    run = run_program({"metricsNamespace": "Team/Access", "serviceName": "ma-test"})
    env = run.one("aws:lambda/function:Function", "backfill").inputs["environment"]["variables"]
    assert (env[Env.METRICS_NAMESPACE], env[Env.SERVICE_NAME]) == ("Team/Access", "ma-test")
    drawn = runtime_metrics(run, "Team/Access")
    assert set(drawn) == set(all_metric_names())
    assert {tuple(d.items()) for d in drawn.values()} == {(("service", "ma-test"),)}


def test_dashboard_shows_lambda_and_queue_health(stack: StackRun) -> None:
    """Errors, throttles and duration of both functions, queue age and DLQ depth are drawn."""
    rows = metric_rows(stack.one(DASHBOARD).json("dashboardBody"))
    seen = {(row[0], row[1], tuple(dimensions(row).values())) for row in rows}
    for function in ("model-access-provisioner", "model-access-backfill"):
        for metric in ("Errors", "Throttles", "Duration"):
            assert ("AWS/Lambda", metric, (function,)) in seen
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", ("model-access-events",)) in seen
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("model-access-events-dlq",)) in seen


def test_dashboard_groups_outcomes_by_kind() -> None:
    """One widget per outcome kind, holding exactly the outcomes of that kind."""
    groups = outcomes_by_kind()
    assert set(groups) == set(Kind)
    assert sorted(n for names in groups.values() for n in names) == sorted(o.value for o in Outcome)
    assert set(groups[Kind.REFUSAL]) == {o.value for o in Outcome if o.is_refusal}


def test_dashboard_widgets_fit_grid() -> None:
    """Widgets tile a 24-column grid without overlapping."""
    body = dashboard_body(DashboardTargets("eu-west-1", "NS", "svc", "p", "b", "q", "d"))
    cells = set()
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        assert widget["properties"]["region"] == "eu-west-1"
        cell = (widget["x"], widget["y"])
        assert cell not in cells
        cells.add(cell)


def test_dashboard_ranks_accounts_by_refusals_and_failures_from_the_logs(
        stack: StackRun) -> None:
    """One Logs Insights widget over both functions' log groups counts the lines naming an
    account and a refusal or failure (the account is in log lines, never a dimension)."""
    body = stack.one(DASHBOARD).json("dashboardBody")
    (widget,) = [w for w in body["widgets"] if w["type"] == "log"]
    query = widget["properties"]["query"]
    assert widget["properties"]["title"] == TOP_ACCOUNTS_TITLE
    assert query.startswith("SOURCE '/aws/lambda/model-access-provisioner' | "
                            "SOURCE '/aws/lambda/model-access-backfill' | ")
    listed = query.split("outcome in [", 1)[1].split("]", 1)[0]
    named = {name.strip().strip('"') for name in listed.split(",")}
    assert named == {o.value for o in Outcome if o.kind in (Kind.REFUSAL, Kind.FAILURE)}
    assert {"AccountNotMember", "MemberUnavailable"} <= named
    assert "stats count(*) as records by account, outcome" in query
    assert all("account" not in dimensions(row) for row in metric_rows(body))
