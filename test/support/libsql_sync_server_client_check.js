// Checks the libSQL sync test server (libsql_sync_server.js) against the real client: npm libsql
// 0.5.29 embedded replicas (the libsql crate 0.9.30), over HTTP sync (--mode both) and over the
// gRPC-web replication log (--mode grpc): bootstrap of 10,000 rows, pulls, forwarded writes, a new
// generation / a snapshot, offline writes pushed (with batons), pushes and pulls cut off, the
// server dying and restarting, conflicts, wrong tokens. Writes "through the server" come from
// @libsql/client (Hrana on the same URL).
//
//   NODE_PATH=_build/peers/node_modules node test/support/libsql_sync_server_client_check.js
//             [--sequences]   (also prints the requests npm libsql sent for each step)
//
// Exits non-zero on the first failed check; prints the number of checks passed.
"use strict";
// npm libsql logs (to stderr) the errors the faults below cause on purpose; RUST_LOG=error shows
// them again.
if (!process.env.RUST_LOG) process.env.RUST_LOG = "off";
const { spawn } = require("child_process");
const path = require("path");
const os = require("os");
const fs = require("fs");
const assert = require("assert");
const crypto = require("crypto");
const Database = require("libsql");
const { createClient } = require("@libsql/client");

const printSequences = process.argv.includes("--sequences");
const TOKEN = "sync-secret";
const ROWS = 10000;
let checks = 0;
const surprises = new Set(); // what npm libsql does that one might not expect, seen by the checks

function check(condition, what) {
  assert.ok(condition, what);
  checks++;
}
function checkEqual(actual, expected, what) {
  assert.deepStrictEqual(actual, expected, what);
  checks++;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "libsql-sync-check-"));
const children = new Set();

class Server {
  constructor(name, args) {
    this.name = name;
    this.db = path.join(tmp, name + ".db");
    this.args = args;
    this.port = 0;
  }

  start() {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [path.join(__dirname, "libsql_sync_server.js"), "--db", this.db, "--port", String(this.port), ...this.args],
        { stdio: ["pipe", "pipe", "inherit"] },
      );
      children.add(child);
      this.child = child;
      child.once("exit", () => children.delete(child));
      child.stdout.once("data", (d) => {
        const m = /listening (\d+)/.exec(d.toString());
        if (!m) return reject(new Error("unexpected output " + d));
        this.port = Number(m[1]);
        this.url = `http://127.0.0.1:${this.port}`;
        resolve(this);
      });
      child.once("exit", (code) => reject(new Error(`${this.name} server exited ${code}`)));
    });
  }

  // Resolves once the process has gone (after a fault with "action": "exit").
  exited() {
    return new Promise((resolve) => (this.child.exitCode !== null || this.child.signalCode ? resolve() : this.child.once("exit", resolve)));
  }

  stop() {
    this.child.kill();
    return this.exited();
  }

  async debug(route, method = "GET", body) {
    const res = await fetch(this.url + route, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  exec(sql, args) {
    return this.debug("/debug/exec", "POST", { sql, args });
  }

  stats() {
    return this.debug("/debug/stats");
  }

  fault(spec) {
    return this.debug("/debug/fault", "POST", spec);
  }

  // The requests since the last call, as "METHOD path status", and clears the log.
  async requests(step) {
    const log = await this.debug("/debug/requests");
    await this.debug("/debug/requests", "DELETE");
    const lines = log.map((e) => `${e.method} ${e.path} ${e.status}${e.grpc_status ? " grpc-status " + e.grpc_status : ""}${e.cut ? " (cut)" : ""}`);
    if (printSequences && step) console.log(`-- ${this.name}: ${step}\n   ${lines.join("\n   ")}`);
    return lines;
  }
}

// Rows of a table on a replica (all(): npm libsql's get() leaves its statement open, and on a v1
// replica that pins the connection's snapshot across sync()).
function rowsOf(db, sql) {
  return db.prepare(sql).raw(true).all();
}

function digest(rows) {
  const h = crypto.createHash("sha256");
  for (const row of rows) {
    for (const v of row) {
      if (v === null) h.update("n");
      else if (typeof v === "object") h.update("b" + Buffer.from(v).toString("hex"));
      else h.update(typeof v + String(v));
      h.update("|");
    }
    h.update("\n");
  }
  return h.digest("hex");
}

const ITEMS = "SELECT id, name, hex(payload) FROM items ORDER BY id";

async function serverDigest(server) {
  return digest((await server.exec(ITEMS)).rows);
}

function replica(file, url, extra = {}) {
  return new Database(path.join(tmp, file), { syncUrl: url, authToken: TOKEN, ...extra });
}

function fileSize(file) {
  const p = path.join(tmp, file);
  return fs.statSync(p).size + (fs.existsSync(p + "-wal") ? fs.statSync(p + "-wal").size : 0);
}

// integrity_check of a replica's file, on a plain connection: on a replica, npm libsql sends
// PRAGMA statements to the server. The replica stays open, so closing this connection does not
// checkpoint its WAL.
function integrityOk(file) {
  const db = new Database(path.join(tmp, file));
  try {
    return rowsOf(db, "PRAGMA integrity_check")[0][0] === "ok";
  } finally {
    db.close();
  }
}

async function seed(server) {
  const client = createClient({ url: server.url, authToken: TOKEN });
  await client.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL)");
  await client.execute(
    `INSERT INTO items(name, payload) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) ` +
      "SELECT 'item ' || i, randomblob(400) FROM c",
  );
  const n = (await client.execute("SELECT count(*) AS n FROM items")).rows[0].n;
  checkEqual(Number(n), ROWS, "rows seeded through @libsql/client");
  return client;
}

// ---------------------------------------------------------------------------------------------
async function httpSync() {
  const server = await new Server("http-sync", ["--token", TOKEN]).start();
  const client = await seed(server);
  await server.requests();
  const seeded = await server.stats();
  check(seeded.frames > 1000, `the seed is over 1,000 frames of generation 1 (${seeded.frames})`);

  // Bootstrap: /info answered, so the crate speaks HTTP sync; generation 1 is pulled frame by
  // frame (128 a request).
  const a = replica("a.db", server.url);
  a.sync();
  checkEqual(digest(rowsOf(a, ITEMS)), await serverDigest(server), "replica a holds the 10,000 rows of the server");
  check(integrityOk("a.db"), "replica a passes integrity_check");
  check(fileSize("a.db") > 4 * 1024 * 1024, "replica a is several MB");
  let seq = await server.requests("open + sync() of a new replica (generation 1 with frames)");
  checkEqual(seq.slice(0, 4), ["GET /info 200", "GET /info 200", "GET /export/1 200", "GET /sync/1/1/129 200"], "bootstrap sequence");
  checkEqual(seq[seq.length - 1], `GET /sync/1/${seeded.frames + 1}/${seeded.frames + 129} 400`, "pull ends at the end of the log");
  let info = JSON.parse(fs.readFileSync(path.join(tmp, "a.db-info"), "utf8"));
  checkEqual([info.generation, info.durable_frame_num], [1, seeded.frames], "a.db-info holds the generation and last frame");

  // A write through the server, then a pull.
  await client.execute({ sql: "INSERT INTO items(name, payload) VALUES (?, x'01')", args: ["remote write"] });
  await server.requests();
  a.sync();
  checkEqual(rowsOf(a, "SELECT name FROM items WHERE name = 'remote write'").length, 1, "a pulls a write made through the server");
  await server.requests("sync() after one remote write");

  // A write from the replica goes to the server (Hrana) and is pulled back at once.
  a.prepare("INSERT INTO items(name, payload) VALUES (?, x'02')").run("written by a");
  checkEqual(rowsOf(a, "SELECT count(*) FROM items WHERE name = 'written by a'")[0][0], 1, "a reads its own write (read-your-writes)");
  checkEqual((await server.exec("SELECT count(*) FROM items WHERE name = 'written by a'")).rows[0][0], 1, "a's write reached the server");
  seq = await server.requests("a write on a replica (forwarded, then pulled)");
  checkEqual(seq[0], "POST /v3/pipeline 200", "writes are forwarded as Hrana over /v3/pipeline");
  a.exec("BEGIN");
  a.exec("INSERT INTO items(name, payload) VALUES ('in a transaction', x'04')");
  checkEqual(rowsOf(a, "SELECT count(*) FROM items WHERE name = 'in a transaction'")[0][0], 1, "a read inside a's transaction runs on the server");
  a.exec("COMMIT");
  seq = await server.requests("BEGIN, INSERT, SELECT, COMMIT on a replica");
  check(seq.includes("POST /v3/cursor 200"), "the read inside the transaction went to the server");
  const b = replica("b.db", server.url);
  b.sync();
  checkEqual(digest(rowsOf(b, ITEMS)), await serverDigest(server), "a fresh replica b sees a's writes");
  await server.requests();

  // A new generation: a follows it (checkpoint, then generation 2 from frame 1); a fresh replica
  // bootstraps from the export of generation 2.
  checkEqual((await server.debug("/debug/new-generation", "POST")).generation, 2, "new generation 2");
  await client.execute("INSERT INTO items(name, payload) VALUES ('in generation 2', x'03')");
  await server.requests();
  a.sync();
  checkEqual(rowsOf(a, "SELECT count(*) FROM items WHERE name = 'in generation 2'")[0][0], 1, "a follows the server into generation 2");
  info = JSON.parse(fs.readFileSync(path.join(tmp, "a.db-info"), "utf8"));
  checkEqual([info.generation, info.durable_frame_num], [2, 1], "a.db-info moved to generation 2");
  seq = await server.requests("sync() across a new generation");
  check(seq.includes("GET /sync/2/1/129 200"), "a pulled generation 2 from its first frame");
  const c = replica("c.db", server.url);
  c.sync();
  checkEqual(digest(rowsOf(c, ITEMS)), await serverDigest(server), "a fresh replica c bootstraps generation 2");
  seq = await server.requests("open + sync() of a new replica (generation 2)");
  checkEqual(seq.slice(0, 3), ["GET /info 200", "GET /info 200", "GET /export/2 200"], "c bootstrapped from the export of generation 2");
  check(integrityOk("c.db"), "replica c passes integrity_check");
  await server.requests();
  rowsOf(c, "PRAGMA integrity_check");
  seq = await server.requests("PRAGMA integrity_check on a replica");
  check(seq[0] === "POST /v3/pipeline 200", "npm libsql sends a replica's PRAGMA to the server");
  surprises.add("on a replica, PRAGMA statements (integrity_check too) and reads inside a transaction run on the server");

  // Offline writes: local transactions pushed as WAL frames; one spans three pushes (a baton).
  const o = replica("o.db", server.url, { offline: true });
  seq = await server.requests("open of an offline replica");
  checkEqual(seq, ["GET /info 200", "GET /export/2 200"], "an offline replica bootstraps when opened");
  o.sync();
  await server.requests("first sync() of the offline replica (pull)");
  o.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
  o.prepare("INSERT INTO notes(body) VALUES (?)").run("offline 1");
  o.prepare("INSERT INTO notes(body) VALUES (?)").run("offline 2");
  o.transaction(() => {
    const ins = o.prepare("INSERT INTO items(name, payload) VALUES (?, randomblob(3000))");
    for (let i = 0; i < 300; i++) ins.run(`offline big ${i}`);
  })();
  o.sync();
  seq = await server.requests("sync() pushing 4 local transactions, one of about 300 frames");
  check(seq.length >= 3 && seq.every((l) => /^POST \/sync\/2\/\d+\/\d+(\/\w+)? 200$/.test(l)), "offline writes are pushed with POST /sync");
  check(seq.some((l) => /^POST \/sync\/2\/\d+\/\d+\/\w+ 200$/.test(l)), "a transaction over 128 frames is pushed under a baton");
  checkEqual((await server.exec("SELECT body FROM notes ORDER BY id")).rows, [["offline 1"], ["offline 2"]], "the server holds the offline rows");
  checkEqual((await server.exec("SELECT count(*) FROM items WHERE name LIKE 'offline big %'")).rows[0][0], 300, "the server holds the big transaction");
  let stats = await server.stats();
  info = JSON.parse(fs.readFileSync(path.join(tmp, "o.db-info"), "utf8"));
  checkEqual(info.durable_frame_num, stats.frames, "the offline replica's durable frame is the server's last");
  const d = replica("d.db", server.url);
  d.sync();
  checkEqual(digest(rowsOf(d, ITEMS)), await serverDigest(server), "a fresh replica d sees the pushed rows");
  checkEqual(rowsOf(d, "SELECT body FROM notes ORDER BY id"), [["offline 1"], ["offline 2"]], "and the pushed table");
  a.sync();
  checkEqual(digest(rowsOf(a, ITEMS)), await serverDigest(server), "replica a pulls the pushed frames");
  await client.execute("INSERT INTO notes(body) VALUES ('from the server')");
  o.sync();
  checkEqual(rowsOf(o, "SELECT body FROM notes ORDER BY id").length, 3, "the offline replica pulls a write made through the server");
  await server.requests();

  // A push cut off while the server reads it: nothing applied; npm libsql's sync() returns
  // without an error (a connection error during a push is swallowed) and the next one pushes.
  const notes = async () => (await server.exec("SELECT body FROM notes ORDER BY id")).rows.map((r) => r[0]);
  o.prepare("INSERT INTO notes(body) VALUES (?)").run("cut request");
  await server.fault({ method: "POST", path: "/sync/", request_bytes: 1000 });
  const cut = o.sync();
  checkEqual(cut.frames_synced, 0, "sync() with its push cut off reports no frames (no error)");
  surprises.add("offline: a connection error during a push is swallowed; sync() answers {frames_synced: 0}");
  check(!(await notes()).includes("cut request"), "a push cut off while read is not applied");
  o.sync();
  checkEqual((await notes()).filter((n) => n === "cut request").length, 1, "the next sync() pushes it once");
  seq = await server.requests("a push cut off while sent, then the next sync()");

  // The answer to a push lost after the server applied it: the re-push is a replay.
  const before = (await server.stats()).push_replays;
  o.prepare("INSERT INTO notes(body) VALUES (?)").run("lost answer");
  await server.fault({ method: "POST", path: "/sync/", at: "response" });
  o.sync();
  checkEqual((await notes()).filter((n) => n === "lost answer").length, 1, "a push whose answer is lost was applied");
  o.sync();
  checkEqual((await notes()).filter((n) => n === "lost answer").length, 1, "re-pushed after a lost answer, it is not applied twice");
  check((await server.stats()).push_replays > before, "the server counted the replayed frames");
  const durable = () => JSON.parse(fs.readFileSync(path.join(tmp, "o.db-info"), "utf8")).durable_frame_num;
  checkEqual((await server.stats()).frames, durable(), "the replayed frames were not logged again");
  await server.requests("a push whose answer is lost, then the next sync()");

  // A transaction over several pushes cut off at its second push: the first part waits under its
  // baton and is never applied; the next sync() pushes the whole transaction.
  o.transaction(() => {
    const ins = o.prepare("INSERT INTO items(name, payload) VALUES (?, randomblob(3000))");
    for (let i = 0; i < 200; i++) ins.run(`second big ${i}`);
  })();
  await server.fault({ method: "POST", path: "/sync/", skip: 1, request_bytes: 5000 });
  o.sync();
  checkEqual((await server.exec("SELECT count(*) FROM items WHERE name LIKE 'second big %'")).rows[0][0], 0, "a transaction cut off at its second push is not applied");
  o.sync();
  checkEqual((await server.exec("SELECT count(*) FROM items WHERE name LIKE 'second big %'")).rows[0][0], 200, "the next sync() pushes all of it, once");
  await server.requests("a push of several batches cut off at the second, then the next sync()");

  // The server dies after applying a push and before answering; restarted on the same files and
  // port, it answers the re-push as a replay.
  o.prepare("INSERT INTO notes(body) VALUES (?)").run("server died");
  await server.fault({ method: "POST", path: "/sync/", at: "response", action: "exit" });
  o.sync();
  await server.exited();
  await server.start();
  checkEqual((await notes()).filter((n) => n === "server died").length, 1, "a push applied before the server died survives its restart");
  o.sync();
  checkEqual((await notes()).filter((n) => n === "server died").length, 1, "re-pushed to the restarted server, it is not applied twice");
  checkEqual((await server.stats()).frames, durable(), "nor logged twice");
  o.prepare("INSERT INTO notes(body) VALUES (?)").run("after restart");
  o.sync();
  a.sync();
  checkEqual(rowsOf(a, "SELECT body FROM notes ORDER BY id").map((r) => r[0]), await notes(), "replica a follows the restarted server");
  checkEqual(digest(rowsOf(o, ITEMS)), await serverDigest(server), "the offline replica and the server agree");
  await server.requests("pushes to a server that died and restarted");

  // A pull cut off mid-reply fails the sync(); the next one completes it.
  await client.execute("INSERT INTO notes(body) VALUES ('pulled after a cut')");
  await server.fault({ method: "GET", path: "/sync/", at: "response", response_bytes: 3000 });
  let pullError = null;
  try {
    a.sync();
  } catch (err) {
    pullError = err;
  }
  check(pullError !== null, "a pull cut off mid-reply fails sync()");
  a.sync();
  checkEqual(rowsOf(a, "SELECT count(*) FROM notes WHERE body = 'pulled after a cut'")[0][0], 1, "the next sync() completes the pull");
  check(integrityOk("a.db"), "replica a passes integrity_check after the cut pull");
  await server.requests("a pull cut off mid-reply, then the next sync()");

  // Two offline replicas write at the same position: the second push is a conflict.
  const p = replica("p.db", server.url, { offline: true });
  const q = replica("q.db", server.url, { offline: true });
  p.sync();
  q.sync();
  p.prepare("INSERT INTO notes(body) VALUES (?)").run("p wins");
  q.prepare("INSERT INTO notes(body) VALUES (?)").run("q conflicts");
  p.sync();
  let conflict = null;
  try {
    q.sync();
  } catch (err) {
    conflict = err;
  }
  check(conflict && /InvalidPushFrameConflict/.test(conflict.message), `a push over another's frames is a conflict (${conflict && conflict.message})`);
  let again = null;
  try {
    q.sync();
  } catch (err) {
    again = err;
  }
  check(again && /InvalidPushFrameConflict/.test(again.message), "the conflicting replica stays in conflict at the next sync()");
  surprises.add("offline: after a conflict every later sync() fails the same way (" + conflict.message + "); nothing rebases");
  checkEqual((await notes()).filter((n) => n === "q conflicts").length, 0, "the conflicting push is not applied");
  stats = await server.stats();
  check(stats.conflicts >= 1, "the server counted the conflict");
  await server.requests("a conflicting push");

  // Wrong token.
  assert.throws(() => replica("bad.db", server.url, { authToken: "wrong" }), /Unauthorized/);
  checks++;
  assert.throws(() => replica("bad-offline.db", server.url, { authToken: "wrong", offline: true }), /401/);
  checks++;
  checkEqual(await server.requests("open with a wrong token (replica, then offline)"), ["GET /info 401", "GET /info 401"], "a wrong token gets 401 from /info");

  // This mode serves the gRPC log too.
  const hello = await grpcCall(server.url, "/wal_log.ReplicationLog/Hello", Buffer.alloc(0));
  checkEqual(hello.status, "0", "--mode both answers gRPC Hello too");
  client.close();
  await server.stop();
}

// A raw gRPC-web call (one message), for what npm libsql cannot be made to send.
async function grpcCall(url, route, message, token = TOKEN) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  const res = await fetch(url + route, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "x-authorization": `Bearer ${token}` },
    body: Buffer.concat([head, message]),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const m = /grpc-status:(\d+)/.exec(body.toString("latin1"));
  return { http: res.status, status: m ? m[1] : null, body };
}

// ---------------------------------------------------------------------------------------------
async function grpcOnly() {
  const server = await new Server("grpc", ["--token", TOKEN, "--mode", "grpc"]).start();
  const client = await seed(server);
  await server.requests();

  // Bootstrap: /info answers 404, so the crate speaks the gRPC-web replication log.
  const a = replica("ga.db", server.url);
  a.sync();
  checkEqual(digest(rowsOf(a, ITEMS)), await serverDigest(server), "replica ga holds the 10,000 rows of the server");
  check(integrityOk("ga.db"), "replica ga passes integrity_check");
  check(fileSize("ga.db") > 4 * 1024 * 1024, "replica ga is several MB");
  let seq = await server.requests("open + sync() of a new replica");
  checkEqual(seq.slice(0, 3), ["GET /info 404", "POST /wal_log.ReplicationLog/Hello 200", "POST /wal_log.ReplicationLog/BatchLogEntries 200"], "gRPC bootstrap sequence");
  let stats = await server.stats();
  const index = fs.readFileSync(path.join(tmp, "ga.db-client_wal_index"));
  checkEqual(index.length, 32, "ga.db-client_wal_index is 32 bytes");
  checkEqual(Number(index.readBigUInt64LE(16)), stats.v1_next_frame_no - 1, "it holds the last frame_no of the log");

  await client.execute("INSERT INTO items(name, payload) VALUES ('remote write', x'01')");
  await server.requests();
  a.sync();
  checkEqual(rowsOf(a, "SELECT count(*) FROM items WHERE name = 'remote write'")[0][0], 1, "ga pulls a write made through the server");
  seq = await server.requests("sync() after one remote write");
  // From the second handshake on, both are sent at once (the batch is prefetched).
  checkEqual([...seq].sort(), ["POST /wal_log.ReplicationLog/BatchLogEntries 200", "POST /wal_log.ReplicationLog/Hello 200"], "a pull is Hello and BatchLogEntries");

  // Writes from the replica go through proxy.Proxy/Execute and are pulled back at once.
  a.exec("INSERT INTO items(name, payload) VALUES ('written by ga', x'02')");
  a.prepare("INSERT INTO items(name, payload) VALUES (?, ?)").run("bound by ga", Buffer.from([1, 2, 3]));
  checkEqual(rowsOf(a, "SELECT name, hex(payload) FROM items WHERE name LIKE '% by ga' ORDER BY id"), [["written by ga", "02"], ["bound by ga", "010203"]], "ga reads its own writes");
  checkEqual((await server.exec("SELECT count(*) FROM items WHERE name LIKE '% by ga'")).rows[0][0], 2, "ga's writes reached the server");
  seq = await server.requests("writes on a v1 replica (exec, then prepare + run with arguments)");
  check(seq.includes("POST /proxy.Proxy/Execute 200") && seq.includes("POST /proxy.Proxy/Describe 200"), "writes go through Describe and Execute");
  surprises.add("gRPC: every write is followed by Hello + BatchLogEntries (read-your-writes), BEGIN and COMMIT included");
  a.exec("BEGIN");
  a.exec("INSERT INTO items(name, payload) VALUES ('in a transaction', x'04')");
  checkEqual(rowsOf(a, "SELECT count(*) FROM items WHERE name = 'in a transaction'")[0][0], 1, "a read inside ga's transaction runs on the server");
  a.exec("COMMIT");
  checkEqual(rowsOf(a, "SELECT count(*) FROM items WHERE name = 'in a transaction'")[0][0], 1, "a transaction on ga commits on the server");
  let failure = null;
  try {
    a.exec("INSERT INTO missing_table VALUES (1)");
  } catch (err) {
    failure = err;
  }
  check(failure && /no such table: missing_table/.test(failure.message), `a failing write reports SQLite's error (${failure && failure.message})`);
  await server.requests("a transaction and a failing write on a v1 replica");
  const b = replica("gb.db", server.url);
  b.sync();
  checkEqual(digest(rowsOf(b, ITEMS)), await serverDigest(server), "a fresh replica gb sees ga's writes");
  await server.requests();

  // Compaction: older frames only through a snapshot. A replica created before it and one created
  // after it catch up through Snapshot; ga, already past it, carries on with BatchLogEntries.
  const behind = replica("gbehind.db", server.url);
  await server.requests();
  const compacted = await server.debug("/debug/compact", "POST");
  await client.execute("INSERT INTO items(name, payload) VALUES ('after compaction', x'05')");
  const c = replica("gc.db", server.url);
  c.sync();
  checkEqual(digest(rowsOf(c, ITEMS)), await serverDigest(server), "a fresh replica gc catches up through a snapshot");
  check(integrityOk("gc.db"), "replica gc passes integrity_check");
  seq = await server.requests("open + sync() of a new replica after compaction");
  check(seq.includes("POST /wal_log.ReplicationLog/BatchLogEntries 200 grpc-status 9"), "the server answered NEED_SNAPSHOT");
  check(seq.includes("POST /wal_log.ReplicationLog/Snapshot 200"), "the replica fetched the snapshot");
  behind.sync();
  checkEqual(digest(rowsOf(behind, ITEMS)), await serverDigest(server), "a replica left behind the compaction catches up");
  await server.requests();
  a.sync();
  checkEqual(digest(rowsOf(a, ITEMS)), await serverDigest(server), "ga carries on past the compaction point");
  check(Number(fs.readFileSync(path.join(tmp, "gc.db-client_wal_index")).readBigUInt64LE(16)) >= compacted.snapshot_frame_no, "gc's index is past the snapshot");
  seq = await server.requests("sync() of a replica already past the compaction point");
  check(!seq.some((l) => l.includes("Snapshot")), "ga needed no snapshot");

  // A pull cut off mid-reply fails sync(); the next one completes it.
  await client.execute("INSERT INTO items(name, payload) SELECT 'cut ' || id, payload FROM items WHERE id <= 500");
  await server.fault({ path: "/wal_log.ReplicationLog/BatchLogEntries", at: "response", response_bytes: 20000 });
  let pullError = null;
  try {
    a.sync();
  } catch (err) {
    pullError = err;
  }
  check(pullError !== null, "a BatchLogEntries reply cut off fails sync()");
  a.sync();
  checkEqual(digest(rowsOf(a, ITEMS)), await serverDigest(server), "the next sync() completes the pull");
  check(integrityOk("ga.db"), "ga passes integrity_check after the cut pull");
  await server.requests("a pull cut off mid-reply, then the next sync()");

  // A restarted server (new session token) is followed.
  await server.stop();
  await server.start();
  await client.execute("INSERT INTO items(name, payload) VALUES ('after restart', x'06')");
  a.sync();
  checkEqual(digest(rowsOf(a, ITEMS)), await serverDigest(server), "ga follows the restarted server");
  await server.requests("sync() after the server restarted");

  // A wrong token: Hello fails UNAUTHENTICATED three times, a second apart.
  let authError = null;
  try {
    replica("gbad.db", server.url, { authToken: "wrong" }).sync();
  } catch (err) {
    authError = err;
  }
  check(authError && /PrimaryHandshakeTimeout/.test(authError.message), `a wrong token fails the handshake (${authError && authError.message})`);
  surprises.add("gRPC: a wrong token is retried three times a second apart, then fails as PrimaryHandshakeTimeout");
  seq = await server.requests("open + sync() with a wrong token");
  checkEqual(seq.filter((l) => l === "POST /wal_log.ReplicationLog/Hello 200 grpc-status 16").length, 3, "three Hello answered UNAUTHENTICATED");
  const raw = await grpcCall(server.url, "/wal_log.ReplicationLog/BatchLogEntries", Buffer.alloc(0));
  checkEqual(raw.status, "9", "BatchLogEntries without a session token: FAILED_PRECONDITION (NO_HELLO)");
  check(/NO_HELLO/.test(raw.body.toString("latin1")), "its message is NO_HELLO");
  client.close();
  await server.stop();

  // A namespace the server does not serve (npm libsql names the first label of the host: "127").
  const other = await new Server("namespace", ["--mode", "grpc", "--namespace", "other"]).start();
  let nsError = null;
  try {
    replica("gns.db", other.url).sync();
  } catch (err) {
    nsError = err;
  }
  check(nsError && /NamespaceDoesntExist/.test(nsError.message), `an unknown namespace fails the handshake (${nsError && nsError.message})`);
  await other.stop();
  const named = await new Server("namespace-127", ["--mode", "grpc", "--namespace", "127"]).start();
  replica("gns127.db", named.url).sync();
  checkEqual(await named.requests(), ["GET /info 404", "POST /wal_log.ReplicationLog/Hello 200", "POST /wal_log.ReplicationLog/BatchLogEntries 200"], "namespace 127 is the one npm libsql sends for 127.0.0.1");
  await named.stop();

  // --mode http serves no gRPC.
  const httpOnly = await new Server("http-only", ["--mode", "http"]).start();
  checkEqual((await grpcCall(httpOnly.url, "/wal_log.ReplicationLog/Hello", Buffer.alloc(0))).http, 404, "--mode http answers gRPC with 404");
  await httpOnly.stop();
}

// ---------------------------------------------------------------------------------------------
// A database encrypted on the server (Turso Cloud): npm libsql sends the replica's
// remoteEncryptionKey as x-turso-encryption-key with every HTTP sync and Hrana request, and the
// server refuses a request without it.
async function encryptedRemote() {
  const KEY = "server-side-key";
  const server = await new Server("encrypted", ["--token", TOKEN, "--encryption-key", KEY]).start();
  await server.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)");
  await server.exec("INSERT INTO notes(body) VALUES ('sealed')");
  await server.requests();
  const db = replica("enc.db", server.url, { remoteEncryptionKey: KEY });
  db.sync();
  checkEqual(rowsOf(db, "SELECT body FROM notes"), [["sealed"]], "a replica with the key bootstraps");
  db.exec("INSERT INTO notes(body) VALUES ('written')");
  const log = await server.debug("/debug/requests");
  await server.debug("/debug/requests", "DELETE");
  check(log.length >= 3 && log.some((e) => e.path.endsWith("/pipeline")), "the replica synced and forwarded a write");
  check(log.every((e) => e.encryption_key === KEY), "every request carried x-turso-encryption-key");
  db.close();
  let missing = null;
  try {
    replica("enc-nokey.db", server.url).sync();
  } catch (err) {
    missing = err;
  }
  check(missing !== null, `a replica without the key fails (${missing && missing.message})`);
  const refused = (await server.debug("/debug/requests")).filter((e) => e.status === 400);
  check(refused.length >= 1 && refused.every((e) => e.encryption_key === null), "the server answered 400 to requests without the key");
  await server.stop();
}

async function main() {
  try {
    await httpSync();
    await grpcOnly();
    await encryptedRemote();
    console.log(`libsql sync test server: ${checks} checks passed against npm libsql 0.5.29 replicas (HTTP sync and gRPC-web, offline writes, faults, a database encrypted on the server)`);
    console.log("npm libsql, observed:\n" + [...surprises].map((s) => "  - " + s).join("\n"));
  } finally {
    for (const child of children) child.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  console.error(`failed after ${checks} checks`);
  for (const child of children) child.kill();
  process.exit(1);
});
