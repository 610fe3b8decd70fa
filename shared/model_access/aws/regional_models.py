"""SageMaker of every served region of one account, behind the one reader the engine uses.

IAM and the grant store are per account, SageMaker per region. So that one reconcile (one
batch, one lease, one set of IAM writes per role) covers a role's models of every region,
the account's reconciler reads each model in its own region: `read` and `describe` pick
the region's reader from the key. Readers of other regions are built on first use (cold
start pays nothing for regions a batch does not name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from model_access.aws.models import ModelReader, ModelTruth
from model_access.core.arns import ResourceKey
from model_access.model.kinds import parse_grantable_arn


class RegionalModels(ModelReader):
    """A ModelReader for the home region that hands other regions' keys to theirs."""

    def __init__(self, home: ModelReader, home_region: str,
                 reader_for: Callable[[str], ModelReader]) -> None:
        super().__init__(home._sm, home._tagging)
        self._readers: dict[str, ModelReader] = {home_region: home}
        self._reader_for = reader_for

    def _reader(self, region: str) -> ModelReader:
        if region not in self._readers:
            self._readers[region] = self._reader_for(region)
        return self._readers[region]

    def read(self, by_arn: dict[ResourceKey, str],
             by_name: dict[ResourceKey, str]) -> dict[ResourceKey, ModelTruth]:
        regions = {k.region for k in (*by_arn, *by_name)}
        truths: dict[ResourceKey, ModelTruth] = {}
        for region in sorted(regions):
            truths.update(self._reader(region).read(
                {k: a for k, a in by_arn.items() if k.region == region},
                {k: n for k, n in by_name.items() if k.region == region}))
        return truths

    def describe(self, key: ResourceKey, name: str) -> ModelTruth:
        return self._reader(key.region).describe(key, name)

    def list_tags(self, arn: str) -> Iterator[tuple[str, str]]:
        parsed = parse_grantable_arn(arn)
        if parsed is None:
            return super().list_tags(arn)
        return self._reader(parsed.region).list_tags(arn)
