#!/usr/bin/python3
"""`herald sub CHANNEL` against a real server: one JSON line per publication on stdout, in offset
order, recovered publications first; --count ends it with exit 0, SIGINT/SIGTERM too; a server
restart (same port, same durable data directory) is bridged by reconnecting and recovering from
the last printed offset, with nothing missed or printed twice; an unreachable or malformed
server URL exits 1 at once with a message on stderr. tcp://, tls:// and wss://:
test_cli_sub_transports.py.

Publishing goes through the server API (POST /api/publish with urllib) or a python-websockets
client; "subscribed" is observed through POST /api/channels, never assumed after a sleep.

Usage: /usr/bin/python3 test_cli_sub.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

from herald_checks import Failure, check, current_step, step  # noqa: E402
from herald_harness import Herald, Suite  # noqa: E402

suite = Suite("CLI (herald sub)")


# ---------------------------------------------------------------------------------------------
# Helpers


def api(port, method, body):
    """POST /api/<method>; returns the parsed "result" (fails the step on anything else)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/{method}",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            reply = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise Failure(current_step(), f"200 from /api/{method}",
                      f"HTTP {e.code} {e.read()[:200]!r}") from None
    check("result" in reply, f"a result from /api/{method}", reply)
    return reply["result"]


def publish(port, channel, data):
    step(f"publish {json.dumps(data)} to {channel} via /api/publish")
    return api(port, "publish", {"channel": channel, "data": data})


def publish_raw(port, channel, data_text):
    """Publishes data written exactly as data_text (the API body is built by hand)."""
    step(f"publish raw {data_text} to {channel}")
    body = b'{"channel":' + json.dumps(channel).encode() + b',"data":' + data_text.encode() + b"}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/publish", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["result"]


def wait_subscribers(port, channel, n, timeout=10):
    """Waits until /api/channels says `channel` has n subscribers."""
    step(f"wait until {channel} has {n} subscriber(s)")
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = api(port, "channels", {"pattern": channel})["channels"].get(channel, {})
        if got.get("num_clients", 0) == n:
            return
        time.sleep(0.02)
    raise Failure(current_step(), f"{n} subscriber(s) within {timeout}s", got)


def free_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sub:
    """One `herald sub` child. Its stdout lines are collected by a thread as they come, so the
    test sees them live (the CLI flushes after each line). Stopped by its pid only."""

    def __init__(self, binary, port, *args, server_url=None):
        self.argv = [binary, "sub", *args,
                     f"--server={server_url or f'http://127.0.0.1:{port}'}"]
        step(" ".join(["herald", *self.argv[1:]]))
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.raw_lines = []
        self._lines = queue.Queue()
        self._stderr = []
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self._lines),
                                          daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream, q):
        for line in stream:
            q.put(line)

    def _read_err(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    def stderr(self):
        return "".join(self._stderr)

    def lines(self, n, timeout=10):
        """Waits until n lines in total were printed; returns them parsed."""
        step(f"herald sub prints {n} line(s)")
        deadline = time.monotonic() + timeout
        while len(self.raw_lines) < n:
            left = deadline - time.monotonic()
            try:
                self.raw_lines.append(self._lines.get(timeout=max(left, 0.001)))
            except queue.Empty:
                raise Failure(current_step(), f"{n} lines within {timeout}s",
                              f"{self.raw_lines!r}; exit {self.proc.poll()}; stderr: "
                              f"{self.stderr()!r}") from None
        out = []
        for line in self.raw_lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                raise Failure(current_step(), "one JSON object per line", repr(line)) from None
        return out

    def wait_exit(self, timeout=10):
        step(f"herald sub exits within {timeout}s")
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(current_step(), f"exit within {timeout}s",
                          f"still running; printed {self.raw_lines!r}; stderr: "
                          f"{self.stderr()!r}") from None
        for t in self._readers:  # the pipes reach EOF once the process is gone
            t.join(timeout=5)
        while not self._lines.empty():  # lines printed after the ones waited for
            self.raw_lines.append(self._lines.get())
        check("Sanitizer" not in self.stderr() and "runtime error:" not in self.stderr(),
              "no sanitizer report from herald sub", self.stderr()[-3000:])
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class ScriptedServer:
    """A python-websockets server on 127.0.0.1:0 that plays one script per accepted connection,
    for what the real server cannot be made to do on demand (a 4503 push, an unsubscribe 2000, a
    push before the subscribe reply). Runs its own event loop on a thread; stop() ends it."""

    def __init__(self, *scripts):
        self.scripts = list(scripts)
        self.commands = []  # per connection: the commands received, parsed
        self.errors = []  # what a script found wrong (checked by the case, on its own thread)
        self.close_codes = []  # as scripts record them
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                websockets.serve(self._handler, "127.0.0.1", 0))
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        check(started.wait(5), "the scripted server started", "not within 5 s")

    async def _handler(self, ws, path=None):
        index = len(self.commands)
        self.commands.append([])
        if index < len(self.scripts):
            try:
                await self.scripts[index](ScriptedConnection(ws, self.commands[index]))
            except Exception as e:  # noqa: BLE001 - reported by the case through self.errors
                self.errors.append(f"connection {index + 1}: {e}")
        else:
            await ws.close(1013, "no script for this connection")

    def stop(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class ScriptedConnection:
    """One connection of a ScriptedServer: wait for a command, send lines in one frame."""

    def __init__(self, ws, commands):
        self.ws, self.commands = ws, commands

    async def command(self, method):
        """The next received command with this method (earlier ones of other methods are kept)."""
        while True:
            for cmd in self.commands:
                if cmd.get("method") == method and not cmd.get("_taken"):
                    cmd["_taken"] = True
                    return cmd
            frame = await asyncio.wait_for(self.ws.recv(), 10)
            self.commands += [json.loads(line) for line in frame.split("\n") if line]

    async def send(self, *messages):
        await self.ws.send("\n".join(json.dumps(m, separators=(",", ":")) for m in messages))

    async def greet(self):
        """Answers connect, and returns the subscribe command (its reply is the script's)."""
        connect = await self.command("connect")
        await self.send({"id": connect["id"], "result": {"client": "c1", "version": "0",
                                                         "protocol": 1, "ping": 25,
                                                         "pong": False}})
        return await self.command("subscribe")


def message(offset, data, epoch="e1", channel="sub:s"):
    return {"push": "message", "channel": channel, "offset": offset, "epoch": epoch, "data": data}


def subscribed(cmd, offset, recovered=False, pubs=()):
    return {"id": cmd["id"], "result": {"epoch": "e1", "offset": offset, "recoverable": True,
                                        "recovered": recovered, "publications": list(pubs)}}


def restart_same_port(old):
    """Stops `old` with SIGTERM and starts a new server on the same port and data directory, so
    durable history (offsets and epoch) survives. The new Herald is returned; the runner kills
    only `old`, so the case must stop the new one itself."""
    step(f"SIGTERM the server on port {old.port}")
    rc = old.stop()
    check(rc == 0, "exit 0 after SIGTERM", rc)
    new = Herald(old.argv[0], ["--data-dir", old.data_dir], echo=False)
    new.argv[new.argv.index("127.0.0.1:0")] = f"127.0.0.1:{old.port}"
    return new.start()


def offsets_of(lines):
    return [x["offset"] for x in lines]


async def client_publish(port, channel, data):
    """Publishes as a WebSocket client, so the publication carries an info."""
    step(f"a websockets client publishes to {channel}")
    async with websockets.connect(f"ws://127.0.0.1:{port}/connection/websocket") as ws:
        await ws.send('{"id":1,"method":"connect"}\n' + json.dumps(
            {"id": 2, "method": "publish", "params": {"channel": channel, "data": data}}))
        replies = {}
        while 2 not in replies:
            for line in (await asyncio.wait_for(ws.recv(), 5)).split("\n"):
                if line:
                    msg = json.loads(line)
                    replies[msg.get("id")] = msg
        check("result" in replies[1] and "result" in replies[2], "connect and publish results",
              replies)
        return replies[1]["result"]["client"]


# ---------------------------------------------------------------------------------------------
# Cases


@suite.case("--since 2 --count 5: recovered offsets 3,4,5 then live 6,7, then exit 0")
def since_and_count(server):
    pubs = [publish(server.port, "sub:a", {"n": i}) for i in range(1, 6)]
    epoch = pubs[0]["epoch"]
    sub = Sub(server.argv[0], server.port, "sub:a", "--since", "2", "--count", "5")
    try:
        first = sub.lines(3)
        check(offsets_of(first) == [3, 4, 5], "the recovered offsets 3,4,5 first", first)
        publish(server.port, "sub:a", {"n": 6})
        publish(server.port, "sub:a", {"n": 7})
        lines = sub.lines(5)
        check(sub.wait_exit() == 0, "exit 0 after --count 5", sub.stderr())
        check(len(sub.raw_lines) == 5, "exactly 5 lines", sub.raw_lines)
        check(lines == [{"channel": "sub:a", "offset": i, "epoch": epoch, "data": {"n": i}}
                        for i in range(3, 8)],
              "offsets 3..7 with their data, fields channel/offset/epoch/data", lines)
        check(all(raw.startswith('{"channel":"sub:a","offset":') for raw in sub.raw_lines),
              "channel, offset, epoch, data in that order", sub.raw_lines)
    finally:
        sub.kill()


@suite.case("no --since, --count 3: exactly the next 3 publications")
def live_only(server):
    publish(server.port, "sub:b", "before")
    sub = Sub(server.argv[0], server.port, "sub:b", "--count", "3")
    try:
        wait_subscribers(server.port, "sub:b", 1)
        for i in range(3):
            publish(server.port, "sub:b", f"live {i}")
        lines = sub.lines(3)
        check(sub.wait_exit() == 0, "exit 0 after --count 3", sub.stderr())
        check([(x["offset"], x["data"]) for x in lines] ==
              [(2, "live 0"), (3, "live 1"), (4, "live 2")], "offsets 2,3,4, not the earlier 1",
              lines)
        check(len(sub.raw_lines) == 3, "nothing more", sub.raw_lines)
    finally:
        sub.kill()


@suite.case("data is printed exactly as published; info appears when a client published")
def data_verbatim_and_info(server):
    sub = Sub(server.argv[0], server.port, "sub:c", "--count", "2")
    try:
        wait_subscribers(server.port, "sub:c", 1)
        text = '{"b":1.0,"a":[1e2,"x\\u00e9\\n",-0.50],"z":null}'
        publish_raw(server.port, "sub:c", text)
        client_id = asyncio.run(client_publish(server.port, "sub:c", [1, 2]))
        lines = sub.lines(2)
        check(sub.wait_exit() == 0, "exit 0 after --count 2", sub.stderr())
        check(f',"data":{text}}}' in sub.raw_lines[0], "data not re-serialized, no info",
              sub.raw_lines[0])
        check(lines[1]["data"] == [1, 2] and lines[1]["info"]["client"] == client_id,
              "a client's publication carries its info", lines[1])
        check(sub.raw_lines[1].index('"data"') < sub.raw_lines[1].index('"info"'),
              "info after data", sub.raw_lines[1])
    finally:
        sub.kill()


@suite.case("a stale --epoch: warning on stderr, then live from the channel's top")
def position_lost(server):
    publish(server.port, "sub:d", 1)
    publish(server.port, "sub:d", 2)
    sub = Sub(server.argv[0], server.port, "sub:d", "--since", "1", "--epoch", "gone42",
              "--count", "1")
    try:
        wait_subscribers(server.port, "sub:d", 1)
        publish(server.port, "sub:d", 3)
        lines = sub.lines(1)
        check(sub.wait_exit() == 0, "exit 0", sub.stderr())
        check(offsets_of(lines) == [3], "only the live offset 3", lines)
        check("position lost, continuing from offset 2 of epoch" in sub.stderr(),
              "the position-lost warning", sub.stderr())
    finally:
        sub.kill()


@suite.case("SIGINT and SIGTERM exit 0 and leave the channel", own_server=True)
def signals(server):
    for sig in (signal.SIGINT, signal.SIGTERM):
        sub = Sub(server.argv[0], server.port, "sub:e")
        try:
            wait_subscribers(server.port, "sub:e", 1)
            step(f"send {sig.name} to herald sub")
            sub.proc.send_signal(sig)  # by pid
            check(sub.wait_exit(5) == 0, f"exit 0 after {sig.name}", sub.stderr())
            wait_subscribers(server.port, "sub:e", 0)
        finally:
            sub.kill()


@suite.case("server restart: reconnect, recover, 20 lines 1..20 with no duplicates",
            own_server=True, timeout=60)
def reconnect(server):
    sub = Sub(server.argv[0], server.port, "sub:r", "--count", "20")
    new = None
    try:
        wait_subscribers(server.port, "sub:r", 1)
        epoch = publish(server.port, "sub:r", 1)["epoch"]
        for i in range(2, 11):
            publish(server.port, "sub:r", i)
        check(offsets_of(sub.lines(10)) == list(range(1, 11)), "1..10 live", sub.raw_lines)
        new = restart_same_port(server)
        # Published right away, most likely before the subscriber is back: recovery brings them.
        for i in range(11, 16):
            check(publish(new.port, "sub:r", i) == {"offset": i, "epoch": epoch},
                  "durable history keeps the offsets and the epoch", i)
        wait_subscribers(new.port, "sub:r", 1, timeout=30)
        for i in range(16, 21):
            publish(new.port, "sub:r", i)  # live on the new connection
        lines = sub.lines(20, timeout=30)
        check(sub.wait_exit() == 0, "exit 0 after --count 20", sub.stderr())
        check(len(sub.raw_lines) == 20, "exactly 20 lines", sub.raw_lines)
        check([(x["offset"], x["epoch"], x["data"]) for x in lines] ==
              [(i, epoch, i) for i in range(1, 21)], "offsets 1..20 once each, in order", lines)
        check(re.search(r"reconnecting to \S+ in ", sub.stderr()), "the reconnect said on stderr",
              sub.stderr())
    finally:
        sub.kill()
        if new is not None:
            new.stop()


@suite.case("a server that refuses, a bad URL, TLS to a plain port: exit 1 with a message "
            "(no retry loop)")
def unreachable(server):
    port = free_port()
    cases = [(f"http://127.0.0.1:{port}", "Connection refused"),
             ("http://127.0.0.1:notaport", "port"),
             (f"https://127.0.0.1:{server.port}", "TLS failed"),
             ("ftp://127.0.0.1:21", "expected http[s]://")]
    for url, says in cases:
        sub = Sub(server.argv[0], server.port, "sub:f", server_url=url)
        try:
            rc = sub.wait_exit(15)
            err = sub.stderr()
            check(rc == 1 and says in err and err.startswith("herald sub: "),
                  f"exit 1 with '{says}' on stderr for {url}", (rc, err))
            check(sub.raw_lines == [], "nothing on stdout", sub.raw_lines)
        finally:
            sub.kill()


@suite.case("an error reply (invalid channel) exits 1 with the server's message")
def error_reply(server):
    sub = Sub(server.argv[0], server.port, "bad channel")
    try:
        rc = sub.wait_exit(5)
        check(rc == 1 and "subscribe failed: error 104" in sub.stderr(), "exit 1, error 104",
              (rc, sub.stderr()))
    finally:
        sub.kill()


@suite.case("scripted server: disconnect 4503 exits 1 without reconnecting")
def no_reconnect_code(server):
    async def script(conn):
        sub = await conn.greet()
        await conn.send(subscribed(sub, 0), message(1, "one"))
        await conn.send({"push": "disconnect", "code": 4503, "reason": "force disconnect",
                         "reconnect": False})
        await conn.ws.close(4503, "force disconnect")

    fake = ScriptedServer(script)
    sub = Sub(server.argv[0], fake.port, "sub:s", server_url=f"ws://127.0.0.1:{fake.port}")
    try:
        check(offsets_of(sub.lines(1)) == [1], "the publication before the disconnect",
              sub.raw_lines)
        rc = sub.wait_exit(5)
        check(rc == 1 and "disconnected by the server: 4503" in sub.stderr(),
              "exit 1 with the code on stderr", (rc, sub.stderr()))
        check(not fake.errors and len(fake.commands) == 1, "no second connection",
              (fake.errors, len(fake.commands)))
    finally:
        sub.kill()
        fake.stop()


@suite.case("scripted server: early push, duplicate, unsubscribe 2000, reconnect code 4005")
def resubscribe_and_reconnect(server):
    async def first(conn):
        sub = await conn.greet()
        check("since" not in sub["params"], "no since on the first subscribe", sub)
        # A push before the subscribe reply, then a duplicate and the next one in one frame.
        await conn.send(message(1, "one"))
        await conn.send(subscribed(sub, 0), message(1, "one"), message(2, "two"))
        await conn.send({"push": "unsubscribe", "channel": "sub:s", "code": 2000,
                         "reason": "resubscribe"})
        again = await conn.command("subscribe")
        check(again["params"].get("since") == {"offset": 2, "epoch": "e1"},
              "resubscribe with since = the last printed position", again)
        await conn.send(subscribed(again, 3, True, [message(3, "three")]))
        await conn.send({"push": "disconnect", "code": 4005, "reason": "force reconnect",
                         "reconnect": True})
        await conn.ws.close(4005, "force reconnect")

    async def second(conn):
        sub = await conn.greet()
        check(sub["params"].get("since") == {"offset": 3, "epoch": "e1"},
              "reconnect subscribes with since = the last printed position", sub)
        await conn.send(subscribed(sub, 4, True, [message(4, "four")]), message(5, "five"))
        await asyncio.wait_for(conn.ws.wait_closed(), 10)  # it leaves after --count 5
        fake.close_codes.append(conn.ws.close_code)

    fake = ScriptedServer(first, second)
    sub = Sub(server.argv[0], fake.port, "sub:s", "--count", "5",
              server_url=f"http://127.0.0.1:{fake.port}")
    try:
        lines = sub.lines(5, timeout=15)
        check(not fake.errors, "the subscriber did what the script expected", fake.errors)
        check(sub.wait_exit(5) == 0, "exit 0 after --count 5", sub.stderr())
        check([(x["offset"], x["data"]) for x in lines] ==
              [(1, "one"), (2, "two"), (3, "three"), (4, "four"), (5, "five")],
              "1..5 once each", sub.raw_lines)
        check(len(fake.commands) == 2, "exactly one reconnect", len(fake.commands))
        step("the scripted server sees the close")
        deadline = time.monotonic() + 5
        while not fake.close_codes and time.monotonic() < deadline:
            time.sleep(0.01)
        check(fake.close_codes == [1000], "the subscriber closed with 1000", fake.close_codes)
        check("subscribing again" in sub.stderr() and
              re.search(r"reconnecting to \S+ in ", sub.stderr()),
              "both said on stderr", sub.stderr())
    finally:
        sub.kill()
        fake.stop()


if __name__ == "__main__":
    suite.main()
