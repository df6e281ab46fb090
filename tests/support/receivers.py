"""A real aiohttp webhook receiver for tests: records requests, can fail on purpose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from services.common.broker import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """Answers POST /hooks/{name}; `behaviour[name](request_count)` returns the status to answer."""

    behaviour: dict[str, Callable[[int], int]] = field(default_factory=dict)
    on_request: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def for_hook(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == f"/hooks/{name}"]

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        got = Received(request.path, dict(request.headers), await request.read())
        self.received.append(got)
        if self.on_request is not None:
            self.on_request(got)
        status = self.behaviour.get(name, lambda n: 200)(len(self.for_hook(name)))
        return web.Response(status=status, text="ok" if status < 300 else "failing on purpose")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/{name}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self.port = self.port or free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
