#!/usr/bin/python3
"""The HTTP transports (/connection/sse, /connection/poll): what only they have. The protocol
itself runs over them in test_protocol.py --transport sse|poll, and a plain EventSource resumes
through Last-Event-ID in node/sse.test.mjs. Here: the stream's headers and keepalive comments;
every bad session request (unknown, malformed, of the other kind, a stream that is gone) gets
its status while the others are served; poll cursors (from the future, repeated after a lost
answer), the held poll, thousands of abandoned sessions collected with the heap back, a session
that is never polled dropped at its cap; sessions created over one keep-alive connection are
distinct clients; SIGTERM tells both; and one client that moves
WebSocket -> long-poll -> WebSocket while 1,000 messages flow receives each once, in order.

Usage: /usr/bin/python3 test_http_transports.py --herald build/<dir>/apps/herald/herald [-k S]
"""

import asyncio
import json
import os
import re
import socket
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_harness import Herald, Suite  # noqa: E402
from herald_links import http_request  # noqa: E402
from test_protocol import Client, expect_consecutive  # noqa: E402
from test_tokens import SECRET as TOKEN_SECRET, make_token  # noqa: E402

suite = Suite("SSE and long-polling")
FAST = ("--memory", "--poll-timeout", "1", "--session-timeout", "1", "--ping-interval", "1")
CONNECT = b'{"id":1,"method":"connect"}'


def metric(server, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


async def eventually(pred, what, timeout=10):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        check(loop.time() < deadline, what, "not in time")
        await asyncio.sleep(0.05)


async def open_stream(server, query=""):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=1 << 24)
    writer.write(f"GET /connection/sse{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    status, hdrs = await herald_links._read_head(reader, 5)
    return status, hdrs, reader, writer


async def new_poll_session(server):
    status, hdrs, body = await http_request(server.port, "POST", "/connection/poll", CONNECT)
    check(status == 200 and "herald-session" in hdrs, "a new session", (status, hdrs, body))
    return hdrs["herald-session"], body.decode().split("\n")


@suite.case("an SSE stream: its headers, its session, and a comment line as keepalive", args=FAST)
async def sse_stream(server):
    status, hdrs, reader, writer = await open_stream(server)
    check(status == 200, "200", status)
    check(hdrs.get("content-type", "").startswith("text/event-stream"), "text/event-stream", hdrs)
    check(hdrs.get("x-accel-buffering") == "no", "X-Accel-Buffering: no (nginx)", hdrs)
    check("no-cache" in hdrs.get("cache-control", ""), "Cache-Control: no-cache", hdrs)
    check(re.fullmatch(r"[0-9]+-[0-9a-f]{32}", hdrs.get("herald-session", "")),
          "a session id of a loop and 128 random bits", hdrs)
    first = await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)
    reply = json.loads(first.decode().removeprefix("data: ").strip())
    check(reply["result"]["session"] == hdrs["herald-session"],
          "the first event is the connect reply, with the session", reply)
    step("wait for the keepalive comment (ping interval 1 s)")
    line = await asyncio.wait_for(reader.readline(), 5)
    check(line == b":\n", "a comment line", line)
    writer.close()


@suite.case("a unidirectional stream with a refused token gets 403 (EventSource stops retrying); "
            "a good token in the query or the herald_token cookie connects as its user",
            args=("--memory", "--token-secret", TOKEN_SECRET))
async def sse_tokens(server):
    status, hdrs, body = await http_request(server.port, "GET",
                                            "/connection/sse?channel=t&token=not.a.token")
    lines = [json.loads(x) for x in body.decode().split("\n") if x]
    check(status == 403 and lines[0]["error"]["code"] == 120 and lines[1]["code"] == 4501,
          "403 with error 120 and disconnect 4501 as the body", (status, body))
    token = make_token({"sub": "u7"})
    for what, query, headers in [("query", f"&token={token}", {}),
                                 ("cookie", "", {"Cookie": f"a=1; herald_token={token}"})]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"GET /connection/sse?channel=t{query} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"
                     .encode())
        status, _ = await herald_links._read_head(reader, 5)
        check(status == 200, f"200 with the token in the {what}", status)
        await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)  # retry:
        event = (await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)).decode()
        check('"result":{"client"' in event, f"connected with the token in the {what}", event)
        await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)  # subscribed: presence is there
        api = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/presence", data=b'{"channel":"t"}'),
            timeout=10).read())
        users = [c["user"] for c in api["result"]["clients"].values()]
        check("u7" in users, "presence shows the token's user", api)
        writer.close()


@suite.case("a sub-second ping interval is announced as 1 s, not 0 (no keepalive)",
            args=("--memory", "--ping-interval", "0.5"))
async def ping_rounded_up(server):
    sid, lines = await new_poll_session(server)
    check(json.loads(lines[1])["result"]["ping"] == 1, "ping: 1", lines[1])


@suite.case("bad session requests get 400/404/410 and disturb nobody", args=FAST)
async def bad_sessions(server):
    live = await Client.open(server, "a client that keeps working")
    status, hdrs, reader, writer = await open_stream(server)
    sse_id = hdrs["herald-session"]
    poll_id, _ = await new_poll_session(server)
    fake = "0-" + "0" * 32
    cases = [
        ("POST /connection/sse without session", "POST", "/connection/sse", b"{}", 400),
        ("an unknown SSE session", "POST", f"/connection/sse?session={fake}", b"{}", 404),
        ("a malformed session id", "POST", "/connection/sse?session=abc", b"{}", 404),
        ("a session id naming no loop", "POST", "/connection/sse?session=99-" + "a" * 32, b"{}",
         404),
        ("an SSE session on the poll path", "POST", f"/connection/poll?session={sse_id}",
         b'{"id":2,"method":"ping"}', 404),
        ("a poll session on the SSE path", "POST", f"/connection/sse?session={poll_id}",
         b'{"id":2,"method":"ping"}', 404),
        ("a poll of an unknown session", "GET", f"/connection/poll?session={fake}&cursor=0", b"",
         404),
        ("a poll without cursor", "GET", f"/connection/poll?session={poll_id}", b"", 400),
        ("a non-numeric cursor", "GET", f"/connection/poll?session={poll_id}&cursor=x1", b"", 400),
        ("a cursor from the future", "GET", f"/connection/poll?session={poll_id}&cursor=99", b"",
         400),
        ("a new poll session without a body", "POST", "/connection/poll", b"", 400),
        ("PUT on the SSE path", "PUT", "/connection/sse", b"", 405),
    ]
    for what, method, target, body, want in cases:
        step(what)
        got, _, text = await http_request(server.port, method, target, body)
        check(got == want, f"{want} for {what}", (got, text))
        check(json.loads(text)["status"] == want, "a JSON error body", text)
        r = await live.call("ping")
        check(r.get("result") == {}, f"the other client still answers after {what}", r)
    step("the stream goes away; a POST to its session then gets 404")
    writer.close()
    await eventually(lambda: metric(server, "herald_sse_open") == 0, "the stream is gone")
    got, _, text = await http_request(server.port, "POST", f"/connection/sse?session={sse_id}",
                                      b'{"id":2,"method":"ping"}')
    check(got == 404, "404 for a stream that is gone", (got, text))
    await live.close()


@suite.case("polls: a lost answer is asked again with the same cursor; a held poll ends empty",
            args=FAST)
async def poll_cursor(server):
    sid, lines = await new_poll_session(server)
    cursor = json.loads(lines[0])["cursor"]
    check(cursor == 1 and json.loads(lines[1])["id"] == 1, "cursor 1: the connect reply", lines)
    got, _, _ = await http_request(server.port, "POST", f"/connection/poll?session={sid}",
                                   b'{"id":2,"method":"ping"}\n{"id":3,"method":"ping"}')
    check(got == 204, "204 for the commands", got)
    step("poll twice with the same cursor: the second answer repeats the first")
    answers = []
    for _ in range(2):
        status, _, body = await http_request(
            server.port, "GET", f"/connection/poll?session={sid}&cursor={cursor}")
        check(status == 200, "200", (status, body))
        answers.append(body)
    check(answers[0] == answers[1], "the same entries again (nothing acknowledged)", answers)
    ids = [json.loads(x).get("id") for x in answers[0].decode().split("\n")[1:]]
    check(ids == [2, 3], "the two replies", answers[0])
    cursor = json.loads(answers[0].decode().split("\n")[0])["cursor"]
    step("a poll with nothing to take is held for the poll timeout (1 s), then answered empty")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    status, _, body = await http_request(
        server.port, "GET", f"/connection/poll?session={sid}&cursor={cursor}")
    waited = loop.time() - t0
    check(status == 200 and body == f'{{"cursor":{cursor}}}'.encode(), "an empty answer", body)
    check(0.8 <= waited <= 10, "held for the poll timeout (not answered at once)", waited)
    step("an acknowledged cursor is refused")
    status, _, _ = await http_request(server.port, "GET",
                                      f"/connection/poll?session={sid}&cursor={cursor - 1}")
    check(status == 400, "400 for a cursor below the acknowledged one", status)
    got, _, _ = await http_request(server.port, "DELETE", f"/connection/poll?session={sid}")
    check(got == 204, "DELETE leaves", got)
    status, _, _ = await http_request(server.port, "GET",
                                      f"/connection/poll?session={sid}&cursor={cursor}")
    check(status in (404, 410), "the session is gone after DELETE", status)


@suite.case("two long-poll sessions created over one keep-alive connection are two clients",
            args=("--memory",))
async def polls_on_one_connection(server):
    # Found by the dashboard's browser test: both sessions took the connection's id as their
    # client id, so the second replaced the first in the protocol handler, which freed it while
    # it was still subscribed, and the next publication to its channel crashed the server.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    sessions = []
    try:
        for i in range(2):
            body = (b'{"id":1,"method":"connect"}\n'
                    b'{"id":2,"method":"subscribe","params":{"channel":"ka:room"}}')
            writer.write(b"POST /connection/poll HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                         str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
            status, hdrs = await herald_links._read_head(reader, 5)
            text = (await reader.readexactly(int(hdrs["content-length"]))).decode()
            check(status == 200, f"session {i} created on the same connection", (status, text))
            client = json.loads(text.split("\n")[1])["result"]["client"]
            sessions.append((hdrs["herald-session"], client))
    finally:
        writer.close()
    check(sessions[0][1] != sessions[1][1], "two client ids", sessions)
    status, _, body = await http_request(server.port, "POST", "/api/presence_stats",
                                         b'{"channel":"ka:room"}')
    check(status == 200 and json.loads(body)["result"]["num_clients"] == 2,
          "both in the channel's presence", body)
    # Subscribed once the subscribe reply is there (presence is added a step before the join):
    # poll for it first, then publish, then poll from after it.
    cursors = []
    for sid, _ in sessions:
        status, _, body = await http_request(server.port, "GET",
                                             f"/connection/poll?session={sid}&cursor=1")
        lines = body.decode().split("\n")
        check(status == 200 and any('"id":2,"result"' in x for x in lines[1:]),
              f"{sid}: the subscribe reply", (status, body))
        cursors.append(json.loads(lines[0])["cursor"])
    status, _, body = await http_request(server.port, "POST", "/api/publish",
                                         b'{"channel":"ka:room","data":"both get this"}')
    check(status == 200, "publish to their channel", (status, body))
    for (sid, _), cursor in zip(sessions, cursors):
        status, _, body = await http_request(server.port, "GET",
                                             f"/connection/poll?session={sid}&cursor={cursor}")
        check(status == 200 and b"both get this" in body, f"{sid} polls the publication",
              (status, body))
    check(server.alive(), "the server is still running", "it exited")


@suite.case("2,000 abandoned poll sessions are collected and the heap comes back", args=FAST,
            timeout=60)
async def abandoned(server):
    base_heap = metric(server, "herald_heap_bytes")
    step("create 2,000 sessions, each subscribed to a channel, and never poll them")
    for i in range(0, 2000, 50):
        await asyncio.gather(*[
            http_request(server.port, "POST", "/connection/poll",
                         CONNECT + b'\n{"id":2,"method":"subscribe","params":{"channel":"ab:'
                         + str(i + k).encode() + b'"}}')
            for k in range(50)])
    check(metric(server, "herald_poll_sessions") > 0, "sessions kept", 0)
    await eventually(lambda: metric(server, "herald_poll_sessions") == 0,
                     "every session collected after the session timeout", timeout=20)
    check(metric(server, "herald_poll_expired_total") >= 2000, "2,000 expiries counted",
          metric(server, "herald_poll_expired_total"))
    with urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/channels", data=b"{}"), timeout=10) as r:
        channels = json.loads(r.read())["result"]["channels"]
    check(not [c for c in channels if c.startswith("ab:")], "their subscriptions are gone",
          list(channels)[:5])
    heap = metric(server, "herald_heap_bytes")
    check(heap < base_heap + 2 * 1024 * 1024, "heap back within 2 MiB of its level",
          (base_heap, heap))


@suite.case("a session that is never polled is dropped when its buffer passes the cap",
            own_server=True, timeout=60)
async def poll_cap(server):
    server.stop()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("max_output_bytes: 262144\nmax_message_size: 65536\n"
              "default_namespace:\n  history_size: 0\n")
    cfg.close()
    srv = Herald(server.argv[0], ["--config", cfg.name, "--memory"]).start()
    try:
        sid, _ = await new_poll_session(srv)
        await http_request(srv.port, "POST", f"/connection/poll?session={sid}",
                           b'{"id":2,"method":"subscribe","params":{"channel":"big"}}')
        blob = "b" * 16384
        for i in range(40):  # 640 KiB, over the 256 KiB cap
            await http_request(srv.port, "POST", "/api/publish",
                               json.dumps({"channel": "big", "data": {"i": i, "b": blob}}).encode())
        status, _, body = await http_request(srv.port, "GET",
                                             f"/connection/poll?session={sid}&cursor=0")
        check(status == 410, "410: the session was dropped", (status, body[:200]))
        check(metric(srv, "herald_ws_slow_disconnects_total") == 1, "counted as a slow client",
              metric(srv, "herald_ws_slow_disconnects_total"))
    finally:
        srv.stop()
        os.unlink(cfg.name)


@suite.case("an SSE client that stops reading is dropped at the output cap; the heap comes back",
            own_server=True, timeout=60)
async def sse_slow_reader(server):
    server.stop()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("max_output_bytes: 1048576\nmax_message_size: 65536\n"
              "default_namespace:\n  history_size: 0\n")
    cfg.close()
    srv = Herald(server.argv[0], ["--config", cfg.name, "--memory"]).start()
    try:
        base_heap = metric(srv, "herald_heap_bytes")
        step("a unidirectional stream whose reader never reads (small receive buffer)")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.port))
        sock.sendall(b"GET /connection/sse?channel=flood HTTP/1.1\r\nHost: x\r\n\r\n")
        status, hdrs, reader, writer = await open_stream(srv, "?channel=flood")
        check(status == 200, "a reading stream too", status)
        await eventually(lambda: metric(srv, "herald_sse_open") == 2, "both streams open")
        step("publish 400 x 16 KiB (6.4 MiB, over the 1 MiB cap)")
        blob = "z" * 16384
        for i in range(400):
            await http_request(srv.port, "POST", "/api/publish",
                               json.dumps({"channel": "flood", "data": {"i": i, "b": blob}})
                               .encode())
            if i % 20 == 0:
                await asyncio.wait_for(reader.read(1 << 22), 5)  # the reading stream reads
            if metric(srv, "herald_ws_slow_disconnects_total") == 1:
                break
        await eventually(lambda: metric(srv, "herald_ws_slow_disconnects_total") == 1,
                         "the non-reading stream dropped for its output")
        await eventually(lambda: metric(srv, "herald_sse_open") == 1,
                         "the reading stream still open")
        heap = metric(srv, "herald_heap_bytes")
        check(heap < base_heap + 4 * 1048576, "heap back near its level (within 4 MiB)",
              (base_heap, heap))
        sock.close()
        writer.close()
    finally:
        srv.stop()
        os.unlink(cfg.name)


@suite.case("SIGTERM: a stream and a held poll get disconnect 1001; exit 0", own_server=True,
            args=("--memory",), timeout=30)
async def drain(server):
    status, hdrs, reader, writer = await open_stream(server)
    await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)  # the connect reply
    sid, lines = await new_poll_session(server)
    cursor = json.loads(lines[0])["cursor"]
    held = asyncio.create_task(http_request(
        server.port, "GET", f"/connection/poll?session={sid}&cursor={cursor}", timeout=20))
    await asyncio.sleep(0.2)
    step("SIGTERM")
    server.send_signal(15)
    event = (await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)).decode()
    check('"push":"disconnect","code":1001' in event, "the stream's last event: 1001", event)
    status, _, body = await asyncio.wait_for(held, 10)
    check(status == 200 and b'"code":1001' in body, "the held poll gets the 1001 push",
          (status, body))
    check(server.wait_exit(10) == 0, "exit 0", server.proc.returncode)


@suite.case("one client moves WebSocket -> long-poll -> WebSocket while 1,000 messages flow: "
            "each arrives once, in order", args=("--memory", "--poll-timeout", "2"), timeout=90)
async def move_transports(server):
    channel = "move:1"
    pub = await Client.open(server, "publisher")
    total = 1000

    async def publish_all():
        for i in range(0, total, 10):
            ids = await pub.send_many([("publish", {"channel": channel, "data": {"i": i + k}})
                                       for k in range(10)])
            for x in ids:
                await pub.reply(x)
            await asyncio.sleep(0.02)  # ~2 s of flow: the moves happen while it runs

    received = []
    position = None
    flow = None
    for stage, (transport, until) in enumerate([("websocket", 300), ("poll", 650),
                                                ("websocket", total)]):
        c = Client(await herald_links.connect(server, f"stage {stage}: {transport}",
                                              transport=transport))
        r = await c.call("connect")
        check("result" in r, "connected", r)
        res = await c.subscribe(channel, since=position)
        if position is not None:
            check(res["recovered"] is True, f"stage {stage}: recovered", res)
        if flow is None:
            flow = asyncio.create_task(publish_all())
        await c.wait_offsets(channel, until - len(received), timeout=60)
        received += c.offsets[channel]
        position = c.positions[channel]
        step(f"stage {stage}: leave {transport} at offset {position[0]}")
        c.link.abort()
    await flow
    expect_consecutive(received, 1, total, "across three transports")
    await pub.close()


if __name__ == "__main__":
    suite.main()
