// Events and errors shared by the client and its subscriptions: a tiny event emitter, the codes
// the SDK itself puts in events and errors (0-99, a range the server never uses), and the error
// class every rejected promise carries.
//
// The server's own codes keep their meaning and ranges (docs/PROTOCOL.md): errors 100-599,
// disconnect codes 1000-4999 (WebSocket close codes), unsubscribe codes 2000-2999.

// Codes of causes that are on the client's side. They appear as `code` in `connecting`,
// `disconnected`, `subscribing` and `unsubscribed` events, and in HeraldError.code.
export const ClientCode = Object.freeze({
  DISCONNECT_CALLED: 0, // disconnect() was called
  CONNECT_CALLED: 1, // connect() was called
  TIMEOUT: 2, // the transport did not open, or a command (a ping included) got no reply in time
  TOKEN: 3, // getToken() failed, or the token expired and there is no getToken() to renew it
  UNSUBSCRIBE_CALLED: 4, // Subscription.unsubscribe() was called
  SUBSCRIBE_CALLED: 5, // Subscription.subscribe() was called
  RESUBSCRIBE: 6, // a channel's pushes skipped an offset or changed epoch: subscribing again
  CONNECTION_CLOSED: 7, // error: the connection closed before the reply; the outcome is unknown
  NOT_CONNECTED: 8, // error: the client is disconnected (or disconnected while the command waited)
  CONNECT_REFUSED: 9, // the server answered connect with an error and did not say how to go on
});

// What a rejected promise carries. `code` is a server error code (100-599, see PROTOCOL.md) or a
// ClientCode; `temporary` says whether the same command may succeed later.
export class HeraldError extends Error {
  constructor(code, message, temporary = false) {
    super(message);
    this.name = 'HeraldError';
    this.code = code;
    this.temporary = temporary;
  }

  // From the `error` object of a reply.
  static fromReply(error) {
    const code = Number.isInteger(error?.code) ? error.code : 500;
    const message = typeof error?.message === 'string' ? error.message : 'error ' + code;
    return new HeraldError(code, message, error?.temporary === true);
  }
}

// A minimal event emitter. Listeners run synchronously, in the order they were added. A listener
// that throws does not break the caller (the SDK's state machines run in the same stack): the
// exception is re-thrown in a microtask, where it reaches the host's uncaught-error handling
// (the console in a browser; an uncaught exception in Node, as with EventEmitter).
export class Emitter {
  constructor() {
    this._listeners = new Map(); // event name -> array of functions
  }

  // Adds a listener; returns a function that removes it.
  on(event, fn) {
    if (typeof fn !== 'function') {
      throw new TypeError(`listener for '${event}' must be a function`);
    }
    const list = this._listeners.get(event);
    if (list) {
      list.push(fn);
    } else {
      this._listeners.set(event, [fn]);
    }
    return () => this.off(event, fn);
  }

  // Adds a listener that runs once.
  once(event, fn) {
    const off = this.on(event, (...args) => {
      off();
      fn(...args);
    });
    return off;
  }

  // Removes one listener, or every listener of `event` when fn is omitted.
  off(event, fn) {
    const list = this._listeners.get(event);
    if (!list) {
      return;
    }
    if (fn === undefined) {
      this._listeners.delete(event);
      return;
    }
    const i = list.indexOf(fn);
    if (i >= 0) {
      list.splice(i, 1);
    }
    if (list.length === 0) {
      this._listeners.delete(event);
    }
  }

  // Calls every listener of `event` with `arg`. Returns whether there was one.
  emit(event, arg) {
    const list = this._listeners.get(event);
    if (!list) {
      return false;
    }
    for (const fn of list.slice()) {
      try {
        fn(arg);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return true;
  }

  listenerCount(event) {
    return this._listeners.get(event)?.length ?? 0;
  }
}
