// Drives the official Turso sync client (npm `@tursodatabase/sync`) for the replica tests.
//
//   node turso_sync_client.js push  <db> <url> '<json array of SQL statements>'
//       Bootstraps or pulls <db> from the server, runs the statements locally and pushes them.
//   node turso_sync_client.js query <db> <url> '<sql>'
//       Pulls, runs the query and prints one line per row, values separated by tabs.
"use strict";

const path = require("path");
const peers = process.env.ECTO_LIBSQL_PEERS || path.join(__dirname, "..", "..", "_build", "peers");
const { connect } = require(path.join(peers, "node_modules", "@tursodatabase", "sync"));

async function main() {
  const [command, file, url, arg] = process.argv.slice(2);
  const db = await connect({ path: file, url, clientName: "ecto_libsql-test" });
  await db.pull();
  if (command === "push") {
    for (const sql of JSON.parse(arg)) await db.exec(sql);
    await db.push();
    console.log("ok");
  } else if (command === "query") {
    const rows = await (await db.prepare(arg)).raw().all();
    for (const row of rows) console.log(row.map((v) => (v === null ? "NULL" : String(v))).join("\t"));
  } else {
    throw new Error(`unknown command ${command}`);
  }
  await db.close();
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
