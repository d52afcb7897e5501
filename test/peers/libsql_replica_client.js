// Drives the real libSQL client (npm `libsql`, the libsql crate 0.9.30) as an embedded replica
// for the replica tests: side by side with ours, and as the reader of what ours pushed.
//
//   node libsql_replica_client.js '<json>'
//     {"db": path, "url": sync URL, "token": auth token, "offline": bool,
//      "steps": [{"exec": sql} | {"query": sql} | {"sync": true}]}
//   Opens `new Database(db, {syncUrl, authToken, offline})`, runs the steps in order and prints
//   one JSON line: one result per step (rows as arrays for a query, blobs as {"base64"}; the
//   sync answer with "ms", the time it took, for a sync; "ok" for an exec), then {"open_ms"}.
"use strict";

const path = require("path");
const peers = process.env.ECTO_LIBSQL_PEERS || path.join(__dirname, "..", "..", "_build", "peers");
const Database = require(path.join(peers, "node_modules", "libsql"));

function cell(v) {
  if (Buffer.isBuffer(v)) return { base64: v.toString("base64") };
  if (typeof v === "bigint") return v.toString();
  return v;
}

function main() {
  const spec = JSON.parse(process.argv[2]);
  const opened = process.hrtime.bigint();
  const db = new Database(spec.db, { syncUrl: spec.url, authToken: spec.token, offline: !!spec.offline });
  const openMs = Number(process.hrtime.bigint() - opened) / 1e6;
  const out = [];
  for (const step of spec.steps) {
    if (step.exec !== undefined) {
      db.exec(step.exec);
      out.push("ok");
    } else if (step.query !== undefined) {
      out.push(db.prepare(step.query).raw().all().map((row) => row.map(cell)));
    } else if (step.sync) {
      const started = process.hrtime.bigint();
      const answer = db.sync();
      out.push({ ...answer, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    } else {
      throw new Error("unknown step " + JSON.stringify(step));
    }
  }
  db.close();
  out.push({ open_ms: openMs });
  console.log(JSON.stringify(out));
}

try {
  main();
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
}
