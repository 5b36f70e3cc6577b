// herald-client: the JavaScript SDK of the Herald real-time messaging server (protocol v1).
// Browsers and Node 20+; no runtime dependency. See README.md for usage and index.d.ts for types.
export { Herald, State, VERSION } from './client.js';
export { Subscription, SubscriptionState } from './subscription.js';
export { ClientCode, Emitter, HeraldError } from './events.js';
export { Backoff, Retry, backoffCap, fullJitter, retryClass, resubscribeAfter } from './backoff.js';
export { DEFAULT_TRANSPORTS, TransportChain, buildTransports, endpointUrl } from './transports.js';
export { WebSocketTransport, webSocketTransport } from './websocket.js';
export { SseTransport, sseTransport } from './sse.js';
export { POLL_RETRY_DELAYS_MS, PollTransport, parsePollAnswer, pollTransport } from './poll.js';
