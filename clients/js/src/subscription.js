// Subscription: one channel the application wants to receive, its state machine
// (unsubscribed -> subscribing -> subscribed) and its position {offset, epoch}, which makes every
// publication arrive once, in order, across reconnects.
//
// Created by Herald.newSubscription(); the client drives it (sends the subscribe commands, routes
// pushes to it) and it only talks to the client through the few `client._sub*` methods below.
// Thread: the event loop of the page or process, like the client.
//
// Delivery rules (docs/PROTOCOL.md, "Positions and publications" and "subscribe"):
// * a subscribe after a reconnect carries `since` = the last position delivered, so the reply
//   holds exactly the missed publications and the live pushes continue right after them;
// * a publication whose offset is not above the position (same epoch) is a duplicate: dropped;
// * a push that skips an offset or has another epoch means the stream is broken: the
//   subscription subscribes again with `since`, and the reply fills the gap or says it cannot
//   (`recovered: false` on the `subscribed` event: the application must reload its state).

import { Backoff, resubscribeAfter } from './backoff.js';
import { ClientCode, Emitter, HeraldError } from './events.js';

export const SubscriptionState = Object.freeze({
  UNSUBSCRIBED: 'unsubscribed',
  SUBSCRIBING: 'subscribing',
  SUBSCRIBED: 'subscribed',
});

// A position is {offset: integer >= 0, epoch: non-empty string}.
function checkPosition(since) {
  if (since == null) {
    return null;
  }
  if (!Number.isSafeInteger(since.offset) || since.offset < 0 || typeof since.epoch !== 'string' ||
      since.epoch === '') {
    throw new TypeError('since must be {offset: integer >= 0, epoch: non-empty string}');
  }
  return { offset: since.offset, epoch: since.epoch };
}

export class Subscription extends Emitter {
  // options.since: a position saved earlier (e.g. from the last publication a page showed); the
  // first subscribe recovers from it.
  constructor(client, channel, options = {}) {
    super();
    this.channel = channel;
    this.state = SubscriptionState.UNSUBSCRIBED;
    this._client = client;
    const since = checkPosition(options.since);
    this._offset = since ? since.offset : 0;
    this._epoch = since ? since.epoch : '';
    // Whether a subscribe should ask for recovery: a position was given, or the channel said
    // `recoverable: true`. A channel without history would answer every recovery with
    // `recovered: false`, telling the app to reload for nothing.
    this._recover = since !== null;
    this._inflight = false; // a subscribe command is waiting for its reply
    this._onServer = false; // the server has this subscription on the current connection
    this._backoff = new Backoff({
      min: client._options.minReconnectDelay,
      max: client._options.maxReconnectDelay,
      random: client._random,
    });
    this._retryTimer = null;
  }

  // The last position delivered, or null before the first subscribe.
  get position() {
    return this._epoch === '' ? null : { offset: this._offset, epoch: this._epoch };
  }

  // Asks for the channel; the client sends the subscribe as soon as it is connected.
  subscribe() {
    if (this.state !== SubscriptionState.UNSUBSCRIBED) {
      return;
    }
    if (this._client._subscriptions.get(this.channel) !== this) {
      throw new Error(`subscription to '${this.channel}' was removed from its client`);
    }
    this._setState(SubscriptionState.SUBSCRIBING, 'subscribing',
      { code: ClientCode.SUBSCRIBE_CALLED, reason: 'subscribe called' });
    this._client._subWanted(this);
  }

  // Stops receiving the channel. The position is kept: a later subscribe() recovers from it.
  unsubscribe() {
    this._unsubscribed(ClientCode.UNSUBSCRIBE_CALLED, 'unsubscribe called');
  }

  publish(data, options) {
    return this._client.publish(this.channel, data, options);
  }

  history(options) {
    return this._client.history(this.channel, options);
  }

  presence() {
    return this._client.presence(this.channel);
  }

  presenceStats() {
    return this._client.presenceStats(this.channel);
  }

  // --- driven by the client ---

  // The params of the next subscribe command.
  _subscribeParams() {
    const params = { channel: this.channel };
    if (this._recover && this._epoch !== '') {
      params.since = { offset: this._offset, epoch: this._epoch };
    }
    return params;
  }

  _onSubscribeSent() {
    this._inflight = true;
    this._clearRetry();
  }

  // The reply to our subscribe. Returns false when the subscription is no longer wanted, so the
  // client unsubscribes on the server.
  _onSubscribeResult(result) {
    this._inflight = false;
    this._onServer = true;
    if (this.state !== SubscriptionState.SUBSCRIBING) {
      return false;
    }
    const wasRecovering = this._recover && this._epoch !== '';
    const recovered = result.recovered === true;
    const pubs = recovered && Array.isArray(result.publications) ? result.publications : [];
    this._recover = result.recoverable === true;
    this._backoff.reset();
    if (!recovered) {
      // Nothing to deliver: the stream continues after the channel's top.
      this._epoch = String(result.epoch ?? '');
      this._offset = Number(result.offset ?? 0);
    }
    // Before the recovered publications, so that an app that must reload knows it first.
    this._setState(SubscriptionState.SUBSCRIBED, 'subscribed', {
      channel: this.channel,
      epoch: result.epoch,
      offset: result.offset,
      recoverable: result.recoverable === true,
      recovered,
      wasRecovering,
    });
    for (const pub of pubs) {
      if (this.state !== SubscriptionState.SUBSCRIBED) {
        break; // a listener unsubscribed
      }
      this._deliver({ ...pub, channel: this.channel });
    }
    if (recovered && this.state === SubscriptionState.SUBSCRIBED) {
      // The reply's top, so that the next push (offset + 1) continues the stream.
      this._epoch = String(result.epoch ?? this._epoch);
      this._offset = Math.max(this._offset, Number(result.offset ?? 0));
    }
    return true;
  }

  // An error reply to our subscribe: retry a temporary one after a backoff, give up otherwise.
  _onSubscribeError(err) {
    this._inflight = false;
    if (this.state !== SubscriptionState.SUBSCRIBING) {
      return;
    }
    if (err.code === ClientCode.CONNECTION_CLOSED || err.code === ClientCode.TIMEOUT) {
      return; // the connection is gone (the client says so); the next one subscribes again
    }
    this.emit('error', { type: 'subscribe', channel: this.channel, error: err });
    if (!err.temporary) {
      this._unsubscribed(err.code, err.message);
      return;
    }
    const delay = this._backoff.next();
    this._retryTimer = this._client._clock.setTimeout(() => {
      this._retryTimer = null;
      if (this.state === SubscriptionState.SUBSCRIBING) {
        this._client._subWanted(this);
      }
    }, delay);
  }

  // A message push of this channel.
  _onPublication(push) {
    if (this.state !== SubscriptionState.SUBSCRIBED) {
      return; // pushes of an earlier subscription; the subscribe reply recovers what matters
    }
    const offset = push.offset;
    if (push.epoch === this._epoch && Number.isSafeInteger(offset) && offset <= this._offset) {
      return; // seen already
    }
    if (push.epoch !== this._epoch || offset !== this._offset + 1) {
      // Not the next one: recover the gap (or learn that it cannot be) by subscribing again.
      this.emit('error', {
        type: 'gap',
        channel: this.channel,
        error: new HeraldError(ClientCode.RESUBSCRIBE, `expected offset ${this._offset + 1} ` +
          `of epoch ${this._epoch}, got ${offset} of epoch ${push.epoch}: subscribing again`),
      });
      this._recover = true;
      this._resubscribe(ClientCode.RESUBSCRIBE, 'publication stream broken');
      return;
    }
    this._deliver(push);
  }

  _onJoinLeave(type, push) {
    if (this.state === SubscriptionState.SUBSCRIBED) {
      this.emit(type, { channel: this.channel, info: push.info });
    }
  }

  // The server ended the subscription (unsubscribe push).
  _onServerUnsubscribe(code, reason) {
    this._onServer = false;
    this._inflight = false;
    if (this.state === SubscriptionState.UNSUBSCRIBED) {
      return;
    }
    if (resubscribeAfter(code)) {
      this._resubscribe(code, reason, false);
    } else {
      this._unsubscribed(code, reason, false);
    }
  }

  // The connection is gone: a subscription still wanted waits for the next one.
  _onConnectionLost(code, reason) {
    this._onServer = false;
    this._inflight = false;
    if (this.state === SubscriptionState.SUBSCRIBED) {
      this._setState(SubscriptionState.SUBSCRIBING, 'subscribing', { code, reason });
    }
  }

  // --- internal ---

  // Emits a publication unless it is one this subscription has delivered already.
  _deliver(pub) {
    if (pub.epoch === this._epoch && pub.offset <= this._offset) {
      return;
    }
    this._epoch = pub.epoch;
    this._offset = pub.offset;
    const event = { channel: this.channel, offset: pub.offset, epoch: pub.epoch, data: pub.data };
    if (pub.info !== undefined) {
      event.info = pub.info;
    }
    if (pub.time !== undefined) {
      event.time = pub.time;
    }
    this.emit('publication', event);
  }

  // Subscribe again on the same connection (unsubscribe first if the server still has us).
  _resubscribe(code, reason, onServer = this._onServer) {
    this._setState(SubscriptionState.SUBSCRIBING, 'subscribing', { code, reason });
    if (onServer) {
      this._client._subUnwanted(this);
    }
    this._onServer = false;
    this._client._subWanted(this);
  }

  _unsubscribed(code, reason, tellServer = true) {
    if (this.state === SubscriptionState.UNSUBSCRIBED) {
      return;
    }
    this._clearRetry();
    this._backoff.reset();
    const onServer = this._onServer;
    this._onServer = false;
    this._setState(SubscriptionState.UNSUBSCRIBED, 'unsubscribed', { code, reason });
    if (tellServer && onServer) {
      this._client._subUnwanted(this);
    }
    // An in-flight subscribe is undone when its reply comes (see _onSubscribeResult).
  }

  _clearRetry() {
    if (this._retryTimer !== null) {
      this._client._clock.clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  _setState(state, event, ctx) {
    this.state = state;
    this.emit('state', { state, ...ctx });
    this.emit(event, ctx);
  }
}
