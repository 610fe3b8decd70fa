"""A moto server on 127.0.0.1 standing in for AWS: real HTTP, EventBridge rules, SQS."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def use_dummy_credentials(region: str) -> None:
    """Point boto3 at fake credentials so nothing can reach (or sign for) a real account."""
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.setdefault("AWS_REGION", region)
    os.environ.setdefault("AWS_DEFAULT_REGION", region)


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """Run a moto server on a free local port for the duration; yield its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.stop()
