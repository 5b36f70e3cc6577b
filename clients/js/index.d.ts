// Type declarations of herald-client, the JavaScript SDK of the Herald server (protocol v1,
// docs/PROTOCOL.md). Written by hand to match src/; the field names of results are the
// protocol's own, except presenceStats() which is camelCase.

/** Any JSON value: what publications carry. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A place in a channel's stream: "I have every publication of this epoch up to offset". */
export interface Position {
  offset: number;
  epoch: string;
}

/** Who published, joined or left: user id (from the token; "" if anonymous), connection, info. */
export interface ClientInfo {
  user: string;
  client: string;
  info?: Json;
}

export interface Publication {
  channel: string;
  offset: number;
  epoch: string;
  data: Json;
  /** The publishing client; absent when a backend published through the server API. */
  info?: ClientInfo;
  /** When the server accepted it, Unix ms. */
  time?: number;
}

/** A publication as history() returns it (no channel field). */
export type HistoryPublication = Omit<Publication, 'channel'>;

/** Codes of causes on the client's side (0-99; the server uses 100-599 and 1000-4999). */
export declare const ClientCode: Readonly<{
  DISCONNECT_CALLED: 0;
  CONNECT_CALLED: 1;
  TIMEOUT: 2;
  TOKEN: 3;
  UNSUBSCRIBE_CALLED: 4;
  SUBSCRIBE_CALLED: 5;
  RESUBSCRIBE: 6;
  CONNECTION_CLOSED: 7;
  NOT_CONNECTED: 8;
  CONNECT_REFUSED: 9;
}>;

/** What rejected promises carry: a server error code (100-599) or a ClientCode. */
export declare class HeraldError extends Error {
  constructor(code: number, message: string, temporary?: boolean);
  readonly code: number;
  /** The same command may succeed if retried later. */
  readonly temporary: boolean;
  static fromReply(error: { code?: number; message?: string; temporary?: boolean }): HeraldError;
}

type Listener<T> = (event: T) => void;

/** A minimal event emitter; `on` returns a function that removes the listener. */
export declare class Emitter<Events extends object = Record<string, unknown>> {
  on<K extends keyof Events & string>(event: K, fn: Listener<Events[K]>): () => void;
  once<K extends keyof Events & string>(event: K, fn: Listener<Events[K]>): () => void;
  off<K extends keyof Events & string>(event: K, fn?: Listener<Events[K]>): void;
  emit<K extends keyof Events & string>(event: K, arg: Events[K]): boolean;
  listenerCount(event: keyof Events & string): number;
}

export type ClientState = 'disconnected' | 'connecting' | 'connected';
export declare const State: Readonly<{
  DISCONNECTED: 'disconnected';
  CONNECTING: 'connecting';
  CONNECTED: 'connected';
}>;

/** Why the state changed: a server disconnect code (1000-4999) or a ClientCode. */
export interface StateReason {
  code: number;
  reason: string;
}

/** The transports the SDK has, in the default fallback order. */
export type TransportName = 'websocket' | 'sse' | 'poll';

export interface ConnectedEvent {
  /** This connection's id. */
  client: string;
  /** The server's version. */
  version: string;
  /** Name of the transport in use: a TransportName, or the name of your own factory. */
  transport: TransportName | (string & {});
  /** The server URL of this connection, as given to the constructor (one of the list). */
  url: string | null;
  /** The server's keepalive interval in seconds. */
  ping: number;
  pong: boolean;
}

export type ClientErrorEvent =
  | { type: 'transport'; transport: string; error: Error | HeraldError }
  | { type: 'connect'; error: HeraldError }
  | { type: 'token'; error: unknown }
  | { type: 'protocol'; error: HeraldError };

export interface ClientEvents {
  connecting: StateReason;
  connected: ConnectedEvent;
  disconnected: StateReason;
  error: ClientErrorEvent;
  state: { state: ClientState } & Partial<StateReason> & Partial<ConnectedEvent>;
}

/** One connection attempt. See src/transports.js for the contract. */
export interface Transport {
  readonly name: string;
  /**
   * true: the connect command travels in the request that opens the transport (it is given to
   * open()), and onopen means the server answered it. Otherwise connect is sent after onopen.
   */
  readonly opensWithFrame?: boolean;
  /** first: the connect command's line, for a transport that opensWithFrame. */
  open(first?: string): void;
  send(text: string): void;
  close(): void;
  onopen: () => void;
  /** One frame: one or more '\n'-separated protocol lines ('' is a sign of life). */
  onmessage: (text: string) => void;
  onclose: (event: { code: number; reason: string }) => void;
}

/** What a factory's create() gets: the client's timers, for a transport that waits. */
export interface TransportContext {
  clock: Clock;
}

export interface TransportFactory {
  name: string;
  create(context?: TransportContext): Transport;
}

/** A transport of the SDK at an endpoint of its own (default: derived from the client's URL). */
export interface TransportSpec {
  transport: TransportName;
  url?: string;
}

/**
 * A WebSocket constructor with the browser's interface: the browser's own, Node 22's global one,
 * or `WebSocket` from npm `ws`. Typed loosely so that each of them fits as it is.
 */
export type WebSocketConstructor = new (url: string) => unknown;

/** An EventSource constructor: the browser's own, or `EventSource` from npm `eventsource`. */
export type EventSourceConstructor = new (url: string) => unknown;

/** A fetch function: the browser's or Node's own (typed loosely, as the SDK needs little). */
export type FetchFunction = (url: string, init?: any) => Promise<any>;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HeraldOptions {
  /** Connection token (a JWT your backend signs). */
  token?: string | null;
  /** Called for a token when there is none, and again after disconnect 4004 (token expired). */
  getToken?: (() => string | null | Promise<string | null>) | null;
  /** Connect data: your info in presence and join/leave when the token has no `info` claim. */
  data?: Json;
  /** Client name and version, for the server's logs. */
  name?: string;
  version?: string;
  /** WebSocket constructor; default globalThis.WebSocket (browsers, Node 22+). */
  websocket?: WebSocketConstructor;
  /** EventSource constructor; default globalThis.EventSource (browsers; npm eventsource). */
  eventsource?: EventSourceConstructor;
  /** fetch of the SSE and long-polling transports; default globalThis.fetch. */
  fetch?: FetchFunction;
  /**
   * Transports in fallback order; default ['websocket', 'sse', 'poll'] minus those this
   * environment cannot run. Tried in order while none has ever opened; then the client stays on
   * the one that opened.
   */
  transports?: Array<TransportName | TransportSpec | TransportFactory>;
  /** Backoff window of the first retry, ms (default 500). */
  minReconnectDelay?: number;
  /** Largest backoff window, ms (default 20000). */
  maxReconnectDelay?: number;
  /** Ms for the transport to open and for each command's reply (default 10000). */
  timeout?: number;
  /** Time source and timers (tests pass a fake one). */
  clock?: Clock;
  /** Jitter source, () => [0, 1) (default Math.random). */
  random?: () => number;
}

export interface PublishResult {
  offset: number;
  epoch: string;
}

export interface HistoryOptions {
  limit?: number;
  since?: Position;
  reverse?: boolean;
}

export interface HistoryResult {
  publications: HistoryPublication[];
  offset: number;
  epoch: string;
}

export interface PresenceResult {
  clients: Record<string, ClientInfo>;
}

export interface PresenceStats {
  numClients: number;
  numUsers: number;
}

export declare const VERSION: string;

export declare class Herald extends Emitter<ClientEvents> {
  /**
   * url: the server, e.g. 'https://example.com' (a path prefix is kept), or any transport's
   * endpoint, e.g. 'wss://example.com/connection/websocket'; relative in a page. Each transport's
   * endpoint is derived from it (endpointUrl()). null when every transport has its own URL.
   * Or the URLs of several nodes of one cluster: the client starts on the first, and each lost
   * connection or failed attempt moves it to the next one in turn, after the usual full-jitter
   * backoff delay; subscriptions recover their position on the new node.
   */
  constructor(url: string | null | string[], options?: HeraldOptions);
  /** The server URL (one of the constructor's) of the current connection while connected. */
  readonly url: string | null;
  readonly state: ClientState;
  /** This connection's id while connected, else null. */
  readonly clientId: string | null;
  /** The transport in use while connected ('websocket', 'sse', 'poll'), else null. */
  readonly transport: TransportName | (string & {}) | null;
  connect(): void;
  disconnect(): void;
  /** Resolves once connected; rejects if the client ends up disconnected first. */
  ready(): Promise<void>;
  setToken(token: string | null): void;
  newSubscription(channel: string, options?: SubscriptionOptions): Subscription;
  /** The subscription to `channel` (made if needed), subscribed. */
  subscribe(channel: string, options?: SubscriptionOptions): Subscription;
  getSubscription(channel: string): Subscription | null;
  subscriptions(): Subscription[];
  removeSubscription(sub: Subscription): void;
  publish(channel: string, data: Json,
    options?: { idempotencyKey?: string }): Promise<PublishResult>;
  history(channel: string, options?: HistoryOptions): Promise<HistoryResult>;
  presence(channel: string): Promise<PresenceResult>;
  presenceStats(channel: string): Promise<PresenceStats>;
}

export type SubscriptionStateName = 'unsubscribed' | 'subscribing' | 'subscribed';
export declare const SubscriptionState: Readonly<{
  UNSUBSCRIBED: 'unsubscribed';
  SUBSCRIBING: 'subscribing';
  SUBSCRIBED: 'subscribed';
}>;

export interface SubscriptionOptions {
  /** A position saved earlier: the first subscribe recovers from it. */
  since?: Position;
}

export interface SubscribedEvent {
  channel: string;
  /** The channel's position when the subscription started. */
  epoch: string;
  offset: number;
  /** The channel keeps history, so a reconnect can recover. */
  recoverable: boolean;
  /** Recovery was asked and every missed publication follows as `publication` events. */
  recovered: boolean;
  /** Recovery was asked. wasRecovering && !recovered: missed publications are gone; reload. */
  wasRecovering: boolean;
}

export interface SubscriptionEvents {
  /** code: a ClientCode, a disconnect code, or an unsubscribe code 2000-2499. */
  subscribing: StateReason;
  subscribed: SubscribedEvent;
  /** code: a ClientCode, an unsubscribe code 2500-2999, or an error code (100-599). */
  unsubscribed: StateReason;
  publication: Publication;
  join: { channel: string; info: ClientInfo };
  leave: { channel: string; info: ClientInfo };
  error:
    | { type: 'subscribe'; channel: string; error: HeraldError }
    | { type: 'gap'; channel: string; error: HeraldError };
  state: { state: SubscriptionStateName } & Partial<StateReason> & Partial<SubscribedEvent>;
}

export declare class Subscription extends Emitter<SubscriptionEvents> {
  readonly channel: string;
  readonly state: SubscriptionStateName;
  /** The last position delivered, or null before the first subscribe. */
  readonly position: Position | null;
  subscribe(): void;
  /** Stops receiving; the position is kept, so subscribe() again recovers from it. */
  unsubscribe(): void;
  publish(data: Json, options?: { idempotencyKey?: string }): Promise<PublishResult>;
  history(options?: HistoryOptions): Promise<HistoryResult>;
  presence(): Promise<PresenceResult>;
  presenceStats(): Promise<PresenceStats>;
}

export declare const Retry: Readonly<{
  NO: 'no';
  BACKOFF: 'backoff';
  LATER: 'later';
  NOW: 'now';
}>;
export type RetryClass = 'no' | 'backoff' | 'later' | 'now';

/** What a disconnect code asks of the client (reconnect: the disconnect push's flag). */
export declare function retryClass(code: number, reconnect?: boolean): RetryClass;
/** Whether an unsubscribe push code asks to subscribe again (2000-2499). */
export declare function resubscribeAfter(code: number): boolean;
/** min(max, min * 2^attempt). */
export declare function backoffCap(attempt: number, min: number, max: number): number;
/** A delay in [0, backoffCap(attempt, min, max)]. */
export declare function fullJitter(attempt: number, min: number, max: number,
  random: () => number): number;

export declare class Backoff {
  constructor(options?: { min?: number; max?: number; random?: () => number });
  readonly min: number;
  readonly max: number;
  attempt: number;
  next(retry?: RetryClass): number;
  reset(): void;
}

export declare class TransportChain {
  constructor(factories: TransportFactory[]);
  readonly current: TransportFactory;
  readonly locked: boolean;
  opened(): void;
  failed(): boolean;
}

/** The default fallback order. */
export declare const DEFAULT_TRANSPORTS: readonly TransportName[];

/** The endpoint of transport `name` on the server `url` names (see the Herald constructor). */
export declare function endpointUrl(url: string, name: TransportName): string;

/** The client's factory list from its URL and options (what the constructor does). */
export declare function buildTransports(url: string | null,
  options: Pick<HeraldOptions, 'transports' | 'websocket' | 'eventsource' | 'fetch'>):
  TransportFactory[];

export declare function webSocketTransport(url: string,
  WebSocketImpl?: WebSocketConstructor): TransportFactory;

/** SSE (bidirectional): url is the /connection/sse endpoint. */
export declare function sseTransport(url: string,
  options?: { EventSource?: EventSourceConstructor; fetch?: FetchFunction }): TransportFactory;

/** Long-polling: url is the /connection/poll endpoint. */
export declare function pollTransport(url: string,
  options?: { fetch?: FetchFunction }): TransportFactory;

/** Delays before the two retries of a failed poll, ms. */
export declare const POLL_RETRY_DELAYS_MS: readonly number[];

/** A poll answer: `{"cursor":M}` then protocol lines; null when the first line is no cursor. */
export declare function parsePollAnswer(body: string): { cursor: number; lines: string } | null;

export declare class WebSocketTransport implements Transport {
  constructor(url: string, WebSocketImpl: WebSocketConstructor);
  readonly name: string;
  open(): void;
  send(text: string): void;
  close(): void;
  onopen: () => void;
  onmessage: (text: string) => void;
  onclose: (event: { code: number; reason: string }) => void;
}

export declare class SseTransport implements Transport {
  constructor(url: string, EventSourceImpl: EventSourceConstructor, fetch: FetchFunction);
  readonly name: string;
  readonly opensWithFrame: true;
  /** The session id, from the connect result. */
  readonly session: string | null;
  open(first: string): void;
  send(text: string): void;
  close(): void;
  onopen: () => void;
  onmessage: (text: string) => void;
  onclose: (event: { code: number; reason: string }) => void;
}

export declare class PollTransport implements Transport {
  constructor(url: string, fetch: FetchFunction,
    clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>);
  readonly name: string;
  readonly opensWithFrame: true;
  readonly session: string | null;
  /** The cursor of the next poll. */
  readonly cursor: number;
  open(first: string): void;
  send(text: string): void;
  close(): void;
  onopen: () => void;
  onmessage: (text: string) => void;
  onclose: (event: { code: number; reason: string }) => void;
}
