'use strict';
// The reference server for bench/run.sh: the npm `ws` package (v8) serving the same two paths
// as herald, written the way the ws README writes them.
//   /chat  every message goes to every OTHER connected /chat client (not back to the sender)
//   /echo  every message is sent back with the same opcode
// Usage: node ws-server.js PORT   (PORT 0 picks a free port). First stdout line: "listening PORT".

const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 8081);
const host = process.argv[3] || '127.0.0.1';

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
});

// maxPayload matches herald's default max message size (16 MiB).
const options = { noServer: true, maxPayload: 16 * 1024 * 1024, perMessageDeflate: true };
const chat = new WebSocketServer(options);
const echo = new WebSocketServer(options);

chat.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    for (const client of chat.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
  });
});

echo.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?')[0];
  const target = path === '/chat' ? chat : path === '/echo' ? echo : null;
  if (target === null) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
});

function shutdown() {
  for (const wss of [chat, echo]) {
    for (const client of wss.clients) {
      client.close(1001, 'server shutting down');
    }
  }
  server.close();
  // Exit once every client has completed the close handshake; bounded at 2 s.
  setTimeout(() => process.exit(0), 2000).unref();
  setInterval(() => {
    if (chat.clients.size === 0 && echo.clients.size === 0) process.exit(0);
  }, 50);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(port, host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
