// Connection: one attempt to talk to the server over one transport. Owns the transport's
// callbacks, the commands in flight and their timeouts, the batching of outgoing commands into
// frames, the splitting of incoming frames into replies and pushes, and the keepalive ping.
// It decides nothing about reconnecting: it tells its owner (the client) what happened. Made for
// one attempt and dropped after it, never reused. Thread: the event loop of the page or process.
//
// Framing (docs/PROTOCOL.md, "Transports and framing"): every message is one JSON object on one
// line; a frame holds one or more lines separated by '\n', in both directions.

import { ClientCode, HeraldError } from './events.js';

// A frame we send holds at most this many commands, and at most this many UTF-16 units unless a
// single command is longer: the server refuses frames of more than 128 commands and frames over
// 1 MiB (3 bytes per unit at worst).
const MAX_FRAME_COMMANDS = 100;
const MAX_FRAME_UNITS = 256 * 1024;

export class Connection {
  // factory: {name, create()} (transports.js). options: {clock, timeout}. owner: the callbacks
  //   onOpen(conn)                  the transport opened
  //   onPush(conn, msg)             a push other than `disconnect` (those are kept in .disconnect)
  //   onFrameEnd(conn)              every line of a received frame has been handled
  //   onLost(conn, code, reason)    the transport closed, did not open in time, or a command
  //                                 timed out; the owner calls close()
  //   onProtocolError(err)          a line that is not JSON, or an error reply with id 0
  constructor(factory, { clock, timeout }, owner) {
    this.transportName = factory.name;
    this._factory = factory;
    this._clock = clock;
    this._timeout = timeout;
    this._owner = owner;
    this.transport = null;
    this.opened = false; // the transport opened
    this.connected = false; // the server accepted `connect` (set by the owner)
    this.closed = false;
    this.disconnect = null; // {code, reason, reconnect} of the disconnect push, if one came
    this.connectError = null; // the error reply to `connect` (set by the owner)
    this._pending = new Map(); // command id -> {method, cb, timer}
    this._nextId = 1; // ids need only be unique among this connection's commands in flight
    this._outbox = []; // lines for the next frame
    this._flushQueued = false;
    this._openTimer = null;
    this._pingTimer = null;
    this._pingMs = 0;
    this._pingOutstanding = false;
    this._lastRx = 0; // clock time of the last frame received
  }

  // Creates the transport and starts opening it, with the connect command {params, cb}: sent as
  // soon as the transport opens, or, for a transport that `opensWithFrame` (transports.js), in the
  // request that opens it; cb as for send(). Throws what the factory throws.
  start(connect) {
    const t = this._factory.create({ clock: this._clock });
    this.transport = t;
    const withFrame = t.opensWithFrame === true;
    let connectId = 0;
    t.onopen = () => {
      if (this.closed) {
        return;
      }
      this.opened = true;
      this._clock.clearTimeout(this._openTimer);
      this._openTimer = null;
      this._lastRx = this._clock.now();
      this._owner.onOpen(this);
      if (this.closed) {
        return;
      }
      if (withFrame) {
        this._arm(connectId); // the server has it; its reply is on the way
      } else {
        this.send('connect', connect.params, connect.cb);
      }
    };
    t.onmessage = (text) => this.receive(text);
    t.onclose = (e) => this._lost(e?.code || 1006, e?.reason || '');
    this._openTimer = this._clock.setTimeout(() => {
      this._openTimer = null;
      this._lost(ClientCode.TIMEOUT, `${this.transportName} did not open in ${this._timeout} ms`);
    }, this._timeout);
    if (!withFrame) {
      t.open();
      return;
    }
    const cmd = this._register('connect', connect.params, connect.cb);
    if (cmd === null) {
      // connect.cb has the error; nothing can be opened without the command.
      queueMicrotask(() => this._lost(1006, 'the connect command could not be encoded'));
      return;
    }
    connectId = cmd.id;
    t.open(cmd.line);
  }

  // Queues one command. cb(err, result) runs synchronously when its reply is read, so that a
  // subscribe's result is applied before the pushes that follow it in the same frame; or with a
  // HeraldError on timeout (then the connection is reported lost: no reply in time means dead)
  // or when the connection closes first.
  send(method, params, cb) {
    const cmd = this._register(method, params, cb);
    if (cmd === null) {
      return;
    }
    this._arm(cmd.id);
    this._outbox.push(cmd.line);
    if (!this._flushQueued) {
      this._flushQueued = true;
      queueMicrotask(() => this._flush());
    }
  }

  // One frame from the transport.
  receive(text) {
    if (this.closed) {
      return;
    }
    this._lastRx = this._clock.now();
    for (const line of text.split('\n')) {
      if (this.closed) {
        return; // a handler ended the connection: the rest belongs to nobody
      }
      if (line.trim() === '') {
        continue;
      }
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        this._owner.onProtocolError(new HeraldError(100,
          `the server sent a line that is not JSON: ${line.slice(0, 80)}`));
        continue;
      }
      if (msg === null || typeof msg !== 'object') {
        continue;
      }
      if (typeof msg.push === 'string') {
        this._onPush(msg);
      } else if (msg.id !== undefined) {
        this._onReply(msg);
      }
    }
    if (!this.closed) {
      this._owner.onFrameEnd(this);
    }
  }

  // Keepalive: after pingMs without hearing anything, send a `ping` command; its timeout, like
  // any command's, reports the connection lost. Whatever the server does for keepalive never
  // reaches here: WebSocket ping frames are answered by the WebSocket itself and never shown to
  // scripts, SSE comment lines are skipped by EventSource, and long-polling has none. So on every
  // transport silence can only be told from death by asking. pingMs 0: no keepalive.
  keepalive(pingMs) {
    this._pingMs = pingMs;
    this._armPing(pingMs);
  }

  // Ends everything of this attempt: timers, transport, commands in flight (rejected with
  // CONNECTION_CLOSED). Returns false if it was closed already.
  close(code, reason) {
    if (this.closed) {
      return false;
    }
    this.closed = true;
    this._clock.clearTimeout(this._openTimer);
    this._clock.clearTimeout(this._pingTimer);
    this._outbox = [];
    const t = this.transport;
    if (t) {
      t.onopen = t.onmessage = t.onclose = () => {};
      t.close();
    }
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) {
      this._clock.clearTimeout(p.timer);
      p.cb(new HeraldError(ClientCode.CONNECTION_CLOSED,
        `${p.method}: the connection closed before the reply (${code} ${reason})`, true), null);
    }
    return true;
  }

  // --- internal ---

  // Gives the command an id and a place among those waiting for a reply (its timer not yet
  // armed). Returns {id, line}, or null (cb already called) when params are not JSON.
  _register(method, params, cb) {
    const id = this._nextId;
    let line;
    try {
      line = JSON.stringify(params === undefined ? { id, method } : { id, method, params });
    } catch (err) {
      cb(new HeraldError(103, `${method}: params are not JSON: ${err.message}`), null);
      return null;
    }
    this._nextId = id >= 0xffffffff ? 1 : id + 1; // ids are uint32 > 0
    this._pending.set(id, { method, cb, timer: null });
    return { id, line };
  }

  // Starts the reply timeout of a registered command.
  _arm(id) {
    const p = this._pending.get(id);
    if (p && p.timer === null) {
      p.timer = this._clock.setTimeout(() => this._timedOut(id), this._timeout);
    }
  }

  _lost(code, reason) {
    if (!this.closed) {
      this._owner.onLost(this, code, reason);
    }
  }

  _onPush(msg) {
    if (msg.push === 'disconnect') {
      // The last message before the close; it says why better than the close code may.
      this.disconnect = {
        code: Number.isInteger(msg.code) ? msg.code : 4000,
        reason: typeof msg.reason === 'string' ? msg.reason : '',
        reconnect: typeof msg.reconnect === 'boolean' ? msg.reconnect : undefined,
      };
      return;
    }
    this._owner.onPush(this, msg);
  }

  _onReply(msg) {
    const p = this._pending.get(msg.id);
    if (!p) {
      if (msg.id === 0 && msg.error) {
        // A line the server could not read; nothing of ours waits for it.
        this._owner.onProtocolError(HeraldError.fromReply(msg.error));
      }
      return;
    }
    this._pending.delete(msg.id);
    this._clock.clearTimeout(p.timer);
    if (msg.error) {
      p.cb(HeraldError.fromReply(msg.error), null);
    } else {
      p.cb(null, msg.result ?? {});
    }
  }

  _timedOut(id) {
    const p = this._pending.get(id);
    if (!p) {
      return;
    }
    this._pending.delete(id);
    const why = `no reply to ${p.method} in ${this._timeout} ms`;
    p.cb(new HeraldError(ClientCode.TIMEOUT, why, true), null);
    this._lost(ClientCode.TIMEOUT, why);
  }

  _armPing(delay) {
    if (this._pingMs <= 0 || this.closed) {
      return;
    }
    this._pingTimer = this._clock.setTimeout(() => {
      this._pingTimer = null;
      const silent = this._clock.now() - this._lastRx;
      if (silent < this._pingMs) {
        this._armPing(this._pingMs - silent);
        return;
      }
      if (!this._pingOutstanding) {
        this._pingOutstanding = true;
        this.send('ping', undefined, () => { this._pingOutstanding = false; });
      }
      this._armPing(this._pingMs);
    }, delay);
  }

  // Sends the commands queued during this turn of the event loop, batched into frames.
  _flush() {
    this._flushQueued = false;
    const lines = this._outbox;
    this._outbox = [];
    if (this.closed) {
      return;
    }
    let frame = [];
    let units = 0;
    for (const line of lines) {
      if (frame.length > 0 &&
          (frame.length >= MAX_FRAME_COMMANDS || units + line.length > MAX_FRAME_UNITS)) {
        this.transport.send(frame.join('\n'));
        frame = [];
        units = 0;
      }
      frame.push(line);
      units += line.length + 1;
    }
    if (frame.length > 0) {
      this.transport.send(frame.join('\n'));
    }
  }
}
