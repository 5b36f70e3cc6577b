// Herald: the client. Owns the connection state machine (disconnected -> connecting ->
// connected), one Connection at a time (connection.js: one attempt's transport and commands),
// reconnects with backoff, the token, commands made while connecting, and the application's
// subscriptions, which it subscribes again (recovering from their last position) after every
// reconnect. Thread: the event loop of the page or process. Nothing here blocks; every wait is a
// timer of the injectable clock, so tests drive time by hand.
//
// The wire contract is docs/PROTOCOL.md (Herald protocol v1). In short: JSON commands
// {"id","method","params"} one per line, replies with the same id, pushes ("message", "join",
// "leave", "unsubscribe", "disconnect") without an id; frames may batch lines with '\n'.

import { Backoff, Retry, retryClass } from './backoff.js';
import { Connection } from './connection.js';
import { ClientCode, Emitter, HeraldError } from './events.js';
import { Subscription, SubscriptionState } from './subscription.js';
import { TransportChain, buildTransports } from './transports.js';

export const VERSION = '0.1.0';

export const State = Object.freeze({
  DISCONNECTED: 'disconnected',
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
});

const DEFAULTS = Object.freeze({
  token: null, // connection token (JWT); null: anonymous, or ask getToken()
  getToken: null, // async () => token; called when there is none and after 4004 "token expired"
  data: undefined, // connect data: the client's info in presence when the token has no `info`
  name: 'herald-js', // client name and version the server logs
  version: VERSION,
  websocket: undefined, // WebSocket constructor; default the global one (browsers, Node 22)
  eventsource: undefined, // EventSource constructor; default the global one (browsers)
  fetch: undefined, // fetch function (SSE's POSTs, long-polling); default the global one
  transports: undefined, // fallback list; default ['websocket', 'sse', 'poll'] (transports.js)
  minReconnectDelay: 500, // backoff window of the first retry, ms
  maxReconnectDelay: 20000, // largest backoff window, ms
  timeout: 10000, // ms for the transport to open and for each command's reply
  clock: undefined, // {now, setTimeout, clearTimeout}; default the real ones
  random: Math.random, // () => [0, 1), the jitter source
});

const realClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
});

export class Herald extends Emitter {
  // url: the server, e.g. 'https://example.com' or 'wss://example.com/connection/websocket'; each
  // transport's endpoint is derived from it (transports.js endpointUrl()). May be null when every
  // entry of options.transports has its own URL or is a factory. Or a non-empty array of such
  // URLs: the nodes of one cluster (docs/SCALING.md), tried in turn (see _lose()).
  // options: see DEFAULTS.
  constructor(url, options = {}) {
    super();
    const o = { ...DEFAULTS, ...options };
    if (!(Number.isFinite(o.timeout) && o.timeout > 0)) {
      throw new RangeError(`timeout must be a positive number of ms, got ${o.timeout}`);
    }
    if (o.data !== undefined) {
      try {
        JSON.stringify(o.data);
      } catch (err) {
        throw new TypeError(`data must be a JSON value: ${err.message}`);
      }
    }
    if (o.getToken !== null && typeof o.getToken !== 'function') {
      throw new TypeError('getToken must be a function returning a token (or a promise of one)');
    }
    this._options = o;
    this._clock = o.clock ?? realClock;
    this._random = o.random;
    this._backoff = new Backoff({ min: o.minReconnectDelay, max: o.maxReconnectDelay,
      random: o.random });
    const urls = Array.isArray(url) ? url : [url];
    if (urls.length === 0 || (Array.isArray(url) && !urls.every((u) => typeof u === 'string'))) {
      throw new TypeError('url: a server URL, or a non-empty array of server URLs (strings)');
    }
    this._urls = urls;
    // _endpoints[e][i]: transport i of the fallback list on server e. Every server has the same
    // list (same options), so one TransportChain picks the transport for all of them: a transport
    // that opened on one node is expected to open on the others.
    this._endpoints = urls.map((u) => buildTransports(u, o));
    this._endpoint = 0; // the server the next attempt goes to
    this._chain = new TransportChain(this._endpoints[0]);
    this._subscriptions = new Map(); // channel -> Subscription
    this._token = o.token || null;
    this._conn = null;
    this._gen = 0; // bumped by every attempt and by disconnect(): stale async steps check it
    this._reconnectTimer = null;
    this._waiting = new Set(); // commands called while connecting, sent once connected
    // What a Connection reports (connection.js); `conn` says which one.
    this._connectionEvents = {
      onOpen: () => this._onOpen(),
      onPush: (conn, msg) => this._onPush(msg),
      onFrameEnd: (conn) => {
        if (conn.disconnect) {
          // The server's last word: act on it now rather than when the transport notices the
          // end (a long-poll session would only learn it from its next poll).
          const { code, reason, reconnect } = conn.disconnect;
          this._lose(conn, code, reason, reconnect);
        } else if (conn.connectError) {
          const err = conn.connectError;
          this._lose(conn, ClientCode.CONNECT_REFUSED, err.message,
            err.temporary ? undefined : false);
        }
      },
      onLost: (conn, code, reason) => this._lose(conn, code, reason),
      onProtocolError: (error) => this.emit('error', { type: 'protocol', error }),
    };
    this.state = State.DISCONNECTED;
    this.clientId = null; // this connection's id, from the connect result
    this.transport = null; // name of the transport of the current connection
    this.url = null; // the server URL (as given) of the current connection
  }

  // Starts connecting (and reconnecting until disconnect() or a do-not-retry disconnect code).
  connect() {
    if (this.state !== State.DISCONNECTED) {
      return;
    }
    this._backoff.reset();
    this._setState(State.CONNECTING, 'connecting',
      { code: ClientCode.CONNECT_CALLED, reason: 'connect called' });
    this._startAttempt();
  }

  // Closes the connection and stops reconnecting. Subscriptions stay wanted: connect() again
  // subscribes them again and recovers what they missed.
  disconnect() {
    if (this.state !== State.DISCONNECTED) {
      this._stop(ClientCode.DISCONNECT_CALLED, 'disconnect called');
    }
  }

  // Resolves once connected; rejects if the client ends up disconnected first.
  ready() {
    if (this.state === State.CONNECTED) {
      return Promise.resolve();
    }
    if (this.state === State.DISCONNECTED) {
      return Promise.reject(new HeraldError(ClientCode.NOT_CONNECTED,
        'the client is disconnected'));
    }
    return new Promise((resolve, reject) => {
      const offs = [
        this.on('connected', () => { offs.forEach((f) => f()); resolve(); }),
        this.on('disconnected', (e) => {
          offs.forEach((f) => f());
          reject(new HeraldError(e.code, `disconnected: ${e.reason}`));
        }),
      ];
    });
  }

  // The token of the next connect (e.g. after a `disconnected` event with code 4004 when there is
  // no getToken()).
  setToken(token) {
    this._token = token || null;
  }

  newSubscription(channel, options = {}) {
    if (typeof channel !== 'string' || channel === '') {
      throw new TypeError('a channel name is a non-empty string');
    }
    if (this._subscriptions.has(channel)) {
      throw new Error(`there is already a subscription to '${channel}' ` +
        '(getSubscription() finds it)');
    }
    const sub = new Subscription(this, channel, options);
    this._subscriptions.set(channel, sub);
    return sub;
  }

  // The subscription to `channel` (made if there is none), subscribed.
  subscribe(channel, options = {}) {
    const sub = this._subscriptions.get(channel) ?? this.newSubscription(channel, options);
    sub.subscribe();
    return sub;
  }

  getSubscription(channel) {
    return this._subscriptions.get(channel) ?? null;
  }

  subscriptions() {
    return [...this._subscriptions.values()];
  }

  // Unsubscribes and forgets the subscription; newSubscription() may then make another.
  removeSubscription(sub) {
    if (sub && this._subscriptions.get(sub.channel) === sub) {
      sub.unsubscribe();
      this._subscriptions.delete(sub.channel);
    }
  }

  // Resolves to {offset, epoch}. On a rejection with a temporary code the publication may or may
  // not have happened: publish again with the same idempotencyKey.
  publish(channel, data, { idempotencyKey } = {}) {
    if (data === undefined) {
      return Promise.reject(new TypeError('publish: data must be a JSON value (null included)'));
    }
    const params = { channel, data };
    if (idempotencyKey !== undefined) {
      params.idempotency_key = idempotencyKey;
    }
    return this._call('publish', params);
  }

  // Resolves to {publications, offset, epoch}.
  history(channel, { limit, since, reverse } = {}) {
    const params = { channel };
    if (limit !== undefined) {
      params.limit = limit;
    }
    if (since !== undefined) {
      params.since = since;
    }
    if (reverse !== undefined) {
      params.reverse = reverse;
    }
    return this._call('history', params);
  }

  // Resolves to {clients: {clientId: {user, client, info?}}}.
  presence(channel) {
    return this._call('presence', { channel });
  }

  // Resolves to {numClients, numUsers}.
  async presenceStats(channel) {
    const r = await this._call('presence_stats', { channel });
    return { numClients: r.num_clients, numUsers: r.num_users };
  }

  // --- connection life cycle ---

  async _startAttempt() {
    const gen = ++this._gen;
    if (this._token === null && this._options.getToken) {
      let token;
      try {
        token = await this._options.getToken();
      } catch (err) {
        if (gen === this._gen) {
          this.emit('error', { type: 'token', error: err });
          this._scheduleReconnect(this._backoff.next());
        }
        return;
      }
      if (gen !== this._gen) {
        return; // disconnect() or another connect() happened meanwhile
      }
      this._token = token || null;
    }
    const conn = new Connection(this._endpoints[this._endpoint][this._chain.index],
      { clock: this._clock, timeout: this._options.timeout }, this._connectionEvents);
    this._conn = conn;
    const o = this._options;
    const params = { name: o.name, version: o.version, protocol: 1 };
    if (this._token) {
      params.token = this._token;
    }
    if (o.data !== undefined) {
      params.data = o.data;
    }
    const cb = (err, result) => {
      if (!err) {
        this._onConnected(conn, result);
      } else if (err.code !== ClientCode.CONNECTION_CLOSED) { // (the close itself is the news)
        this.emit('error', { type: 'connect', error: err });
        conn.connectError = err; // acted on once the rest of the frame (a disconnect push) is read
      }
    };
    try {
      conn.start({ params, cb });
    } catch (err) {
      this._lose(conn, 1006, String(err?.message ?? err)); // reported as a failed transport
    }
  }

  _onOpen() {
    this._chain.opened();
  }

  _onConnected(conn, result) {
    conn.connected = true;
    this._backoff.reset();
    this.clientId = result.client ?? null;
    this.transport = conn.transportName;
    this.url = this._urls[this._endpoint];
    const ping = Number(result.ping);
    conn.keepalive(ping > 0 ? ping * 1000 : 0);
    this._setState(State.CONNECTED, 'connected', {
      client: this.clientId, version: result.version, transport: conn.transportName,
      url: this.url, ping: result.ping, pong: result.pong,
    });
    if (conn.closed) {
      return; // a listener disconnected
    }
    for (const sub of this._subscriptions.values()) {
      if (sub.state === SubscriptionState.SUBSCRIBING) {
        this._sendSubscribe(conn, sub);
      }
    }
    for (const w of this._waiting) {
      this._clock.clearTimeout(w.timer);
      conn.send(w.method, w.params, w.cb);
    }
    this._waiting.clear();
  }

  // The connection ended (the transport closed, or it is dead). code/reason: why, as the
  // transport or we saw it; a disconnect push, if one came, says it better.
  _lose(conn, code, reason, reconnect = undefined) {
    if (!conn.close(code, reason)) {
      return;
    }
    if (this._conn === conn) {
      this._conn = null;
    }
    if (conn.disconnect) {
      ({ code, reason, reconnect } = conn.disconnect);
    }
    if (!conn.opened) {
      this.emit('error', {
        type: 'transport', transport: conn.transportName,
        error: new HeraldError(code,
          `${conn.transportName} transport did not open: ${code} ${reason}`, true),
      });
    }
    let retry = retryClass(code, reconnect);
    if (code === 4004 && retry !== Retry.NO) {
      if (this._options.getToken) {
        this._token = null; // ask for a fresh one
      } else {
        this.emit('error', { type: 'token', error: new HeraldError(ClientCode.TOKEN,
          'the token expired and there is no getToken() to renew it ' +
          '(setToken(), then connect())') });
        retry = Retry.NO;
      }
    }
    if (retry === Retry.NO) {
      this._stop(code, reason);
      return;
    }
    if (this.state === State.CONNECTED) {
      this._setState(State.CONNECTING, 'connecting', { code, reason });
    }
    for (const sub of this._subscriptions.values()) {
      sub._onConnectionLost(code, reason);
    }
    if (this.state !== State.CONNECTING) {
      return; // a listener disconnected
    }
    // A transport that never opened hands over to the next one in the list at once. Otherwise
    // (a lost connection, or the last transport failed too) the next attempt goes to the next
    // server of the list, after the backoff delay: a node that died is left for a live one, and
    // a dead cluster is retried with the same full-jitter backoff as a single server.
    const moved = !conn.opened && this._chain.failed();
    if (!moved) {
      this._endpoint = (this._endpoint + 1) % this._endpoints.length;
    }
    this._scheduleReconnect(moved ? 0 : this._backoff.next(retry));
  }

  // Goes to `disconnected` and stays there.
  _stop(code, reason) {
    this._gen++;
    this._clock.clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    if (this._conn) {
      this._conn.close(code, reason);
      this._conn = null;
    }
    const waiting = [...this._waiting];
    this._waiting.clear();
    this._setState(State.DISCONNECTED, 'disconnected', { code, reason });
    for (const w of waiting) {
      this._clock.clearTimeout(w.timer);
      w.cb(new HeraldError(ClientCode.NOT_CONNECTED,
        `${w.method}: disconnected (${code} ${reason})`));
    }
    for (const sub of this._subscriptions.values()) {
      sub._onConnectionLost(code, reason);
    }
  }

  _scheduleReconnect(delay) {
    this._clock.clearTimeout(this._reconnectTimer);
    this._reconnectTimer = this._clock.setTimeout(() => {
      this._reconnectTimer = null;
      this._startAttempt();
    }, delay);
  }

  // A push other than `disconnect`, for the subscription of its channel.
  _onPush(msg) {
    const sub = this._subscriptions.get(msg.channel);
    if (!sub) {
      return;
    }
    switch (msg.push) {
      case 'message':
        sub._onPublication(msg);
        break;
      case 'join':
      case 'leave':
        sub._onJoinLeave(msg.push, msg);
        break;
      case 'unsubscribe':
        sub._onServerUnsubscribe(msg.code, msg.reason ?? '');
        break;
      default:
        break; // push types of later protocol versions are ignored, as the protocol requires
    }
  }

  // --- commands out ---

  // A public command: sent now when connected, else when the connection comes (within the
  // timeout); rejected at once when disconnected.
  _call(method, params) {
    return new Promise((resolve, reject) => {
      const cb = (err, result) => (err ? reject(err) : resolve(result));
      const conn = this._conn;
      if (this.state === State.CONNECTED && conn && conn.connected && !conn.closed) {
        conn.send(method, params, cb);
      } else if (this.state === State.DISCONNECTED) {
        reject(new HeraldError(ClientCode.NOT_CONNECTED,
          `${method}: the client is disconnected (call connect() first)`));
      } else {
        const w = { method, params, cb, timer: null };
        w.timer = this._clock.setTimeout(() => {
          this._waiting.delete(w);
          cb(new HeraldError(ClientCode.TIMEOUT,
            `${method}: not connected within ${this._options.timeout} ms`, true));
        }, this._options.timeout);
        this._waiting.add(w);
      }
    });
  }

  // --- used by Subscription ---

  _subWanted(sub) {
    const conn = this._conn;
    if (this.state === State.CONNECTED && conn && conn.connected && !conn.closed) {
      this._sendSubscribe(conn, sub);
    } // otherwise the next connect subscribes it
  }

  _subUnwanted(sub) {
    sub._onServer = false;
    const conn = this._conn;
    if (this.state === State.CONNECTED && conn && conn.connected && !conn.closed) {
      conn.send('unsubscribe', { channel: sub.channel }, () => {});
    }
  }

  _sendSubscribe(conn, sub) {
    if (sub._inflight) {
      return; // its reply will do
    }
    sub._onSubscribeSent();
    conn.send('subscribe', sub._subscribeParams(), (err, result) => {
      if (err) {
        sub._onSubscribeError(err);
      } else if (!sub._onSubscribeResult(result)) {
        this._subUnwanted(sub); // unsubscribed while the subscribe was on its way
      }
    });
  }

  _setState(state, event, ctx) {
    this.state = state;
    if (state !== State.CONNECTED) {
      this.clientId = null;
      this.transport = null;
      this.url = null;
    }
    this.emit('state', { state, ...ctx });
    this.emit(event, ctx);
  }
}
