#!/usr/bin/env node
// libSQL's own DiskANN index (npm `libsql`, see test/peers/package.json) on uniform random
// 128-dimensional vectors, for comparison with native/bench/vector_bench: index build time,
// top-10 query time through vector_top_k against the exact scan, and recall@10 against it.
// libSQL's default index options; wall-clock times.
//
//   node scripts/libsql-vector-recall.js [rows] [cosine|l2] [path/to/node_modules/libsql]
const path = require('path');
const modulePath = process.argv[4] || path.join(__dirname, '..', '_build', 'peers', 'node_modules', 'libsql');
const Database = require(modulePath);

const rows = Number(process.argv[2]) || 20000;
const metric = process.argv[3] || 'cosine';
const queries = 100;
const dims = 128;

// A 64-bit linear congruential generator: deterministic uniform values in [-1, 1).
let state = 12345n;
function uniform() {
  state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  return (Number(state >> 11n) / 2 ** 53) * 2 - 1;
}
// Text vectors: this libsql release cannot bind a Buffer.
function vectorText() {
  const values = [];
  for (let i = 0; i < dims; i++) values.push(Math.fround(uniform()));
  return '[' + values.join(',') + ']';
}

const db = new Database(':memory:');
db.exec('CREATE TABLE items(id INTEGER PRIMARY KEY, e F32_BLOB(128))');
const insert = db.prepare('INSERT INTO items VALUES (?, vector32(?))');
db.exec('BEGIN');
for (let i = 1; i <= rows; i++) insert.run(i, vectorText());
db.exec('COMMIT');
let start = process.hrtime.bigint();
db.exec(`CREATE INDEX items_idx ON items(libsql_vector_idx(e, 'metric=${metric}'))`);
const build = Number(process.hrtime.bigint() - start) / 1e9;

const distance = metric === 'cosine' ? 'vector_distance_cos' : 'vector_distance_l2';
const exact = db.prepare(`SELECT id FROM items ORDER BY ${distance}(e, vector32(?)) LIMIT 10`);
const topK = db.prepare("SELECT id FROM vector_top_k('items_idx', vector32(?), 10)");
let hits = 0;
let topKTime = 0;
let exactTime = 0;
for (let q = 0; q < queries; q++) {
  const query = vectorText();
  start = process.hrtime.bigint();
  const found = topK.all(query).map((r) => r.id);
  topKTime += Number(process.hrtime.bigint() - start);
  start = process.hrtime.bigint();
  const expected = new Set(exact.all(query).map((r) => r.id));
  exactTime += Number(process.hrtime.bigint() - start);
  for (const id of found) if (expected.has(id)) hits++;
}
console.log(
  `libSQL, ${rows} uniform vectors, ${metric}: index build ${build.toFixed(2)} s, ` +
    `top-10 ${(topKTime / queries / 1e6).toFixed(3)} ms, exact scan ${(exactTime / queries / 1e6).toFixed(2)} ms, ` +
    `recall@10 ${(hits / (queries * 10)).toFixed(4)}`
);
