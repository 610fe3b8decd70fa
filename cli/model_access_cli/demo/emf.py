"""EMF log lines -> metric data points, as CloudWatch reads them.

A log line whose JSON object carries `_aws.CloudWatchMetrics` (CloudWatch's embedded metric
format, what Powertools' Metrics prints) becomes, for each metric that directive names, one
data point: its namespace, its name, the values of the directive's dimensions, the line's
timestamp, and the value (a list of values counts as their sum). Lines may come as the
functions print them or as `aws logs tail` shows them (a timestamp and the stream name before
the JSON); anything else is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Datapoint:
    """One metric value from one log line."""

    timestamp_ms: int
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float


def _blob(line: str) -> dict[str, Any] | None:
    start = line.find("{")
    if start < 0 or '"_aws"' not in line:
        return None
    try:
        blob = json.loads(line[start:])
    except ValueError:
        return None
    return blob if isinstance(blob, dict) and isinstance(blob.get("_aws"), dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        return float(sum(numbers)) if numbers else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def parse_line(line: str) -> list[Datapoint]:
    """The data points of one log line (none when it is not EMF)."""
    blob = _blob(line)
    if blob is None:
        return []
    meta = blob["_aws"]
    timestamp = int(meta.get("Timestamp", 0))
    points = []
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = str(directive.get("Namespace", ""))
        for dimension_set in directive.get("Dimensions", []) or [[]]:
            dimensions = tuple((str(key), str(blob.get(key, ""))) for key in dimension_set)
            for metric in directive.get("Metrics", []):
                value = _number(blob.get(metric.get("Name")))
                if value is not None:
                    points.append(Datapoint(timestamp, namespace, str(metric["Name"]),
                                            dimensions, value))
    return points


def parse_lines(lines: Iterable[str]) -> list[Datapoint]:
    """Every data point of every EMF line, in order."""
    return [point for line in lines for point in parse_line(line)]
