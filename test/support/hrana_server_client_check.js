// Checks the Hrana test server against the official clients: @libsql/client (execute, batch,
// interactive transaction, executeMultiple, errors and auth, over HTTP and WebSocket) and
// @libsql/hrana-client with protocol version 3 over HTTP (batches read through v3/cursor, also
// inside a stream's transaction, and a step failing after rows were sent).
// node hrana_server_client_check.js   (NODE_PATH must hold libsql and @libsql/client)
"use strict";
const { spawn } = require("child_process");
const path = require("path");
const os = require("os");
const fs = require("fs");
const assert = require("assert");
const { createClient } = require("@libsql/client");
const hrana = require("@libsql/hrana-client");
// hrana-client ships its JSON v3 endpoint (v3/pipeline, v3/cursor) commented out and speaks v3
// over HTTP only in protobuf; this adds that endpoint back as its source writes it, so that its
// JSON cursor code (http/cursor.js) runs against this server.
require(path.join(path.dirname(require.resolve("@libsql/hrana-client")), "http", "client.js")).checkEndpoints.push({
  versionPath: "v3",
  pipelinePath: "v3/pipeline",
  cursorPath: "v3/cursor",
  version: 3,
  encoding: "json",
});

function startServer(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, "hrana_server.js"), ...args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.once("data", (d) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve({ child, port: Number(m[1]) });
      else reject(new Error("unexpected output " + d));
    });
    child.once("exit", (code) => reject(new Error("server exited " + code)));
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hrana-check-"));
  const { child, port } = await startServer(["--db", path.join(dir, "db.sqlite"), "--token", "secret"]);
  try {
    const url = `http://127.0.0.1:${port}`;
    const c = createClient({ url, authToken: "secret" });
    await c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x, UNIQUE(x))");
    const ins = await c.execute({ sql: "INSERT INTO t(x) VALUES (?)", args: ["a"] });
    assert.strictEqual(ins.rowsAffected, 1);
    assert.strictEqual(Number(ins.lastInsertRowid), 1);
    await c.execute({ sql: "INSERT INTO t(x) VALUES (:x)", args: { x: "b" } });
    const sel = await c.execute("SELECT id, x, x'ff' AS b, 1.5 AS f, NULL AS n FROM t ORDER BY id");
    assert.deepStrictEqual(sel.columns, ["id", "x", "b", "f", "n"]);
    assert.strictEqual(sel.rows.length, 2);
    assert.strictEqual(sel.rows[1].x, "b");
    assert.strictEqual(new Uint8Array(sel.rows[0].b)[0], 255);
    assert.strictEqual(sel.rows[0].f, 1.5);
    assert.strictEqual(sel.rows[0].n, null);

    const br = await c.batch(["INSERT INTO t(x) VALUES ('c')", { sql: "SELECT count(*) AS n FROM t", args: [] }], "write");
    assert.strictEqual(Number(br[1].rows[0].n), 3);
    await assert.rejects(c.batch(["INSERT INTO t(x) VALUES ('d')", "INSERT INTO t(x) VALUES ('a')"], "write"));
    assert.strictEqual(Number((await c.execute("SELECT count(*) AS n FROM t")).rows[0].n), 3);

    const tx = await c.transaction("write");
    await tx.execute("INSERT INTO t(x) VALUES ('e')");
    assert.strictEqual(Number((await tx.execute("SELECT count(*) AS n FROM t")).rows[0].n), 4);
    await tx.rollback();
    assert.strictEqual(Number((await c.execute("SELECT count(*) AS n FROM t")).rows[0].n), 3);
    const tx2 = await c.transaction("write");
    await tx2.execute("INSERT INTO t(x) VALUES ('f')");
    await tx2.commit();
    assert.strictEqual(Number((await c.execute("SELECT count(*) AS n FROM t")).rows[0].n), 4);

    await c.executeMultiple("CREATE TABLE m(y); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2);");
    assert.strictEqual(Number((await c.execute("SELECT sum(y) AS s FROM m")).rows[0].s), 3);

    await assert.rejects(c.execute("INSERT INTO t(x) VALUES ('a')"), (e) => /UNIQUE constraint failed/.test(e.message));
    c.close();

    const ws = createClient({ url: `ws://127.0.0.1:${port}`, authToken: "secret" });
    assert.strictEqual(Number((await ws.execute({ sql: "SELECT count(*) AS n FROM t WHERE x > ?", args: ["a"] })).rows[0].n), 3);
    const wbr = await ws.batch(["INSERT INTO t(x) VALUES ('w')", "SELECT count(*) AS n FROM t"], "write");
    assert.strictEqual(Number(wbr[1].rows[0].n), 5);
    const wtx = await ws.transaction("write");
    await wtx.execute("DELETE FROM t WHERE x = 'w'");
    await wtx.rollback();
    await ws.executeMultiple("INSERT INTO m VALUES (3); INSERT INTO m VALUES (4);");
    assert.strictEqual(Number((await ws.execute("SELECT sum(y) AS s FROM m")).rows[0].s), 10);
    ws.close();

    // Cursors: @libsql/hrana-client runs batches through v3/cursor on protocol version 3.
    // (It probes GET /v3 without the token, which this server checks on every route.)
    const withToken = (request) => {
      request.headers.set("authorization", "Bearer secret");
      return fetch(request);
    };
    const hc = hrana.openHttp(url, "secret", withToken, undefined, 3);
    assert.strictEqual(await hc.getVersion(), 3);
    const hs = hc.openStream();
    const b1 = hs.batch(true);
    const many = b1.step().query(
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) SELECT i, 'row ' || i AS s FROM c");
    const count = b1.step().queryValue("SELECT count(*) FROM t");
    await b1.execute();
    const manyRows = (await many).rows;
    assert.strictEqual(manyRows.length, 5000);
    assert.strictEqual(manyRows[4999][1], "row 5000");
    assert.strictEqual(Number((await count).value), 5);
    // Inside the stream's transaction: the cursor takes the baton and hands on a new one.
    const b2 = hs.batch(true);
    b2.step().run("BEGIN");
    b2.step().run("INSERT INTO t(x) VALUES ('cursor')");
    await b2.execute();
    assert.strictEqual(await hs.getAutocommit(), false);
    const b3 = hs.batch(true);
    const seen = b3.step().queryValue("SELECT count(*) FROM t WHERE x = 'cursor'");
    await b3.execute();
    assert.strictEqual(Number((await seen).value), 1);
    const b4 = hs.batch(true);
    b4.step().run("ROLLBACK");
    await b4.execute();
    assert.strictEqual(await hs.getAutocommit(), true);
    // A step that fails after some of its rows were sent.
    const b5 = hs.batch(true);
    const failing = b5.step().query(
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) " +
        "SELECT CASE WHEN i < 2000 THEN i ELSE abs(-9223372036854775807 - 1) END FROM c");
    const after = b5.step().queryValue("SELECT 1");
    await b5.execute();
    await assert.rejects(failing, (e) => /integer overflow/.test(e.message));
    assert.strictEqual(Number((await after).value), 1);
    hs.close();
    hc.close();

    const bad = createClient({ url, authToken: "wrong" });
    await assert.rejects(bad.execute("SELECT 1"));
    bad.close();
    console.log("hrana test server: @libsql/client execute, batch, transaction, executeMultiple over HTTP and WebSocket; @libsql/hrana-client v3 cursors over HTTP: ok");
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
