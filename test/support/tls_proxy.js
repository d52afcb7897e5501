// An HTTPS reverse proxy for the TLS tests of embedded replicas:
//   node tls_proxy.js CERT_PEM KEY_PEM LISTEN_PORT TARGET_PORT
// listens on 127.0.0.1:LISTEN_PORT and forwards every request to http://127.0.0.1:TARGET_PORT
// (tursodb --sync-server). Exits when its standard input closes, so it never outlives its test.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

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
server.on('tlsClientError', () => {}); // refused handshakes are what some tests expect
server.listen(Number(listenPort), '127.0.0.1');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
