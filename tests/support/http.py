"""Small HTTP helpers for tests against the running services."""

from __future__ import annotations

import json
from typing import Any

import aiohttp


async def post_json(
    url: str, body: Any, token: str | None, *, raw: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
        async with session.post(url, data=data, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, text


async def get_json(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        try:
            return response.status, await response.json(content_type=None)
        except ValueError:
            return response.status, await response.text()
