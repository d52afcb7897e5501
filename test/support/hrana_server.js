// A Hrana 2/3 test server over HTTP (JSON) backed by the real libSQL engine (npm libsql), for
// what tursodb --sync-server does not serve: v3, close, get_autocommit, describe, sequence,
// store_sql, bearer auth, stream expiry, base_url, v3/cursor (rows streamed with back-pressure),
// and Hrana 3 over WebSocket. Checked against @libsql/client by
// test/support/hrana_server_client_check.js.
//
// node hrana_server.js --db FILE [--port N] [--token T] [--expire-ms N] [--base-url-prefix /p]
//                      [--v2-only]
// Prints "listening PORT" once ready. Needs NODE_PATH to hold the npm libsql package.
// Required as a module (libsql_sync_server.js), it serves Hrana inside another server:
// configure(options), then serveHttp(req, res) and serveUpgrade(req, socket, head); the options
// onOpen(db) and afterRequest() are called when a database connection is opened and after each
// request that may have written.
"use strict";
const http = require("http");
const crypto = require("crypto");
const Database = require("libsql");

const opts = { port: 0, token: null, expireMs: 10000, prefix: null, v2Only: false, onOpen: null, afterRequest: null };
if (require.main === module) {
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a === "--db") opts.db = process.argv[++i];
    else if (a === "--port") opts.port = Number(process.argv[++i]);
    else if (a === "--token") opts.token = process.argv[++i];
    else if (a === "--expire-ms") opts.expireMs = Number(process.argv[++i]);
    else if (a === "--base-url-prefix") opts.prefix = process.argv[++i];
    else if (a === "--v2-only") opts.v2Only = true;
  }
  if (!opts.db) throw new Error("--db is required");
}
let server = null; // the HTTP server, for base_url

function afterRequest() {
  if (opts.afterRequest) opts.afterRequest();
}

class HranaError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

const streams = new Map(); // baton -> stream

// Database connections of closed streams, kept for the next streams (opening one costs more
// than most requests).
const idle = [];

function openStream() {
  let db = idle.pop();
  if (!db) {
    db = new Database(opts.db);  // no busy wait: it would block the only thread
    db.defaultSafeIntegers(true);
    // As sqld: readers in open transactions do not block writers.
    db.exec("PRAGMA journal_mode=WAL");
    if (opts.onOpen) opts.onOpen(db);
  }
  const stream = { db, sqls: new Map(), lastUsed: Date.now(), prefix: opts.prefix || "" };
  openStreams.add(stream);
  return stream;
}

// Every open stream (HTTP batons, WebSocket streams, and those of a server requiring this one),
// so that a caller can tell whether a transaction is open anywhere.
const openStreams = new Set();

function closeStream(stream) {
  openStreams.delete(stream);
  try {
    if (stream.db.inTransaction) stream.db.exec("ROLLBACK");
  } catch (_) {}
  if (!stream.db.inTransaction && !stream.db.poisoned && idle.length < 8) idle.push(stream.db);
  else stream.db.close();
}

function decodeValue(v) {
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      if (typeof v.value !== "string") throw new HranaError("integer value must be a string", "ARGS_INVALID");
      return BigInt(v.value);
    case "float":
      return Number(v.value);
    case "text":
      return v.value;
    case "blob":
      return Buffer.from(v.base64 || "", "base64");
    default:
      throw new HranaError("unknown value type " + v.type, "ARGS_INVALID");
  }
}

function encodeValue(v) {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  // Integers arrive as BigInt (safe integers), so every JavaScript number is a float.
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (Buffer.isBuffer(v)) return { type: "blob", base64: v.toString("base64").replace(/=+$/, "") };
  throw new HranaError("cannot encode " + typeof v, "SQLITE_MISMATCH");
}

function sqliteError(err) {
  if (err instanceof HranaError) return { message: err.message, code: err.code };
  const code = typeof err.code === "string" ? err.code.split("_").slice(0, 2).join("_") : "SQLITE_ERROR";
  return { message: err.message, code };
}

// What the tests check the client did (GET /debug/stats): stored SQL and statements run by id.
const stats = { store_sql: 0, close_sql: 0, by_sql_id: 0 };

function stmtSql(stream, stmt) {
  if (typeof stmt.sql === "string") return stmt.sql;
  if (stmt.sql_id !== undefined && stmt.sql_id !== null) {
    const sql = stream.sqls.get(stmt.sql_id);
    if (sql === undefined) throw new HranaError("SQL text " + stmt.sql_id + " not found", "SQL_NOT_FOUND");
    stats.by_sql_id++;
    return sql;
  }
  throw new HranaError("statement without SQL", "SQL_NO_STATEMENT");
}

// Prepared statements kept per database connection, as a Hrana server keeps them, so that the
// server's share of a benchmark is the same small cost for every client. Only statements run
// to completion (all/run/get) come from here; a cursor steps a statement of its own.
const CACHE_LIMIT = 256;
function cached(db, sql) {
  if (!db.stmtCache) db.stmtCache = new Map();
  let prepared = db.stmtCache.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    if (db.stmtCache.size >= CACHE_LIMIT) db.stmtCache.delete(db.stmtCache.keys().next().value);
    db.stmtCache.set(sql, prepared);
  }
  return prepared;
}

function lastInsertRowid(db) {
  return cached(db, "SELECT last_insert_rowid()").raw(true).safeIntegers(true).get()[0];
}

function executeStmt(stream, stmt) {
  const sql = stmtSql(stream, stmt);
  const db = stream.db;
  const prepared = cached(db, sql);
  const args = (stmt.args || []).map(decodeValue);
  let bind = args;
  if (stmt.named_args && stmt.named_args.length > 0) {
    if (args.length > 0) throw new HranaError("both positional and named arguments", "ARGS_BOTH_POSITIONAL_AND_NAMED");
    bind = {};
    for (const { name, value } of stmt.named_args) bind[name.replace(/^[:@$]/, "")] = decodeValue(value);
  }
  const started = Date.now();
  let cols = [];
  let rows = [];
  let affected = 0;
  try {
    if (prepared.reader) {
      prepared.raw(true).safeIntegers(true);
      cols = prepared.columns().map((c) => ({ name: c.name, decltype: c.type || null }));
      rows = prepared.all(bind).map((r) => r.map(encodeValue));
      if (/\breturning\b/i.test(sql)) affected = Number(cached(db, "SELECT changes()").raw(true).get()[0]);
    } else {
      const info = prepared.run(bind);
      affected = Number(info.changes);
    }
  } catch (err) {
    // npm libsql does not reset a statement that failed (SQLITE_BUSY, say): it keeps the read
    // snapshot it began, and a connection reused by later streams would answer their reads from
    // that old snapshot. The statement and, when its stream closes, the connection are dropped.
    db.stmtCache.delete(sql);
    db.poisoned = true;
    throw err;
  }
  const lastRowid = lastInsertRowid(db);
  return {
    cols,
    rows: stmt.want_rows === false ? [] : rows,
    affected_row_count: affected,
    last_insert_rowid: lastRowid.toString(),
    rows_read: 0,
    rows_written: 0,
    query_duration_ms: Date.now() - started,
  };
}

function evalCond(cond, results, errors, db) {
  if (!cond) return true;
  switch (cond.type) {
    case "ok":
      return results[cond.step] !== null && results[cond.step] !== undefined;
    case "error":
      return errors[cond.step] !== null && errors[cond.step] !== undefined;
    case "not":
      return !evalCond(cond.cond, results, errors, db);
    case "and":
      return cond.conds.every((c) => evalCond(c, results, errors, db));
    case "or":
      return cond.conds.some((c) => evalCond(c, results, errors, db));
    case "is_autocommit":
      return !db.inTransaction;
    default:
      throw new HranaError("unknown condition " + cond.type, "PROTOCOL");
  }
}

function runBatch(stream, batch) {
  const results = [];
  const errors = [];
  batch.steps.forEach((step, i) => {
    results[i] = null;
    errors[i] = null;
    if (!evalCond(step.condition, results, errors, stream.db)) return;
    try {
      results[i] = executeStmt(stream, step.stmt);
    } catch (err) {
      errors[i] = sqliteError(err);
    }
  });
  return { step_results: results, step_errors: errors };
}

function handleRequest(stream, req, version) {
  switch (req.type) {
    case "execute":
      return { type: "execute", result: executeStmt(stream, req.stmt) };
    case "batch":
      return { type: "batch", result: runBatch(stream, req.batch) };
    case "sequence": {
      const sql = stmtSql(stream, req);
      stream.db.exec(sql);
      return { type: "sequence" };
    }
    case "describe": {
      const p = stream.db.prepare(stmtSql(stream, req));
      const cols = p.reader ? p.columns().map((c) => ({ name: c.name, decltype: c.type || null })) : [];
      return { type: "describe", result: { params: [], cols, is_explain: false, is_readonly: p.reader } };
    }
    case "store_sql":
      stream.sqls.set(req.sql_id, req.sql);
      return { type: "store_sql" };
    case "close_sql":
      stream.sqls.delete(req.sql_id);
      return { type: "close_sql" };
    case "get_autocommit":
      if (version < 3) throw new HranaError("get_autocommit needs Hrana 3", "PROTOCOL");
      return { type: "get_autocommit", is_autocommit: !stream.db.inTransaction };
    case "close":
      return { type: "close" };
    default:
      throw new HranaError("unknown request " + req.type, "PROTOCOL");
  }
}

function send(res, status, body) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function pipeline(reqBody, pathPrefix, version) {
  let stream;
  let baton = reqBody.baton;
  if (baton === null || baton === undefined) {
    stream = openStream();
  } else {
    stream = streams.get(baton);
    if (!stream) return [400, { message: "The stream has expired or does not exist", code: "STREAM_EXPIRED" }];
    streams.delete(baton);
    if (Date.now() - stream.lastUsed > opts.expireMs) {
      closeStream(stream);
      return [400, { message: "The stream has expired due to inactivity", code: "STREAM_EXPIRED" }];
    }
    if (stream.prefix !== pathPrefix) {
      closeStream(stream);
      return [400, { message: "request sent to the wrong base_url", code: "PROTOCOL" }];
    }
  }
  const results = [];
  let closed = false;
  for (const req of reqBody.requests || []) {
    if (closed) {
      results.push({ type: "error", error: { message: "stream is closed", code: "STREAM_NOT_OPEN" } });
      continue;
    }
    try {
      results.push({ type: "ok", response: handleRequest(stream, req, version) });
      if (req.type === "close") closed = true;
    } catch (err) {
      results.push({ type: "error", error: sqliteError(err) });
    }
  }
  if (closed) {
    closeStream(stream);
    return [200, { baton: null, base_url: null, results }];
  }
  stream.lastUsed = Date.now();
  const next = crypto.randomBytes(12).toString("base64url");
  streams.set(next, stream);
  const base = opts.prefix ? `http://127.0.0.1:${server.address().port}${opts.prefix}` : null;
  return [200, { baton: next, base_url: base, results }];
}


// POST v3/cursor: the first line carries the stream's next baton; then one entry a line, the
// rows written as they are read from SQLite and paused while the client does not read. The
// stream serves no other request until the answer ends.
async function cursor(reqBody, pathPrefix, res) {
  let stream;
  const baton = reqBody.baton;
  if (baton === null || baton === undefined) {
    stream = openStream();
  } else {
    stream = streams.get(baton);
    if (!stream) return send(res, 400, { message: "The stream has expired or does not exist", code: "STREAM_EXPIRED" });
    streams.delete(baton);
    if (Date.now() - stream.lastUsed > opts.expireMs) {
      closeStream(stream);
      return send(res, 400, { message: "The stream has expired due to inactivity", code: "STREAM_EXPIRED" });
    }
  }
  let release;
  stream.busy = new Promise((resolve) => (release = resolve));
  const next = crypto.randomBytes(12).toString("base64url");
  streams.set(next, stream);
  let gone = false;
  let wake = null;
  res.on("close", () => {
    gone = true;
    if (wake) wake();
  });
  res.on("drain", () => wake && wake());
  res.writeHead(200, { "content-type": "text/plain" });
  let chunk = "";
  const write = async (entry) => {
    chunk += JSON.stringify(entry) + "\n";
    if (chunk.length < 16384) return;
    const ok = res.write(chunk);
    chunk = "";
    if (!ok && !gone) await new Promise((resolve) => (wake = resolve));
    wake = null;
  };
  const base = opts.prefix ? `http://127.0.0.1:${server.address().port}${opts.prefix}` : null;
  try {
    await write({ baton: next, base_url: base });
    const results = [];
    const errors = [];
    const steps = (reqBody.batch && reqBody.batch.steps) || [];
    for (let i = 0; i < steps.length && !gone; i++) {
      results[i] = null;
      errors[i] = null;
      if (!evalCond(steps[i].condition, results, errors, stream.db)) continue;
      try {
        const stmt = steps[i].stmt;
        const sql = stmtSql(stream, stmt);
        const prepared = stream.db.prepare(sql);
        const args = (stmt.args || []).map(decodeValue);
        let cols = [];
        let affected = 0;
        if (prepared.reader) {
          prepared.raw(true).safeIntegers(true);
          cols = prepared.columns().map((c) => ({ name: c.name, decltype: c.type || null }));
          await write({ type: "step_begin", step: i, cols });
          for (const row of prepared.iterate(args)) {
            if (gone) break;
            if (stmt.want_rows !== false) await write({ type: "row", row: row.map(encodeValue) });
          }
          if (/\breturning\b/i.test(sql)) affected = Number(cached(stream.db, "SELECT changes()").raw(true).get()[0]);
        } else {
          await write({ type: "step_begin", step: i, cols });
          affected = Number(prepared.run(args).changes);
        }
        const lastRowid = lastInsertRowid(stream.db);
        await write({ type: "step_end", affected_row_count: affected, last_insert_rowid: lastRowid.toString() });
        results[i] = true;
      } catch (err) {
        errors[i] = sqliteError(err);
        await write({ type: "step_error", step: i, error: errors[i] });
      }
    }
  } catch (err) {
    await write({ type: "error", error: sqliteError(err) });
  } finally {
    if (chunk.length > 0 && !gone) res.write(chunk);
    res.end();
    stream.lastUsed = Date.now();
    stream.busy = null;
    release();
    afterRequest();
  }
}

function serveHttp(req, res) {
  let path = req.url.split("?")[0];
  let prefix = "";
  if (opts.prefix && path.startsWith(opts.prefix + "/")) {
    prefix = opts.prefix;
    path = path.slice(opts.prefix.length);
  }
  if (opts.token !== null && req.headers.authorization !== `Bearer ${opts.token}`) {
    req.resume();
    return send(res, 401, { message: "Authentication failed: invalid token", code: "UNAUTHORIZED" });
  }
  if (req.method === "GET") {
    if (path === "/v2" || (path === "/v3" && !opts.v2Only)) return send(res, 200, "");
    if (path === "/debug/stats") return send(res, 200, stats);
    return send(res, 404, "Not found");
  }
  const isCursor = path === "/v3/cursor" && !opts.v2Only;
  const version = path === "/v3/pipeline" && !opts.v2Only ? 3 : path === "/v2/pipeline" ? 2 : 0;
  if (req.method !== "POST" || (version === 0 && !isCursor)) {
    req.resume();
    return send(res, 404, "Not found");
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      return send(res, 400, { message: "invalid JSON: " + err.message, code: "PROTOCOL" });
    }
    // A stream reading a cursor answers its next request once the cursor has ended.
    const waiting = body.baton && streams.get(body.baton);
    if (waiting && waiting.busy) await waiting.busy;
    if (isCursor) return cursor(body, prefix, res);
    const [status, reply] = pipeline(body, prefix, version);
    afterRequest();
    send(res, status, reply);
  });
}

// Hrana 3 (or 2) over WebSocket (`hrana3` / `hrana2` subprotocols, JSON text frames).
const { WebSocketServer } = require("ws");
const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) =>
    protocols.has("hrana3") ? "hrana3" : protocols.has("hrana2") ? "hrana2" : false,
});
function serveUpgrade(req, socket, head) {
  wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
}

function serveSocket(ws) {
  const version = ws.protocol === "hrana3" ? 3 : 2;
  let authed = false;
  const socketStreams = new Map();
  const socketSqls = new Map(); // over WebSocket, stored SQL belongs to the connection
  ws.on("message", (data) => {
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch (_) {
      return ws.close(1002, "invalid JSON");
    }
    if (msg.type === "hello") {
      if (opts.token !== null && msg.jwt !== opts.token) {
        ws.send(JSON.stringify({ type: "hello_error", error: { message: "Authentication failed: invalid token", code: "UNAUTHORIZED" } }));
        return ws.close(1008, "unauthorized");
      }
      authed = true;
      return ws.send(JSON.stringify({ type: "hello_ok" }));
    }
    if (msg.type !== "request" || !authed) return ws.close(1002, "protocol violation");
    const r = msg.request;
    let reply;
    try {
      let response;
      if (r.type === "open_stream") {
        const stream = openStream();
        stream.sqls = socketSqls;
        socketStreams.set(r.stream_id, stream);
        response = { type: "open_stream" };
      } else if (r.type === "store_sql") {
        stats.store_sql++;
        socketSqls.set(r.sql_id, r.sql);
        response = { type: "store_sql" };
      } else if (r.type === "close_sql") {
        stats.close_sql++;
        socketSqls.delete(r.sql_id);
        response = { type: "close_sql" };
      } else if (r.type === "close_stream") {
        const stream = socketStreams.get(r.stream_id);
        if (stream) closeStream(stream);
        socketStreams.delete(r.stream_id);
        response = { type: "close_stream" };
      } else {
        const stream = socketStreams.get(r.stream_id);
        if (!stream) throw new HranaError("stream not open", "STREAM_NOT_OPEN");
        response = handleRequest(stream, r, version);
      }
      reply = { type: "response_ok", request_id: msg.request_id, response };
    } catch (err) {
      reply = { type: "response_error", request_id: msg.request_id, error: sqliteError(err) };
    }
    afterRequest();
    ws.send(JSON.stringify(reply));
  });
  ws.on("close", () => {
    for (const stream of socketStreams.values()) closeStream(stream);
    socketStreams.clear();
  });
}

setInterval(() => {
  const now = Date.now();
  for (const [baton, stream] of streams) {
    if (!stream.busy && now - stream.lastUsed > opts.expireMs * 3) {
      streams.delete(baton);
      closeStream(stream);
    }
  }
}, 1000).unref();

module.exports = {
  configure: (options) => Object.assign(opts, options),
  useServer: (httpServer) => (server = httpServer),
  serveHttp,
  serveUpgrade,
  openStream,
  closeStream,
  executeStmt,
  decodeValue,
  encodeValue,
  sqliteError,
  openStreams,
  stats,
};

if (require.main === module) {
  server = http.createServer(serveHttp);
  server.keepAliveTimeout = 60000;
  server.on("upgrade", serveUpgrade);
  server.listen(opts.port, "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
