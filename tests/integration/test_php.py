#!/usr/bin/python3
"""The PHP client (clients/php) against the real server, run by Debian's php-cli: what the
people coming from the Ratchet tutorials will use.

Usage: /usr/bin/python3 test_php.py --herald build/<dir>/apps/herald/herald
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402

suite = Suite("PHP client (php-cli)")
TEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "php",
                    "tests", "ClientTest.php")


SECRET = "php-test-secret-0123456789abcdef0123"
CLIENT_PHP = os.path.join(os.path.dirname(TEST), "..", "src", "Client.php")
PACKAGE = os.path.abspath(os.path.join(os.path.dirname(TEST), ".."))


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


def composer(args, cwd, home):
    """Debian's composer, kept off the network: a path repository needs none."""
    env = dict(os.environ, COMPOSER_HOME=home, COMPOSER_DISABLE_NETWORK="1",
               COMPOSER_NO_INTERACTION="1", COMPOSER_ALLOW_SUPERUSER="1")
    return subprocess.run(["composer", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@suite.case("clients/php/composer.json validates; an application installs the package through a "
            "path repository and publishes through vendor/autoload.php", timeout=150)
async def php_composer(server):
    check(shutil.which("composer") is not None, "Debian's composer is installed (scripts/deps "
          "--test)", shutil.which("composer"))
    with tempfile.TemporaryDirectory(prefix="herald-composer-") as tmp:
        home = os.path.join(tmp, "home")
        step("composer validate --strict")
        v = await asyncio.to_thread(composer, ["validate", "--strict", "--no-check-publish",
                                               "--no-check-lock"], PACKAGE, home)
        check(v.returncode == 0, "composer.json is valid", v.stdout + v.stderr)
        step("an application requires herald/client from a path repository")
        app = os.path.join(tmp, "app")
        os.mkdir(app)
        with open(os.path.join(app, "composer.json"), "w") as f:
            json.dump({"require": {"herald/client": "*"}, "minimum-stability": "dev",
                       "repositories": [{"type": "path", "url": PACKAGE,
                                         "options": {"symlink": False}},
                                        {"packagist.org": False}]}, f)
        i = await asyncio.to_thread(composer, ["install", "--no-progress"], app, home)
        check(i.returncode == 0 and os.path.exists(os.path.join(app, "vendor", "autoload.php")),
              "composer install writes vendor/autoload.php", i.stdout + i.stderr)
        step("a script with only require 'vendor/autoload.php' publishes, and its errors are "
             "Herald\\Error")
        script = os.path.join(app, "publish.php")
        with open(script, "w") as f:
            f.write("""<?php
require __DIR__ . '/vendor/autoload.php';
$error = class_exists(Herald\\Error::class);  // autoloaded on its own (PSR-4)
$herald = new Herald\\Client($argv[1]);
$r = $herald->publish('php:composer', ['via' => 'composer']);
try {
    $herald->publish('', 1);
} catch (Herald\\Error $e) {
    echo json_encode(['error_class' => $error, 'offset' => $r['offset'] ?? null,
                      'refused' => $e->getCode()]);
}
""")
        p = await asyncio.to_thread(subprocess.run, ["php", script,
                                                     f"http://127.0.0.1:{server.port}"],
                                    capture_output=True, text=True, timeout=30)
        out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.startswith("{") else None
        check(out is not None and out["error_class"] is True and out["offset"] == 1 and
              out["refused"] > 0, "published at offset 1; a refused publish throws Herald\\Error",
              p.stdout + p.stderr)
        step("the publication is in the channel's history")
        h = await asyncio.to_thread(subprocess.run, ["php", "-r",
            "require $argv[1]; echo json_encode((new Herald\\Client($argv[2]))"
            "->history('php:composer'));", os.path.join(app, "vendor", "autoload.php"),
            f"http://127.0.0.1:{server.port}"], capture_output=True, text=True, timeout=30)
        hist = json.loads(h.stdout) if h.returncode == 0 else {}
        check([x.get("data") for x in hist.get("publications", [])] == [{"via": "composer"}],
              "history holds it", h.stdout + h.stderr)


if __name__ == "__main__":
    suite.main()
