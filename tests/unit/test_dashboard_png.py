"""`model-access dashboard --from-logs`: the deployed dashboard drawn from EMF lines, as a PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_access.core.outcomes import CallMetric, Outcome
from model_access.deploy.dashboard import dashboard_body
from model_access_cli.demo.dashboard_png import (
    TABLE_COLUMNS,
    MetricRef,
    default_targets,
    draw_from_lines,
    log_records,
    top_accounts,
)
from model_access_cli.demo.emf import parse_lines
from model_access_cli.main import main

START_MS = 1_795_000_000_000


def emf(offset_s: float, service: str = "model-access", **values: float) -> str:
    """An EMF line shaped as Powertools prints the functions' metrics."""
    return json.dumps({
        "_aws": {"Timestamp": int(START_MS + offset_s * 1000), "CloudWatchMetrics": [{
            "Namespace": "ModelAccess", "Dimensions": [["service"]],
            "Metrics": [{"Name": n, "Unit": "Count"} for n in values]}]},
        "service": service, **values})


LINES = [
    emf(0, Granted=20, IamCalls=30, IamWrites=4, AwsCalls=70),
    emf(2, NoOwnerTag=1, ForeignOwner=1, InvalidOwner=1, Unchanged=3, IamCalls=5, AwsCalls=12),
    emf(9, Revoked=1, Moved=1, RetryScheduled=2, IamCalls=8, IamWrites=3, AwsCalls=20),
    "START RequestId: 0f Version: $LATEST",
]


def test_dashboard_png_draws_every_widget_of_the_deployed_body(tmp_path: Path) -> None:
    """Every widget of the stack's dashboard body is drawn, in order, with each of its metrics
    as a series; the metrics the logs hold have data, CloudWatch's own have none."""
    points = parse_lines(LINES)
    body = dashboard_body(default_targets(points))
    png, drawn = draw_from_lines(LINES, tmp_path / "dash.png")
    assert [w.title for w in drawn] == [w["properties"]["title"] for w in body["widgets"]]
    for widget, panel in zip(body["widgets"], drawn, strict=True):
        if widget["type"] == "log":  # the Logs Insights table: no account lines in LINES
            assert (panel.series, panel.with_data) == (TABLE_COLUMNS, ())
            continue
        assert panel.series == tuple(MetricRef.parse(m).label
                                     for m in widget["properties"]["metrics"])
    with_data = {label for panel in drawn for label in panel.with_data}
    assert with_data == {"Granted", "Revoked", "Moved", "Unchanged", "NoOwnerTag",
                         "ForeignOwner", "InvalidOwner", "RetryScheduled",
                         *(c.value for c in CallMetric)}
    assert {o.value for o in Outcome} <= {s for panel in drawn for s in panel.series}
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_dashboard_png_ignores_another_service(tmp_path: Path) -> None:
    """Metrics of another service (dimension value) are not drawn as this stack's."""
    lines = [emf(0, Granted=5), emf(1, service="someone-else", Granted=7)]
    _, drawn = draw_from_lines(lines, tmp_path / "d.png",
                               targets=default_targets(parse_lines(lines[:1])))
    assert "Granted" in drawn[0].with_data
    assert sum(len(p.with_data) for p in drawn) == 1


def test_dashboard_command_prints_the_png_path(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI reads a log file, writes FILE.png next to it and prints that path alone."""
    logs = tmp_path / "provisioner.log"
    logs.write_text("\n".join(LINES) + "\n")
    assert main(["dashboard", "--from-logs", str(logs)]) == 0
    out = capsys.readouterr().out
    assert out == f"{tmp_path / 'provisioner.png'}\n"
    assert (tmp_path / "provisioner.png").stat().st_size > 10_000


def test_dashboard_command_refuses_a_file_without_metrics(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No EMF line: exit 2 and say so, no PNG."""
    logs = tmp_path / "empty.log"
    logs.write_text("START RequestId: 1\nEND RequestId: 1\n")
    assert main(["dashboard", "--from-logs", str(logs)]) == 2
    assert "no EMF metrics" in capsys.readouterr().err
    assert not (tmp_path / "empty.png").exists()


def log_line(account: str | None, outcome: str) -> str:
    """A provisioner log line as `aws logs tail` prints it (timestamp and stream first)."""
    record = {"level": "INFO", "message": "why", "outcome": outcome, "service": "model-access"}
    if account:
        record["account"] = account
    return "2026-12-02T10:00:00 2026/12/02/[$LATEST]abc " + json.dumps(record)


def test_dashboard_png_draws_the_top_accounts_table_from_log_lines(tmp_path: Path) -> None:
    """The Logs Insights widget is drawn as its query's table: refusals and failures per
    account and outcome, largest first; changes and lines without an account left out."""
    lines = [*LINES,
             *[log_line("222222222222", "AccountNotMember")] * 3,
             *[log_line("111111111111", "MemberUnavailable")] * 2,
             log_line("111111111111", "Granted"), log_line(None, "BadEvent")]
    assert top_accounts(log_records(lines)) == [
        ("222222222222", "AccountNotMember", 3), ("111111111111", "MemberUnavailable", 2)]
    _, drawn = draw_from_lines(lines, tmp_path / "d.png")
    (table,) = [p for p in drawn if p.series == TABLE_COLUMNS]
    assert table.with_data == ("222222222222 AccountNotMember", "111111111111 MemberUnavailable")
