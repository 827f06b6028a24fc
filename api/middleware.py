"""The ASGI edge of the app, in front of FastAPI's routing: shared services on the scope, a request-body byte cap,
request metrics, and a last-resort 500 that never carries a traceback or a request value.

The body cap reads the body before routing: a `Content-Length` over the cap is refused at once (413, nothing read),
and a body streamed without one is refused as soon as it passes the cap. Bodies under the cap are replayed to the app.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import SCOPE_KEY
from api.problems import PROBLEM_JSON, problem_body

log = logging.getLogger("notecheck.api")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, services: Any, max_body_bytes: int):
        self.app = app
        self.services = services
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = self.services
        metrics = self.services.metrics
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        metrics.in_progress.inc()
        try:
            replay = await self._read_body(scope, receive)
            if replay is None:
                metrics.body_rejected.inc()
                await _send_problem(send_wrapper, 413, f"The request body is over {self.max_body_bytes} bytes.")
                return
            await self.app(scope, replay, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - the last resort: log the type only, answer a bare 500
            log.error("unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path"))
            if not response_started:
                await _send_problem(send_wrapper, 500, "The server failed to handle this request.")
        finally:
            metrics.in_progress.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.observe_request(scope.get("method", "OTHER"), template, status, time.perf_counter() - started)

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive | None:
        """A receive callable replaying the whole body, or None when the body is over the cap."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        return None
                except ValueError:
                    pass
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: hand the app the disconnect
                return _replay([], message, receive)
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                return None
            chunks.append(body)
            more = message.get("more_body", False)
        return _replay(chunks, None, receive)


def _replay(chunks: list[bytes], final: Message | None, receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
    if final is not None:
        pending = [final]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _send_problem(send: Send, status: int, detail: str) -> None:
    body = json.dumps(problem_body(status, detail)).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
