"""Where an import's time goes: `python -X importtime` output, summed by who asked for it.

Each module's own (self) time is charged to the nearest importer, itself included, that
belongs to a family below (e.g. `asyncio` imported by Powertools' batch utility is charged
to Powertools: without Powertools it would not be imported). The first family to import a
shared module (e.g. `json`) pays for it, as it does in the process. Pure: no subprocess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

FAMILIES: Final = (
    ("ours", ("model_access", "app")),
    ("Powertools batch utility", ("aws_lambda_powertools.utilities.batch",)),
    ("Powertools data classes", ("aws_lambda_powertools.utilities.data_classes",)),
    ("Powertools (the rest)", ("aws_lambda_powertools",)),
    ("boto3 / botocore", ("boto3", "botocore", "s3transfer", "urllib3", "dateutil",
                          "jmespath")),
)
"""Most specific first: a module belongs to the first family one of whose prefixes it has."""


def family(module: str) -> str | None:
    for label, prefixes in FAMILIES:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return label
    return None


def breakdown(stderr: str) -> dict[str, float]:
    """Milliseconds of self time per family ("other": imported by none of them)."""
    rows = list(_rows(stderr.splitlines()))
    totals: dict[str, float] = {}
    for index, (self_us, depth, module) in enumerate(rows):
        owner = family(module)
        level = depth
        for _, later_depth, later in rows[index + 1:]:  # importtime lists parents after
            if owner is not None or level == 0:
                break
            if later_depth < level:
                owner, level = family(later), later_depth
        label = owner or "other"
        totals[label] = totals.get(label, 0.0) + self_us / 1000
    return {k: round(v, 1) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def _rows(lines: Iterable[str]) -> Iterable[tuple[int, int, str]]:
    """(self µs, nesting depth, module) per `import time:` line."""
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:"):].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        yield int(self_us), depth, name.strip()
