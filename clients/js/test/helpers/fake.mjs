// Test doubles for the unit tests: a fake clock the tests advance by hand, a fake transport
// network whose connections the test opens, refuses or drops, and a small in-memory Herald server
// that answers the protocol's commands the way docs/PROTOCOL.md says (channels with offsets and
// epochs, recovery from `since`, pushes to subscribers). Nothing here touches the real network or
// real timers, so every test is deterministic.

// Lets pending promise callbacks and microtasks (the client's frame flush) run.
export function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

// A clock with setTimeout/clearTimeout/now for the client's `clock` option. Time moves only in
// advance(), which runs the timers that fall due, in order, each at its own time.
export class FakeClock {
  constructor(start = 1_700_000_000_000) {
    this._now = start;
    this._timers = new Map(); // id -> {at, fn}
    this._nextId = 1;
    this.setTimeout = this.setTimeout.bind(this);
    this.clearTimeout = this.clearTimeout.bind(this);
    this.now = this.now.bind(this);
  }

  now() {
    return this._now;
  }

  setTimeout(fn, ms) {
    const id = this._nextId++;
    this._timers.set(id, { at: this._now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id) {
    this._timers.delete(id);
  }

  // Milliseconds until the earliest timer, or null when none is armed.
  nextIn() {
    let best = null;
    for (const t of this._timers.values()) {
      if (best === null || t.at < best) {
        best = t.at;
      }
    }
    return best === null ? null : best - this._now;
  }

  get timerCount() {
    return this._timers.size;
  }

  // Moves time forward by ms, running every timer due by then (microtasks run after each).
  async advance(ms) {
    const end = this._now + ms;
    await tick();
    for (;;) {
      let id = null;
      let due = null;
      for (const [k, t] of this._timers) {
        if (t.at <= end && (due === null || t.at < due.at)) {
          id = k;
          due = t;
        }
      }
      if (due === null) {
        break;
      }
      this._timers.delete(id);
      this._now = due.at;
      due.fn();
      await tick();
    }
    this._now = end;
    await tick();
  }
}

// A fake transport: the test (or FakeServer) decides when it opens, what it receives and when it
// closes. Records every frame the client sends.
export class FakeTransport {
  constructor(network, name) {
    this.network = network;
    this.name = name;
    this.state = 'new'; // new -> opening -> open -> closed
    this.sent = []; // frames, as sent
    this.closedBy = null; // 'client' | 'server'
    this.onopen = () => {};
    this.onmessage = () => {};
    this.onclose = () => {};
  }

  open() {
    this.state = 'opening';
    this.network._opened(this);
  }

  send(text) {
    if (this.state !== 'open') {
      throw new Error(`send on a ${this.state} fake transport`);
    }
    this.sent.push(text);
    this.network._sent(this, text);
  }

  close() {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.closedBy = 'client';
      this.network._closed(this);
    }
  }

  // The commands the client sent, parsed, in order.
  commands() {
    const lines = this.sent.flatMap((f) => f.split('\n')).filter((l) => l !== '');
    return lines.map((l) => JSON.parse(l));
  }

  // --- driven by the test ---

  accept() {
    this.state = 'open';
    this.onopen();
  }

  refuse(code = 1006, reason = '') {
    this.serverClose(code, reason);
  }

  // A frame from the server: objects are JSON-encoded and joined with '\n'.
  receive(...messages) {
    this.onmessage(messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n'));
  }

  serverClose(code = 1006, reason = '') {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.closedBy = 'server';
      this.network._closed(this);
      this.onclose({ code, reason });
    }
  }
}

// Factories of fake transports for the client's `transports` option. Each factory records the
// transports it made; `behaviour(transport)` decides what happens on open (default: nothing, the
// test calls accept() or refuse()).
export class FakeNetwork {
  constructor() {
    this.transports = []; // every transport made, in order
    this.server = null;
  }

  // A factory {name, create} for the client; behaviour: 'manual' | 'accept' | 'refuse'.
  factory(name = 'fake', behaviour = 'manual') {
    const f = {
      name,
      behaviour,
      create: () => {
        const t = new FakeTransport(this, name);
        t.factory = f;
        this.transports.push(t);
        return t;
      },
    };
    return f;
  }

  get last() {
    return this.transports[this.transports.length - 1];
  }

  _opened(t) {
    const b = t.factory.behaviour;
    if (b === 'accept') {
      queueMicrotask(() => t.state === 'opening' && t.accept());
    } else if (b === 'refuse') {
      queueMicrotask(() => t.state === 'opening' && t.refuse(1006, 'refused'));
    }
  }

  _sent(t, text) {
    if (this.server) {
      this.server.onFrame(t, text);
    }
  }

  _closed(t) {
    if (this.server) {
      this.server.onClose(t);
    }
  }
}

// An in-memory Herald server behind a FakeNetwork. Replies and pushes are delivered in a later
// microtask, as a real socket would. `mute` stops all answers (a dead server);
// `onCommand(t, cmd)` may return a reply object to override the default answer.
export class FakeServer {
  constructor(network, { ping = 25, epoch = 'e1' } = {}) {
    network.server = this;
    this.ping = ping;
    this.epoch = epoch;
    this.mute = false;
    this.onCommand = null;
    this.channels = new Map(); // name -> {epoch, pubs: [{offset, epoch, data}], subs: Set<t>}
    this.clientIds = 0;
  }

  channel(name) {
    let c = this.channels.get(name);
    if (!c) {
      c = { epoch: this.epoch, pubs: [], subs: new Set() };
      this.channels.set(name, c);
    }
    return c;
  }

  // A publication from "the backend": stored and pushed to subscribers.
  publish(name, data) {
    const c = this.channel(name);
    const pub = { offset: c.pubs.length + 1, epoch: c.epoch, data };
    c.pubs.push(pub);
    for (const t of c.subs) {
      this.push(t, { push: 'message', channel: name, ...pub });
    }
    return pub;
  }

  push(t, msg) {
    queueMicrotask(() => t.state === 'open' && !this.mute && t.receive(msg));
  }

  onFrame(t, text) {
    for (const line of text.split('\n')) {
      if (line === '') {
        continue;
      }
      const cmd = JSON.parse(line);
      const custom = this.onCommand ? this.onCommand(t, cmd) : undefined;
      const reply = custom !== undefined ? custom : this.answer(t, cmd);
      if (reply !== null) {
        this.push(t, reply);
      }
    }
  }

  onClose(t) {
    for (const c of this.channels.values()) {
      c.subs.delete(t);
    }
  }

  answer(t, cmd) {
    const p = cmd.params ?? {};
    switch (cmd.method) {
      case 'connect':
        return { id: cmd.id, result: { client: `c${++this.clientIds}`, version: 'fake', protocol: 1,
          ping: this.ping, pong: true } };
      case 'ping':
        return { id: cmd.id, result: {} };
      case 'subscribe': {
        const c = this.channel(p.channel);
        if (c.subs.has(t)) {
          return { id: cmd.id,
            error: { code: 106, message: 'already subscribed', temporary: false } };
        }
        c.subs.add(t);
        const top = c.pubs.length;
        const since = p.since;
        const recovered = since != null && since.epoch === c.epoch && since.offset <= top;
        return { id: cmd.id, result: { epoch: c.epoch, offset: top, recoverable: true, recovered,
          publications: recovered ? c.pubs.slice(since.offset) : [] } };
      }
      case 'unsubscribe':
        this.channel(p.channel).subs.delete(t);
        return { id: cmd.id, result: {} };
      case 'publish':
        return { id: cmd.id, result: (({ offset, epoch }) => ({ offset, epoch }))(
          this.publish(p.channel, p.data)) };
      default:
        return { id: cmd.id, error: { code: 101, message: 'unknown method', temporary: false } };
    }
  }
}

// A client on a fake clock and a FakeServer behind a FakeNetwork that accepts every connection.
// random is 0.5 unless given, so the n-th backoff delay is exactly half its window.
// `events` records every client event as [name, payload].
export async function fakeSetup(Herald, options = {}, { ping = 25 } = {}) {
  const clock = new FakeClock();
  const net = new FakeNetwork();
  const server = new FakeServer(net, { ping });
  const client = new Herald(null, {
    clock, random: () => 0.5, transports: [net.factory('fake', 'accept')], ...options,
  });
  const events = [];
  for (const name of ['connecting', 'connected', 'disconnected', 'error']) {
    client.on(name, (e) => events.push([name, e]));
  }
  return { clock, net, server, client, events };
}

// Records a subscription's events as [name, payload].
export function recordSub(sub) {
  const events = [];
  for (const name of ['subscribing', 'subscribed', 'unsubscribed', 'publication', 'join', 'leave',
    'error']) {
    sub.on(name, (e) => events.push([name, e]));
  }
  return events;
}
