#!/usr/bin/python3
"""The PHP client (clients/php) against the real server, run by Debian's php-cli: what the
people coming from the Ratchet tutorials will use.

Usage: /usr/bin/python3 test_php.py --herald build/<dir>/apps/herald/herald
"""

import asyncio
import json
import os
import subprocess
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402

suite = Suite("PHP client (php-cli)")
TEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "php",
                    "tests", "ClientTest.php")


SECRET = "php-test-secret-0123456789abcdef0123"
CLIENT_PHP = os.path.join(os.path.dirname(TEST), "..", "src", "Client.php")


@suite.case("clients/php/tests/ClientTest.php passes against the server; its tokens connect and "
            "its disconnect ends the user's connection", args=("--token-secret", SECRET),
            timeout=60)
async def php_client(server):
    step("php makes a connection token for user php-42")
    tok = subprocess.run(["php", "-r", "require $argv[1]; echo Herald\\Client::connectionToken("
                          "$argv[2], 'php-42', ['via' => 'php']);", CLIENT_PHP, SECRET],
                         capture_output=True, text=True, timeout=20)
    check(tok.returncode == 0 and tok.stdout.count(".") == 2, "a JWT", tok.stdout + tok.stderr)
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/connection/websocket")
    await ws.send(json.dumps({"id": 1, "method": "connect", "params": {"token": tok.stdout}}) +
                  "\n" + json.dumps({"id": 2, "method": "subscribe",
                                     "params": {"channel": "php:lobby"}}))
    replies = []
    while len(replies) < 2:
        replies += [json.loads(x) for x in (await asyncio.wait_for(ws.recv(), 5)).split("\n")]
    check(all("result" in r for r in replies), "the server accepts the PHP-made token", replies)
    step("php ClientTest.php")
    p = await asyncio.to_thread(
        subprocess.run, ["php", TEST, f"http://127.0.0.1:{server.port}", SECRET, "php-42"],
        capture_output=True, text=True, timeout=50)
    print(p.stdout, end="")
    check(p.returncode == 0, "the PHP test exits 0", p.stdout[-2000:] + p.stderr[-2000:])
    step("the user php-42 was disconnected with 4503")
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as e:
        check(e.rcvd is not None and e.rcvd.code == 4503, "closed with 4503",
              e.rcvd and e.rcvd.code)


if __name__ == "__main__":
    suite.main()
