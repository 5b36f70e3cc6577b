// Against the real server: a client that moves from one transport to another keeps recovering by
// position (docs/PROTOCOL.md, "Moving between transports"). Positions belong to channels, not to
// connections, so while a backend publishes 900 publications the client's connection is dropped
// six times, and each time it comes back over another transport (every ordered pair of websocket,
// sse and poll once) and resubscribes with `since`: every publication arrives once, in order.
//
// The SDK itself never switches once a transport has opened (the fallback rule); here a test
// factory picks the transport of each attempt, and "drops" the connection the way a network
// would: the transport is closed under the client, which is told it was lost (1006).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';

import { Herald, pollTransport, sseTransport, webSocketTransport } from '../../src/index.js';
import {
  Inbox, api, integrationOptions, nextEvent, startHerald, within,
} from '../helpers/server.mjs';

const opts = integrationOptions({ timeout: 30000 });

// A factory whose attempts use factories[name] for the name the test set last (`use`).
function switchable(factories, first) {
  const sw = {
    use: first,
    live: null, // the transport of the latest attempt
    get name() {
      return sw.use;
    },
    create(ctx) {
      sw.live = factories[sw.use].create(ctx);
      return sw.live;
    },
    // The network drops the connection: the client hears 1006, the server sees it close.
    drop() {
      const t = sw.live;
      const lost = t.onclose;
      t.close();
      lost({ code: 1006, reason: 'dropped by the test' });
    },
  };
  return sw;
}

test('moving between transports while publications flow: none lost, none repeated', opts,
  async (t) => {
    const TOTAL = 900;
    const ORDER = ['websocket', 'sse', 'poll', 'websocket', 'poll', 'sse', 'websocket'];
    const server = await startHerald();
    const http = server.url;
    const sw = switchable({
      websocket: webSocketTransport(server.wsUrl, WebSocket),
      sse: sseTransport(`${http}/connection/sse`, { EventSource }),
      poll: pollTransport(`${http}/connection/poll`),
    }, ORDER[0]);
    const c = new Herald(null, { transports: [sw], timeout: 3000, minReconnectDelay: 20,
      maxReconnectDelay: 100 });
    const used = [];
    c.on('connected', (e) => used.push(e.transport));
    let publisher = Promise.resolve();
    try {
      const sub = c.newSubscription('moving');
      const inbox = new Inbox(sub);
      // How many publications each subscribe reply recovered (they follow the event).
      const recoveredCounts = [];
      sub.on('subscribed', (e) => recoveredCounts.push(e.offset - (sub.position?.offset ?? 0)));
      sub.subscribe();
      c.connect();
      await nextEvent(sub, 'subscribed');
      publisher = (async () => {
        for (let n = 1; n <= TOTAL; n++) {
          await api(server.port, 'publish', { channel: 'moving', data: { n } });
        }
      })();
      for (let i = 1; i < ORDER.length; i++) {
        // Drop once this connection has delivered some, while the backend goes on publishing.
        await inbox.until(inbox.pubs.length + 60, 10000, `publications over ${ORDER[i - 1]}`);
        const back = nextEvent(sub, 'subscribed', () => true, 8000,
          `resubscribed over ${ORDER[i]}`);
        sw.use = ORDER[i];
        sw.drop();
        const e = await back;
        assert.equal(c.transport, ORDER[i]);
        assert.equal(e.wasRecovering, true);
        assert.equal(e.recovered, true, `recovered over ${ORDER[i]}`);
      }
      await within(publisher, 20000, 'the publisher finishes');
      await inbox.until(TOTAL, 10000, 'every publication');
      assert.deepEqual(used, ORDER, 'one connection per transport, in that order');
      const offsets = inbox.pubs.map((p) => p.offset);
      assert.deepEqual(offsets, Array.from({ length: TOTAL }, (_, i) => i + 1),
        'offsets 1..TOTAL, each once, in order');
      assert.deepEqual(inbox.pubs.map((p) => p.data.n), offsets);
      assert.equal(new Set(inbox.pubs.map((p) => p.epoch)).size, 1, 'one epoch');
      // The drops happened mid-stream: recoveries brought back what was published meanwhile.
      assert.equal(recoveredCounts.length, ORDER.length);
      assert.ok(recoveredCounts.slice(1).some((n) => n > 0),
        `publications recovered after the drops: ${recoveredCounts.slice(1).join(', ')}`);
      t.diagnostic(`recovered per resubscribe: ${recoveredCounts.slice(1).join(', ')}`);
    } finally {
      c.disconnect();
      await publisher.catch(() => {});
      await server.stop();
    }
  });
