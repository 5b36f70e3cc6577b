// The chat room page (/): rooms (the channels chat:<room>), a nickname kept in localStorage,
// messages with their sender and time, who is here, the recent history on entering a room, and
// the connection's state, all on the Herald JavaScript SDK that this server serves at /sdk/.
//
// What keeps the message list right across reconnects: every message is rendered at its channel
// offset and an offset is rendered once (the SDK also drops publications it delivered already),
// so a reconnect that recovers the missed publications, a history read that overlaps live
// publications, or a publish retried after a timeout (same idempotency key) never shows a message
// twice or leaves a hole. Messages being sent wait in a separate outbox until their publication
// comes back with its offset.
//
// Presence: the `chat` namespace has presence on, but join/leave pushes are off by default (they
// cost N^2/2 pushes to fill a room of N), so the page asks for the presence list every few seconds
// (less often in big rooms), and at once after a join or leave push when the server sends them.

import { ClientCode, Herald } from '/sdk/herald.js';

const DEFAULT_ROOMS = ['lobby', 'random', 'help'];
const HISTORY_PAGE = 50; // messages read on entering a room, and per "Show earlier"
const MAX_SEND_ATTEMPTS = 8; // a publish that keeps timing out is given up after this
const GROUP_MS = 5 * 60 * 1000; // consecutive messages of one sender within this share a header
const MAX_RENDERED = 600; // older messages leave the page (and "Show earlier" brings them back)

const $ = (id) => document.getElementById(id);
const el = {
  chat: $('chat'),
  status: $('status'),
  statusText: $('status-text'),
  nickForm: $('nick-form'),
  nick: $('nick'),
  rooms: $('rooms'),
  roomForm: $('room-form'),
  roomInput: $('room-input'),
  presence: $('presence'),
  presenceCount: $('presence-count'),
  roomTitle: $('room-title'),
  roomMeta: $('room-meta'),
  menuToggle: $('menu-toggle'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerAction: $('banner-action'),
  scroller: $('scroller'),
  earlier: $('earlier'),
  earlierButton: $('earlier-button'),
  roomStart: $('room-start'),
  messages: $('messages'),
  outbox: $('outbox'),
  jump: $('jump'),
  composer: $('composer'),
  text: $('text'),
};

// --- small helpers ---

const storage = {
  get(key, fallback) {
    try {
      const v = localStorage.getItem(key);
      return v === null ? fallback : JSON.parse(v);
    } catch {
      return fallback; // private mode, or a value written by someone else
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // storage full or disabled: the page still works, it just forgets
    }
  },
};

function randomId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function randomNick() {
  const a = ['Swift', 'Quiet', 'Bright', 'Clever', 'Brave', 'Calm', 'Lucky', 'Merry'];
  const b = ['Otter', 'Falcon', 'Lynx', 'Heron', 'Badger', 'Fox', 'Panda', 'Wren'];
  const pick = (list) => list[Math.floor(Math.random() * list.length)];
  return `${pick(a)} ${pick(b)}`;
}

function cleanRoom(name) {
  const room = String(name ?? '').trim().toLowerCase().replace(/^#/, '');
  return /^[a-z0-9_.-]{1,40}$/.test(room) ? room : null;
}

const channelOf = (room) => `chat:${room}`;

// Avatar colours, told apart at a glance; each keeps white text above 4.5:1.
const AVATAR_COLORS = ['#4f46e5', '#0f766e', '#b45309', '#15803d', '#be123c', '#0369a1',
  '#7c3aed', '#c2410c'];

// FNV-1a, then a finaliser so that short names spread over the few colours.
function colorOf(text) {
  let h = 0x811c9dc5;
  for (const ch of text) {
    h = Math.imul(h ^ ch.codePointAt(0), 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return AVATAR_COLORS[(h >>> 0) % AVATAR_COLORS.length];
}

function avatar(name) {
  const span = document.createElement('span');
  span.className = 'avatar';
  span.setAttribute('aria-hidden', 'true');
  span.textContent = (Array.from(name.trim())[0] ?? '?').toUpperCase();
  span.style.setProperty('--avatar', colorOf(name));
  return span;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long',
  day: 'numeric' });

function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

function dayLabel(ms) {
  const today = new Date();
  if (dayKey(ms) === dayKey(today.getTime())) {
    return 'Today';
  }
  if (dayKey(ms) === dayKey(today.getTime() - 86400000)) {
    return 'Yesterday';
  }
  return dayFormat.format(new Date(ms));
}

// What a publication says, whoever published it: this page sends {text, nick, from, id}; a
// backend may publish through the server API with any JSON.
function readMessage(pub) {
  const d = pub.data;
  const isObject = d !== null && typeof d === 'object' && !Array.isArray(d);
  let text;
  if (typeof d === 'string') {
    text = d;
  } else if (isObject && typeof d.text === 'string') {
    text = d.text;
  } else {
    text = JSON.stringify(d);
  }
  let nick = isObject && typeof d.nick === 'string' && d.nick.trim() ? d.nick.trim() : '';
  if (!nick) {
    nick = pub.info ? (pub.info.info?.nick || pub.info.user || 'anonymous') : 'Herald';
  }
  return {
    text,
    nick: nick.slice(0, 32),
    from: isObject && typeof d.from === 'string' ? d.from : '',
    id: isObject && typeof d.id === 'string' ? d.id : '',
    viaApi: !pub.info,
    time: Number.isFinite(pub.time) ? pub.time : Date.now(),
  };
}

// --- state ---

const me = storage.get('herald.me', null) ?? randomId(); // this browser, across its tabs
storage.set('herald.me', me);

const state = {
  nick: String(storage.get('herald.nick', '') || randomNick()).slice(0, 32),
  rooms: [...new Set([...DEFAULT_ROOMS, ...storage.get('herald.rooms', [])])].filter(cleanRoom),
  room: null,
  client: null,
  sub: null,
  subClient: null, // the client that made `sub`
  epoch: '', // the epoch of the rendered messages
  order: [], // rendered offsets, ascending
  byOffset: new Map(), // offset -> {li, msg}
  pending: new Map(), // message id -> outbox entry
  presenceTimer: null,
  presenceSize: 0,
  presenceSignature: '',
  loadingEarlier: false,
};

// --- connection ---

// The SDK falls back from one transport to the next while none has opened. Ask for every
// transport this SDK has; one without the HTTP transports refuses their names, and then
// WebSocket alone is what there is.
function newClient() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/connection/websocket`;
  const options = { data: { nick: state.nick }, name: 'herald-chat-page' };
  for (const transports of [['websocket', 'sse', 'poll'], ['websocket']]) {
    try {
      return new Herald(url, { ...options, transports });
    } catch (err) {
      if (!(err instanceof TypeError)) {
        throw err;
      }
    }
  }
  return new Herald(url, options);
}

function startClient() {
  const client = newClient();
  state.client = client;
  const mine = (fn) => (e) => {
    if (client === state.client) {
      fn(e);
    }
  };
  client.on('connecting', mine((e) => {
    showStatus(e.code === ClientCode.CONNECT_CALLED ? 'connecting' : 'reconnecting', e);
  }));
  client.on('connected', mine((e) => showStatus('connected', e)));
  client.on('disconnected', mine((e) => showStatus('disconnected', e)));
  client.connect();
  return client;
}

function showStatus(s, e = {}) {
  el.status.dataset.state = s;
  const labels = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    disconnected: 'Offline',
  };
  el.statusText.textContent = labels[s];
  el.status.title = s === 'connected' ? `Connected over ${e.transport}` : '';
  if (s === 'reconnecting') {
    showBanner('Connection lost. Reconnecting… Messages you send now go out once it is back.');
  } else if (s === 'disconnected') {
    const why = e.reason ? `: ${e.reason}` : '';
    showBanner(`Disconnected${why}.`, { bad: true, action: 'Reconnect' });
  } else if (s === 'connected' && !el.banner.classList.contains('sticky')) {
    hideBanner();
  }
}

function showBanner(text, { bad = false, action = null, sticky = false } = {}) {
  el.bannerText.textContent = text;
  el.banner.classList.toggle('bad', bad);
  el.banner.classList.toggle('sticky', sticky);
  el.bannerAction.hidden = action === null;
  el.bannerAction.textContent = action ?? '';
  el.banner.hidden = false;
}

function hideBanner() {
  el.banner.hidden = true;
  el.banner.classList.remove('sticky');
}

el.bannerAction.addEventListener('click', () => {
  hideBanner();
  state.client.connect();
});

// --- rooms ---

function renderRooms() {
  el.rooms.replaceChildren(...state.rooms.map((room) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `#${room}`;
    a.textContent = room;
    if (room === state.room) {
      a.setAttribute('aria-current', 'true');
    }
    li.append(a);
    return li;
  }));
}

function rememberRoom(room) {
  if (!state.rooms.includes(room)) {
    state.rooms.push(room);
    storage.set('herald.rooms', state.rooms.filter((r) => !DEFAULT_ROOMS.includes(r)).slice(-12));
  }
  storage.set('herald.room', room);
}

// Leaves the current room (if any) and enters `room`. keep: the same room with a new client (a
// nickname change): the messages stay and the subscription recovers from their position.
function enterRoom(room, { keep = false } = {}) {
  const since = keep && state.sub ? state.sub.position : null;
  if (state.sub) {
    const old = state.sub;
    state.sub = null;
    if (state.subClient === state.client) {
      state.client.removeSubscription(old);
    } // else it belongs to a client being replaced, which takes it along when it disconnects
  }
  stopPresence();
  if (!keep) {
    clearMessages();
    for (const entry of state.pending.values()) {
      if (entry.room !== room) {
        dropPending(entry);
      }
    }
  }
  state.room = room;
  rememberRoom(room);
  renderRooms();
  el.roomTitle.textContent = `# ${room}`;
  el.text.placeholder = `Message #${room}`;
  document.title = `#${room} · Herald chat`;
  el.roomMeta.textContent = '';
  renderPresence({});
  el.chat.classList.remove('menu-open');
  el.menuToggle.setAttribute('aria-expanded', 'false');

  const sub = state.client.newSubscription(channelOf(room), since ? { since } : {});
  state.sub = sub;
  state.subClient = state.client;
  const mine = (fn) => (e) => {
    if (sub === state.sub) {
      fn(e);
    }
  };
  sub.on('subscribed', mine((e) => onSubscribed(sub, e)));
  sub.on('subscribing', mine(() => stopPresence()));
  sub.on('publication', mine((pub) => onPublication(pub)));
  sub.on('join', mine(() => refreshPresenceSoon()));
  sub.on('leave', mine(() => refreshPresenceSoon()));
  sub.on('unsubscribed', mine((e) => {
    stopPresence();
    if (e.code >= 100) {
      showBanner(`Cannot open #${room}: ${e.reason} (${e.code}).`, { bad: true, sticky: true });
    }
  }));
  sub.subscribe();
}

function onSubscribed(sub, e) {
  if (!e.wasRecovering) {
    state.epoch = e.epoch;
    loadLatest(sub);
  } else if (!e.recovered) {
    // The server could not give back what was missed (its history was lost or is shorter
    // than the outage): start again from what it has now.
    clearMessages();
    state.epoch = e.epoch;
    showBanner('Some messages could not be recovered; showing the latest ones.',
      { sticky: true });
    setTimeout(() => {
      if (el.banner.classList.contains('sticky')) {
        hideBanner();
      }
    }, 6000);
    loadLatest(sub);
  }
  refreshPresence();
}

async function loadLatest(sub) {
  let result;
  try {
    result = await sub.history({ limit: HISTORY_PAGE, reverse: true });
  } catch (err) {
    if (sub === state.sub) {
      el.roomStart.hidden = false;
      el.roomStart.textContent = err.code === 119 ? `#${state.room} keeps no history.`
        : `Could not load the history: ${err.message}`;
    }
    return;
  }
  if (sub !== state.sub || result.epoch !== state.epoch) {
    return; // another room, or the channel started a new epoch meanwhile (a resubscribe follows)
  }
  for (const pub of result.publications) {
    renderMessage(pub, { history: true });
  }
  updateStart(result.publications.length < HISTORY_PAGE);
  scrollToBottom();
}

async function loadEarlier() {
  const sub = state.sub;
  if (!sub || state.loadingEarlier || state.order.length === 0) {
    return;
  }
  state.loadingEarlier = true;
  el.earlierButton.disabled = true;
  try {
    const result = await sub.history({ since: { offset: state.order[0], epoch: state.epoch },
      limit: HISTORY_PAGE, reverse: true });
    if (sub === state.sub && result.epoch === state.epoch) {
      const before = el.scroller.scrollHeight;
      for (const pub of result.publications) {
        renderMessage(pub, { history: true });
      }
      el.scroller.scrollTop += el.scroller.scrollHeight - before; // keep what was in view
      updateStart(result.publications.length < HISTORY_PAGE);
    }
  } catch (err) {
    showBanner(`Could not load earlier messages: ${err.message}`, { bad: true, sticky: true });
  } finally {
    state.loadingEarlier = false;
    el.earlierButton.disabled = false;
  }
}

// Whether the first message of the room is rendered: then say so, else offer earlier ones.
function updateStart(complete) {
  const atStart = complete || state.order.length === 0 || state.order[0] <= 1;
  el.earlier.hidden = atStart;
  el.roomStart.hidden = !atStart;
  el.roomStart.textContent = `This is the start of #${state.room}. Say hello!`;
}

// --- messages ---

function clearMessages() {
  state.order = [];
  state.byOffset.clear();
  state.epoch = '';
  el.messages.replaceChildren();
  el.earlier.hidden = true;
  el.roomStart.hidden = true;
  el.jump.hidden = true;
}

function onPublication(pub) {
  const msg = renderMessage(pub);
  if (msg && msg.id && state.pending.has(msg.id)) {
    dropPending(state.pending.get(msg.id));
  }
}

// Renders one publication at its offset, once. Returns what it says, or null if it was shown
// already (or belongs to another epoch than the list).
function renderMessage(pub, { history = false } = {}) {
  if (!Number.isSafeInteger(pub.offset) || state.byOffset.has(pub.offset)) {
    return null;
  }
  if (state.epoch && pub.epoch !== state.epoch) {
    return null;
  }
  const msg = readMessage(pub);
  const li = document.createElement('li');
  li.className = 'msg';
  li.dataset.offset = String(pub.offset);
  if (msg.from && msg.from === me) {
    li.classList.add('own');
  }
  const meta = document.createElement('div');
  meta.className = 'meta';
  const nick = document.createElement('span');
  nick.className = 'nick';
  nick.textContent = msg.nick;
  const time = document.createElement('time');
  time.dateTime = new Date(msg.time).toISOString();
  time.title = fullFormat.format(new Date(msg.time));
  time.textContent = timeFormat.format(new Date(msg.time));
  meta.append(nick, time);
  if (msg.viaApi) {
    const note = document.createElement('span');
    note.className = 'note';
    note.textContent = 'via the server API';
    meta.append(note);
  }
  const text = document.createElement('p');
  text.className = 'text';
  text.textContent = msg.text;
  li.append(avatar(msg.nick), meta, text);

  const stick = isNearBottom();
  // Binary search for the place; live messages land at the end, history pages at the start.
  let lo = 0;
  let hi = state.order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (state.order[mid] < pub.offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const next = lo < state.order.length ? state.byOffset.get(state.order[lo]).li : null;
  el.messages.insertBefore(li, next);
  state.order.splice(lo, 0, pub.offset);
  state.byOffset.set(pub.offset, { li, msg });
  decorate(lo);
  if (lo + 1 < state.order.length) {
    decorate(lo + 1);
  }
  if (!history && next === null) {
    trimOldest();
    if (stick || li.classList.contains('own')) {
      scrollToBottom();
    } else {
      el.jump.hidden = false;
    }
  }
  return msg;
}

// A tab left open in a busy room keeps the newest MAX_RENDERED messages.
function trimOldest() {
  if (state.order.length <= MAX_RENDERED) {
    return;
  }
  while (state.order.length > MAX_RENDERED) {
    const offset = state.order.shift();
    state.byOffset.get(offset).li.remove();
    state.byOffset.delete(offset);
  }
  decorate(0);
  updateStart(false);
}

// Sets the day separator and the "same sender as above" grouping of the message at `index`.
function decorate(index) {
  const { li, msg } = state.byOffset.get(state.order[index]);
  const prev = index > 0 ? state.byOffset.get(state.order[index - 1]).msg : null;
  const newDay = !prev || dayKey(prev.time) !== dayKey(msg.time);
  let day = li.querySelector(':scope > .day');
  if (newDay && !day) {
    day = document.createElement('div');
    day.className = 'day';
    li.prepend(day);
  } else if (!newDay && day) {
    day.remove();
  }
  if (day) {
    day.textContent = dayLabel(msg.time);
  }
  const cont = !newDay && prev.nick === msg.nick && prev.from === msg.from &&
    msg.time - prev.time < GROUP_MS;
  li.classList.toggle('cont', cont);
}

function isNearBottom() {
  const s = el.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
  el.jump.hidden = true;
}

el.scroller.addEventListener('scroll', () => {
  if (isNearBottom()) {
    el.jump.hidden = true;
  }
});
el.jump.addEventListener('click', scrollToBottom);
el.earlierButton.addEventListener('click', loadEarlier);

// --- sending ---

function send(text) {
  const entry = { id: randomId(), room: state.room, text, attempts: 0, li: null, note: null };
  const li = document.createElement('li');
  li.className = 'msg own pending';
  li.dataset.pending = entry.id;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const nick = document.createElement('span');
  nick.className = 'nick';
  nick.textContent = state.nick;
  entry.note = document.createElement('span');
  entry.note.className = 'note';
  meta.append(nick, entry.note);
  const p = document.createElement('p');
  p.className = 'text';
  p.textContent = text;
  li.append(avatar(state.nick), meta, p);
  entry.li = li;
  state.pending.set(entry.id, entry);
  el.outbox.append(li);
  scrollToBottom();
  publish(entry);
}

function setNote(entry, text, retry = false) {
  entry.note.replaceChildren(text);
  if (retry) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Retry';
    b.addEventListener('click', () => {
      entry.li.classList.remove('failed');
      entry.attempts = 0;
      publish(entry);
    });
    entry.note.append(' ', b);
  }
}

// Publishes an outbox entry with its id as the idempotency key, so that a retry after a timeout
// (when the first try may have gone through) publishes it once.
async function publish(entry) {
  const client = state.client;
  entry.attempts += 1;
  setNote(entry, client.state === 'connected' ? 'sending…' : 'waiting for the connection…');
  try {
    await client.publish(channelOf(entry.room),
      { text: entry.text, nick: state.nick, from: me, id: entry.id },
      { idempotencyKey: entry.id });
    if (state.pending.has(entry.id)) {
      setNote(entry, 'sent'); // its publication is on its way
    }
  } catch (err) {
    if (!state.pending.has(entry.id)) {
      return;
    }
    if (client !== state.client || (err.temporary && entry.attempts < MAX_SEND_ATTEMPTS)) {
      setNote(entry, 'waiting for the connection…');
      try {
        await state.client.ready();
      } catch {
        // disconnected for good: fall through to "not sent"
      }
      if (state.pending.has(entry.id) && state.client.state === 'connected') {
        publish(entry);
        return;
      }
    }
    entry.li.classList.add('failed');
    setNote(entry, `Not sent: ${err.message}.`, true);
  }
}

function dropPending(entry) {
  state.pending.delete(entry.id);
  entry.li.remove();
}

el.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = el.text.value.trim();
  if (text && state.room) {
    send(text);
    el.text.value = '';
  }
  el.text.focus();
});

// --- presence ---

function stopPresence() {
  clearTimeout(state.presenceTimer);
  state.presenceTimer = null;
}

// Polled: every 2 s in a small room, up to every 30 s in a room of hundreds.
function schedulePresence() {
  stopPresence();
  const every = Math.min(30000, Math.max(2000, state.presenceSize * 50));
  state.presenceTimer = setTimeout(refreshPresence, every);
}

function refreshPresenceSoon() {
  stopPresence();
  state.presenceTimer = setTimeout(refreshPresence, 150);
}

async function refreshPresence() {
  const sub = state.sub;
  if (!sub || sub.state !== 'subscribed') {
    return;
  }
  stopPresence();
  try {
    const result = await sub.presence();
    if (sub === state.sub) {
      renderPresence(result.clients ?? {});
    }
  } catch (err) {
    if (err.code === 119 && sub === state.sub) {
      el.roomMeta.textContent = 'presence is off in this room';
      return; // the namespace has no presence: nothing to poll
    }
  }
  if (sub === state.sub && sub.state === 'subscribed') {
    schedulePresence();
  }
}

function renderPresence(clients) {
  const people = new Map(); // nickname -> {connections, you}
  const myId = state.client?.clientId;
  for (const [id, c] of Object.entries(clients)) {
    const name = String(c?.info?.nick || c?.user || 'anonymous').slice(0, 32);
    const p = people.get(name) ?? { name, connections: 0, you: false };
    p.connections += 1;
    p.you ||= id === myId;
    people.set(name, p);
  }
  const list = [...people.values()].sort((a, b) =>
    (b.you - a.you) || a.name.localeCompare(b.name));
  state.presenceSize = Object.keys(clients).length;
  // Only a change is written (the list is a live region: a screen reader reads what changes).
  const signature = JSON.stringify(list);
  if (signature === state.presenceSignature) {
    return;
  }
  state.presenceSignature = signature;
  el.presence.replaceChildren(...list.map((p) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;
    li.append(avatar(p.name), name);
    if (p.you) {
      const you = document.createElement('span');
      you.className = 'you';
      you.textContent = '(you)';
      li.append(you);
    }
    const dot = document.createElement('span');
    dot.className = 'online';
    dot.title = p.connections > 1 ? `${p.connections} connections` : 'online';
    li.append(dot);
    return li;
  }));
  el.presenceCount.textContent = String(list.length);
  el.roomMeta.textContent = list.length === 1 ? '1 person here' : `${list.length} people here`;
}

// --- nickname, rooms, menu ---

el.nick.value = state.nick;
el.nickForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const nick = el.nick.value.trim().slice(0, 32);
  if (!nick) {
    el.nick.value = state.nick;
    return;
  }
  storage.set('herald.nick', nick);
  if (nick === state.nick) {
    return;
  }
  state.nick = nick;
  // The nickname is the connection's presence info, given at connect: connect again with it.
  // The room's subscription recovers from its position, so no message is missed or repeated.
  const old = state.client;
  const room = state.room;
  startClient();
  enterRoom(room, { keep: true });
  old.disconnect();
  el.text.focus();
});

el.roomForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const room = cleanRoom(el.roomInput.value);
  if (!room) {
    el.roomInput.setCustomValidity('Use letters, digits, _ . or - (at most 40).');
    el.roomInput.reportValidity();
    return;
  }
  el.roomInput.value = '';
  location.hash = room;
});
el.roomInput.addEventListener('input', () => el.roomInput.setCustomValidity(''));

el.menuToggle.addEventListener('click', () => {
  const open = el.chat.classList.toggle('menu-open');
  el.menuToggle.setAttribute('aria-expanded', String(open));
});

function roomFromHash() {
  return cleanRoom(decodeURIComponent(location.hash.slice(1)));
}

window.addEventListener('hashchange', () => {
  const room = roomFromHash();
  if (room && room !== state.room) {
    enterRoom(room);
  }
});

// --- start ---

storage.set('herald.nick', state.nick);
startClient();
enterRoom(roomFromHash() ?? cleanRoom(storage.get('herald.room', '')) ?? DEFAULT_ROOMS[0]);
el.text.focus();

// For a look from the browser's console; the page does not depend on it.
window.heraldChat = { get client() { return state.client; }, state };
