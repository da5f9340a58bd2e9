"""The README's webhook receiver, registered with its curl examples' bodies, verifies what a
month's advance sends it."""

from __future__ import annotations

import re
import shlex
import threading

import orjson

from tests.support import ROOT
from tests.webhooks.conftest import JSON

README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGE = README.split("### Webhooks\n")[1].split("\n### ")[0]  # the README's section
SERVE = 'HTTPServer(("127.0.0.1", 9000), Receiver).serve_forever()'


def _receiver() -> tuple[object, list[tuple]]:
    (code,) = re.findall(r"```python\n(import .*?)```", PAGE, re.S)
    assert SERVE in code and len(code.splitlines()) <= 25
    printed: list[tuple] = []
    namespace = {"print": lambda *values: printed.append(values)}
    exec(code.replace(SERVE, 'server = HTTPServer(("127.0.0.1", 0), Receiver)'), namespace)
    # A connection the mock leaves open (an attempt it gave up on as the test ends) must not
    # hold the page's one-at-a-time server, and its shutdown, for ever.
    namespace["Receiver"].timeout = 5
    return namespace["server"], printed


def _registrations(port: int) -> list[dict]:
    (block,) = re.findall(r"```sh\n(.*?)```", PAGE, re.S)
    commands = shlex.split(block.replace("\\\n", " "), comments=True)
    bodies = [orjson.loads(commands[i + 1]) for i, word in enumerate(commands) if word == "-d"]
    return [
        {**body, "url": body["url"].replace(":9000", f":{port}"), "retry_scale": 0.001}
        for body in bodies
        if "api" in body
    ]


async def test_the_pages_receiver_verifies_both_apis_events(client, receiver) -> None:
    server, printed = _receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for body in _registrations(server.server_address[1]):
            assert (await client.post("/_mock/webhooks", data=orjson.dumps(body), headers=JSON)).status == 201
        await client.post("/_mock/clock", data=orjson.dumps({"advance": "P1M"}), headers=JSON)
        await receiver.until(lambda: {path for path, _type, _ok in printed} == {"/metronome", "/meteroid"})
        assert all(ok for _path, _type, ok in printed)
    finally:
        server.shutdown()
        server.server_close()
