"""Where the Lambda archives are: `make package` writes them to dist/ at the repository root."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pulumi

DIST_DIR: Final = Path(__file__).resolve().parents[2] / "dist"
HANDLER: Final = "app.handler"
"""Every function folder holds `app.py` with `handler(event, context)`."""
LAYER_ARCHIVE: Final = "layer.zip"


def function_archive_name(function: str) -> str:
    """`provisioner` -> `provisioner.zip` (the name model_access_cli.package writes)."""
    return f"{function}.zip"


def archive(file_name: str) -> pulumi.FileArchive:
    """A dist/ archive; warns (Pulumi then fails to hash it) when `make package` has not run."""
    path = DIST_DIR / file_name
    if not path.is_file():
        pulumi.log.warn(f"{path} is missing: run `make package` before preview or deploy")
    return pulumi.FileArchive(str(path))
