"""A moto server on 127.0.0.1 standing in for AWS: real HTTP, EventBridge rules, SQS.

`moto_server(wrap=...)` puts a WSGI middleware in front of moto's own application (the one
`ThreadedMotoServer` serves), which is how the local stand-ins see every API call any
client makes (`api_tap.py`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

WsgiApp = Callable[[dict[str, Any], Any], Any]
Middleware = Callable[[WsgiApp], WsgiApp]


def use_dummy_credentials(region: str) -> None:
    """Point boto3 at fake credentials so nothing can reach (or sign for) a real account."""
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.setdefault("AWS_REGION", region)
    os.environ.setdefault("AWS_DEFAULT_REGION", region)


@contextmanager
def moto_server(port: int = 0, wrap: Middleware | None = None) -> Iterator[str]:
    """Run a moto server on a local port (0: a free one) for the duration; yield its URL."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from model_access_cli.local.moto_extensions import register

    register()  # the Model Registry deletes moto lacks (moto_extensions.py)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    if wrap is not None:
        app = wrap(app)
    server = make_server("127.0.0.1", port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    # serve_forever polls for shutdown every 0.5 s by default: each server we stop would
    # cost half a second of waiting (benchmarks and tests start dozens).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="moto-server", daemon=True)
    thread.start()
    host, bound = server.server_address[:2]
    try:
        yield f"http://{host!s}:{bound}"
    finally:
        server.shutdown()
        thread.join()
