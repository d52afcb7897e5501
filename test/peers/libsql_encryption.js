// Drives the real libSQL engine (npm `libsql`) for the encryption round-trip tests.
//
//   node libsql_encryption.js run  <db> <key> '<json array of SQL statements>'
//       Runs the statements in order and prints the results as one Elixir term (the test suite
//       needs no JSON library): a list with, per statement, {:rows, [[value, ...], ...]} (blobs
//       as {:hex, "..."}) or {:error, "SQLITE_CODE", "message"}. An empty key opens the file
//       without encryption.
//   node libsql_encryption.js hang <db> <key>
//       Starts a large transaction that spills pages into the database file, prints "ready"
//       and keeps writing until it is killed.
"use strict";

const path = require("path");
const peers = process.env.ECTO_LIBSQL_PEERS || path.join(__dirname, "..", "..", "_build", "peers");
const Database = require(path.join(peers, "node_modules", "libsql"));

const [command, file, key, statements] = process.argv.slice(2);
const options = key ? { encryptionKey: key } : {};

function number(v) {
  if (Number.isSafeInteger(v)) return String(v);
  let [mantissa, exponent] = String(v).split("e");
  if (!mantissa.includes(".")) mantissa += ".0";
  return exponent === undefined ? mantissa : `${mantissa}e${exponent}`;
}

// Elixir literal syntax for the values SQLite returns.
function term(v) {
  if (v === null || v === undefined) return "nil";
  if (Buffer.isBuffer(v)) return `{:hex, "${v.toString("hex").toUpperCase()}"}`;
  if (typeof v === "number") return number(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return JSON.stringify(v).replace(/#/g, "\\#");
  if (Array.isArray(v)) return "[" + v.map(term).join(", ") + "]";
  throw new Error("unexpected value " + typeof v);
}

function error(e) {
  return `{:error, ${term(String(e.code))}, ${term(e.message)}}`;
}

function run() {
  const out = [];
  let db;
  try {
    db = new Database(file, options);
  } catch (e) {
    console.log("[" + error(e) + "]");
    return;
  }
  for (const sql of JSON.parse(statements)) {
    try {
      const stmt = db.prepare(sql);
      if (stmt.reader) {
        out.push(`{:rows, ${term(stmt.raw().all())}}`);
      } else {
        stmt.run();
        out.push("{:rows, []}");
      }
    } catch (e) {
      out.push(error(e));
    }
  }
  db.close();
  console.log("[" + out.join(", ") + "]");
}

function hang() {
  const db = new Database(file, options);
  db.exec("PRAGMA cache_size = 10");
  db.exec("BEGIN");
  const insert = db.prepare("INSERT INTO t(batch, v) VALUES (1, randomblob(300))");
  for (let i = 0; i < 2000; i++) insert.run();
  db.exec("UPDATE t SET v = randomblob(300) WHERE id % 3 = 0");
  console.log("ready");
  for (;;) insert.run();
}

if (command === "run") run();
else if (command === "hang") hang();
else {
  console.error("unknown command " + command);
  process.exit(2);
}
