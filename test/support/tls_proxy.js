// An HTTPS reverse proxy for the TLS tests of embedded replicas and remote connections:
//   node tls_proxy.js CERT_PEM KEY_PEM LISTEN_PORT TARGET_PORT
// listens on 127.0.0.1:LISTEN_PORT and forwards every request to http://127.0.0.1:TARGET_PORT
// (tursodb --sync-server or the Hrana test server); WebSocket upgrades (wss://) are passed
// through to the target as they are. Exits when its standard input closes, so it never outlives
// its test.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');

const [certFile, keyFile, listenPort, targetPort] = process.argv.slice(2);
const options = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };

const server = https.createServer(options, (req, res) => {
  const headers = { ...req.headers, host: `127.0.0.1:${targetPort}` };
  const upstream = http.request(
    { host: '127.0.0.1', port: Number(targetPort), method: req.method, path: req.url, headers },
    (reply) => {
      res.writeHead(reply.statusCode, reply.headers);
      reply.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${err.message}`);
  });
  req.pipe(upstream);
});
server.on('upgrade', (req, socket, head) => {
  const upstream = net.connect(Number(targetPort), '127.0.0.1', () => {
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(text + '\r\n');
    if (head && head.length) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});
server.on('tlsClientError', () => {}); // refused handshakes are what some tests expect
server.listen(Number(listenPort), '127.0.0.1');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
