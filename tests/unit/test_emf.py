"""EMF log lines become the data points CloudWatch would make of them (demo/emf.py)."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from model_access_cli.demo.emf import Datapoint, parse_line, parse_lines


def powertools_line(capsys: pytest.CaptureFixture[str], **values: float) -> str:
    """One EMF line exactly as Powertools prints it for the functions' metrics."""
    metrics = Metrics(namespace="ModelAccess", service="model-access")
    metrics.clear_metrics()  # Powertools shares pending metrics between instances
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.strip()]
    return line


def test_emf_reads_powertools_output(capsys: pytest.CaptureFixture[str]) -> None:
    """Each metric of a Powertools line is one point with the service dimension and its value."""
    line = powertools_line(capsys, Granted=2, IamWrites=3)
    stamp = json.loads(line)["_aws"]["Timestamp"]
    assert sorted(parse_line(line), key=lambda p: p.name) == [
        Datapoint(stamp, "ModelAccess", "Granted", (("service", "model-access"),), 2.0),
        Datapoint(stamp, "ModelAccess", "IamWrites", (("service", "model-access"),), 3.0),
    ]


def test_emf_reads_aws_logs_tail_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """`aws logs tail` puts a timestamp and the stream before the JSON; the point is the same."""
    line = powertools_line(capsys, Revoked=1)
    tailed = f"2026-11-28T10:00:00.123000+00:00 2026/11/28/[$LATEST]0123abcd {line}"
    assert parse_line(tailed) == parse_line(line)
    assert [p.name for p in parse_line(tailed)] == ["Revoked"]


def test_emf_skips_what_is_not_emf() -> None:
    """Plain text, JSON log lines without _aws, broken JSON and non-numbers give no points."""
    lines = [
        "START RequestId: 1 Version: $LATEST",
        json.dumps({"level": "INFO", "message": "Granted", "_aws_note": 1}),
        '{"_aws": {"CloudWatchMetrics": [',
        json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{
            "Namespace": "ModelAccess", "Dimensions": [["service"]],
            "Metrics": [{"Name": "Granted"}]}]}, "service": "x", "Granted": "many"}),
    ]
    assert parse_lines(lines) == []


def test_emf_sums_value_lists() -> None:
    """A metric given as a list of values (EMF allows it) counts as their sum."""
    line = json.dumps({"_aws": {"Timestamp": 5, "CloudWatchMetrics": [{
        "Namespace": "ModelAccess", "Dimensions": [["service"]],
        "Metrics": [{"Name": "Granted", "Unit": "Count"}]}]},
        "service": "model-access", "Granted": [1, 1, 2]})
    assert [p.value for p in parse_line(line)] == [4.0]
