// A small HTTP proxy in front of the real server that behaves like the networks the fallback
// exists for: it refuses every WebSocket upgrade (403), and, with bufferStreams, holds back the
// body of an event stream until it ends (its head goes through at once), like a proxy that
// buffers responses. Plain requests and answers pass unchanged. Listens on 127.0.0.1:0.
import { createServer, request } from 'node:http';

export async function startProxy(targetPort, { bufferStreams = false } = {}) {
  const counts = { upgrades: 0, streams: 0, requests: 0 };
  const server = createServer((req, res) => {
    counts.requests++;
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method,
      path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      res.flushHeaders();
      const stream = String(answer.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (stream) {
        counts.streams++;
      }
      if (stream && bufferStreams) {
        const held = [];
        answer.on('data', (chunk) => held.push(chunk));
        answer.on('end', () => res.end(Buffer.concat(held)));
      } else {
        answer.pipe(res);
      }
    });
    upstream.on('error', () => res.destroy());
    // The client went away (an EventSource closed, a poll aborted): so does the upstream request.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket) => {
    counts.upgrades++;
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
