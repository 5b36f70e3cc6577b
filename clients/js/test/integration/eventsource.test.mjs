// The SSE transport over the real npm `eventsource` (not a fake), against a stub HTTP server that
// asks for a reconnect after 20 ms (`retry: 20`) and then ends the stream: the library would
// reconnect by itself, opening a second stream behind the SDK's back; the transport must have
// closed it first, so the stub sees exactly one request. Needs no herald binary.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSource } from 'eventsource';

import { sseTransport } from '../../src/index.js';
import { within } from '../helpers/server.mjs';

test("npm eventsource under the SSE transport: the stream ends, the library's reconnect never " +
  'runs', async (t) => {
  const requests = [];
  const stub = createServer((req, res) => {
    requests.push(req.url);
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.end('retry: 20\n\ndata: {"id":1,"result":{"client":"c","session":"0-ab"}}\n\n');
  });
  await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    stub.closeAllConnections();
    stub.close();
  });
  const url = `http://127.0.0.1:${stub.address().port}/connection/sse`;
  const tr = sseTransport(url, { EventSource }).create({});
  t.after(() => tr._es?.close()); // should the transport not have: the test must end
  const events = [];
  const closed = new Promise((resolve) => {
    tr.onopen = () => events.push('open');
    tr.onmessage = (text) => events.push(JSON.parse(text).result.session);
    tr.onclose = (e) => {
      events.push(`close ${e.code}`);
      resolve();
    };
  });
  tr.open('{"id":1,"method":"connect"}');
  await within(closed, 3000, 'the end of the stream is reported');
  assert.deepEqual(events, ['open', '0-ab', 'close 1006']);
  assert.equal(tr.session, '0-ab');
  await sleep(200); // ten times the retry the stream asked for
  assert.equal(requests.length, 1, `one stream, no reconnect by the library: ${requests}`);
  assert.match(requests[0], /^\/connection\/sse\?connect=%7B%22id%22%3A1/);
});
