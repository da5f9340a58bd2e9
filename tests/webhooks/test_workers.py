"""With `--workers 2`, each event is sent once: by the process that logged its change."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson

from tests.support import running_server
from tests.webhooks.conftest import JSON, SCALE


async def test_two_workers_send_each_finalized_invoice_once_to_each_api(receiver) -> None:
    with running_server(None, "--workers", "2") as base:
        async with aiohttp.ClientSession(base) as session:
            for api in ("metronome", "meteroid"):
                body = {"url": f"{receiver.url}/{api}", "api": api, "retry_scale": SCALE}
                async with session.post("/_mock/webhooks", data=orjson.dumps(body), headers=JSON) as answer:
                    assert answer.status == 201
            body = {"advance": "P1M"}
            async with session.post("/_mock/clock", data=orjson.dumps(body), headers=JSON) as answer:
                changed = (await answer.json())["changed"]
            finalized = changed["finalized"] + changed["issued"]

            def finalized_at(path: str) -> list[str]:
                return [r.event["id"] for r in receiver.at(path) if r.event["type"] == "invoice.finalized"]

            await receiver.until(lambda: len(finalized_at("/metronome")) >= finalized, timeout=10)
            await receiver.until(lambda: len(finalized_at("/meteroid")) >= finalized, timeout=10)
            await asyncio.sleep(0.5)  # the other worker has read the change by now (it reads every 0.1 s)
        for path in ("/metronome", "/meteroid"):
            ids = finalized_at(path)
            assert len(ids) == finalized and len(set(ids)) == finalized
