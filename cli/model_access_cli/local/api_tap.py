"""A WSGI middleware in front of the moto server that sees every SageMaker API call.

AWS records each API call (CloudTrail) and lets services emit their own events; moto does
neither. This tap reads the call as it passes (operation from `X-Amz-Target`, the JSON
request, the caller's access key and region from the SigV4 `Authorization` header, the
answer or the error) and hands an `ApiCall` to its listeners after moto has answered.
It can also play the service where moto is more lenient than AWS: a `Guard` may refuse
a request (AWS's input validation) or run calls before it (AddTags overwriting a key).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from model_access_cli.local.server import WsgiApp

SAGEMAKER_TARGET_PREFIX: Final = "SageMaker."
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/")


@dataclass(frozen=True)
class ApiCall:
    """One SageMaker API call as the service saw it: who, what, and how it ended."""

    operation: str
    request: Mapping[str, Any]
    response: Mapping[str, Any] | None
    status: int
    access_key_id: str
    region: str
    source_ip: str
    user_agent: str
    request_id: str
    when: datetime = field(default_factory=lambda: datetime.now(UTC))
    error_code: str | None = None
    error_message: str | None = None


Forward = Callable[[str, Mapping[str, Any]], tuple[int, dict[str, Any]]]
"""Run another SageMaker call on moto (never recorded); its status and JSON answer."""


@dataclass(frozen=True)
class Refusal:
    """A guard's answer instead of moto's: an AWS-style JSON error."""

    code: str
    message: str
    status: int = 400


class Guard(Protocol):
    """Plays SageMaker where moto is lenient; runs before moto sees the request."""

    def __call__(self, operation: str, request: Mapping[str, Any],
                 forward: Forward) -> Refusal | None: ...


Listener = Callable[[ApiCall], None]


class SageMakerTap:
    """WSGI middleware: guards before, listeners after, every SageMaker JSON call.

    Built before the server (`moto_server(wrap=tap.around)`); listeners that need the
    server's URL are added once it runs.
    """

    def __init__(self, guards: Iterable[Guard] = (), listeners: Iterable[Listener] = ()) -> None:
        self.app: WsgiApp | None = None
        self.guards = list(guards)
        self.listeners = list(listeners)

    def around(self, app: WsgiApp) -> SageMakerTap:
        self.app = app
        return self

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.app is None:
            raise RuntimeError("SageMakerTap.around(app) was never called")
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith(SAGEMAKER_TARGET_PREFIX):
            return self.app(environ, start_response)
        operation = target[len(SAGEMAKER_TARGET_PREFIX):]
        raw = _read_body(environ)
        request = _json_object(raw)
        refusal = self._guard(operation, request, environ)
        if refusal is not None:
            status, headers, body = _error(refusal)
        else:
            status, headers, body = self._call(environ)
        start_response(status, headers)
        self._tell(operation, request, environ, (status, headers, body))
        return [body]

    def _guard(self, operation: str, request: Mapping[str, Any],
               environ: dict[str, Any]) -> Refusal | None:
        def forward(other: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
            """Run another SageMaker call on moto as part of this one (never recorded)."""
            inner = dict(environ, HTTP_X_AMZ_TARGET=SAGEMAKER_TARGET_PREFIX + other)
            _set_body(inner, json.dumps(body).encode())
            status, _, answer = self._call(inner)  # straight to moto: not tapped
            return int(status.split(maxsplit=1)[0]), _json_object(answer)

        for guard in self.guards:
            refusal = guard(operation, request, forward)
            if refusal is not None:
                return refusal
        return None

    def _call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           _exc_info: Any = None) -> Callable[[bytes], Any]:
            answer["status"], answer["headers"] = status, headers
            return lambda _chunk: None

        assert self.app is not None
        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return answer["status"], answer["headers"], body

    def _tell(self, operation: str, request: Mapping[str, Any], environ: Mapping[str, Any],
              answered: tuple[str, list[tuple[str, str]], bytes]) -> None:
        if not self.listeners:
            return
        status, header_list, body = answered
        headers = dict(header_list)
        code = int(status.split(maxsplit=1)[0])
        answer = _json_object(body)
        credential = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        error_code = error_message = None
        if code >= 300:
            error_code = str(answer.get("__type") or headers.get("x-amzn-ErrorType")
                             or "InternalFailure").rsplit("#", 1)[-1].split(":", 1)[0]
            error_message = str(answer.get("message") or answer.get("Message") or "")
        call = ApiCall(
            operation=operation,
            request=request,
            response=answer if code < 300 else None,
            status=code,
            access_key_id=credential.group(1) if credential else "",
            region=credential.group(2) if credential else "us-east-1",
            source_ip=str(environ.get("REMOTE_ADDR", "127.0.0.1")),
            user_agent=str(environ.get("HTTP_USER_AGENT", "")),
            request_id=_header(headers, "x-amzn-RequestId") or str(uuid.uuid4()),
            error_code=error_code,
            error_message=error_message,
        )
        for listener in self.listeners:
            listener(call)


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    _set_body(environ, raw)
    return bytes(raw)


def _set_body(environ: dict[str, Any], raw: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error(refusal: Refusal) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"__type": refusal.code, "message": refusal.message}).encode()
    return (f"{refusal.status} Bad Request",
            [("Content-Type", "application/x-amz-json-1.1"),
             ("x-amzn-ErrorType", refusal.code),
             ("x-amzn-RequestId", str(uuid.uuid4())),
             ("Content-Length", str(len(body)))],
            body)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
