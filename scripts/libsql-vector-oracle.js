#!/usr/bin/env node
// Asks the real libSQL engine (npm `libsql`, see test/peers/package.json) what its vector
// functions answer for a wide set of inputs, and writes the answers in the notation of
// native/tests/data/libsql/vector_oracle.txt (`SQL => result`). The C++ suite replays the file.
//
//   node scripts/libsql-vector-oracle.js [path/to/node_modules/libsql] > \
//     native/tests/data/libsql/vector_functions_oracle.txt
const path = require('path');
const modulePath = process.argv[2] || path.join(__dirname, '..', '_build', 'peers', 'node_modules', 'libsql');
const Database = require(modulePath);
const db = new Database(':memory:');

const texts = [
  '[1,2,3]', '[-1.5, 0, 0.25]', '  [ 1 , 2 ]  ', '[1 2]', '[]', '[ ]', '[0]', '[-0]', '[+3]',
  '[1.,.5]', '[1e3,1E-3,1e+3]', '[3.4028235e38]', '[1e39]', '[-1e39]', '[1e-46]', '[1.4e-45]',
  '[1e-39]', '[0.1,0.2,0.3]', '[65504,65520,-65536]', '[6e-8,5.96e-8,3e-8,1e-5]',
  '[1.00048828125,1.000244140625]', '[0.333333333333333333333333]',
  '[123456789012345678901234567890]', '[1e308,1e309,-1e309]', '[4.9e-324,2.5e-324]',
  '[9,9,9,9]', '[-2,-1,0,1,2]', '[1,-1,1,-1,1,-1,1,-1,1]', '[0.5,-0.5,0.25,-0.25,8,16,32]',
  '[00012.500]',
];
const bad = [
  '[1,2', '1,2]', '', '   ', '[1,,2]', '[,]', '[1,2,]', '[x]', '[1e]', '[.]', '[-]', '[+]',
  '[0x10]', '[nan]', '[inf]', '[1]x', '[1] ]', '[[1]]', '[1;2]', '[1-2]', '[1e5e5]', '[--1]',
];
const ctors = ['vector', 'vector32', 'vector64', 'vector16', 'vectorb16', 'vector8', 'vector1bit'];
const statements = [];
for (const t of texts) {
  const lit = "'" + t.replace(/'/g, "''") + "'";
  for (const c of ctors) statements.push(`SELECT hex(${c}(${lit}))`);
  statements.push(`SELECT vector_extract(${lit})`);
  statements.push(`SELECT vector_extract(vector64(${lit}))`);
  for (const c of ['vector16', 'vectorb16', 'vector8', 'vector1bit']) {
    statements.push(`SELECT vector_extract(${c}(${lit}))`);
  }
}
for (const t of bad) {
  const lit = "'" + t.replace(/'/g, "''") + "'";
  statements.push(`SELECT vector32(${lit})`);
  statements.push(`SELECT vector64(${lit})`);
}
// Blobs: every type byte, good and bad lengths.
const blobs = [
  "x''", "x'00'", "x'01'", "x'0000803f'", "x'0000803f01'", "x'0000803f02'", "x'000000000000f03f02'",
  "x'0000000000000000000000000000f03f02'", "x'0000803f0000'", "x'000000000000'", "x'0503'", "x'03'",
  "x'000003'", "x'ff0003'", "x'ffff0e03'", "x'003c004005'", "x'003c0005'", "x'803f004006'",
  "x'803f06'", "x'007fff008180003c0000803f000104'", "x'0004'", "x'07'", "x'0008'", "x'0000000000000000000009'",
];
for (const b of blobs) {
  for (const c of ['vector32', 'vector64', 'vector16', 'vector8', 'vector1bit']) {
    statements.push(`SELECT hex(${c}(${b}))`);
  }
}
for (const v of ['NULL', '1', '1.5']) {
  for (const c of ['vector', 'vector64', 'vector_extract']) statements.push(`SELECT ${c}(${v})`);
  statements.push(`SELECT vector_distance_cos(${v}, '[1]')`);
  statements.push(`SELECT vector_distance_l2('[1]', ${v})`);
}
// Conversions between every pair of types.
const source = "'[1.5,-2.25,0,3e-3,-7,100.125,0.001,65000]'";
for (const from of ctors) {
  for (const to of ctors) statements.push(`SELECT hex(${to}(${from}(${source})))`);
}
// Distances for every type.
const pairs = [
  ["'[1,2,3]'", "'[4,5,6]'"], ["'[1,0,0]'", "'[0,1,0]'"], ["'[0,0]'", "'[1,1]'"], ["'[0,0]'", "'[0,0]'"],
  ["'[1,-2,3,-4,5,-6,7,-8,9]'", "'[-9,8,-7,6,-5,4,-3,2,-1]'"], ["'[0.1,0.2]'", "'[0.2,0.1]'"],
  ["'[1e30,1e30]'", "'[1e30,-1e30]'"], ["'[3,3,3]'", "'[3,3,3]'"],
];
for (const [a, b] of pairs) {
  for (const c of ctors) {
    statements.push(`SELECT vector_distance_cos(${c}(${a}), ${c}(${b}))`);
    statements.push(`SELECT vector_distance_l2(${c}(${a}), ${c}(${b}))`);
  }
  statements.push(`SELECT vector_distance_cos(${a}, ${b}), vector_distance_l2(${a}, ${b})`);
}
statements.push("SELECT vector_distance_cos(vector16('[1,2]'), vectorb16('[1,2]'))");
statements.push("SELECT vector_distance_l2(vector8('[1,2]'), vector8('[1,2,3]'))");
statements.push("SELECT vector_distance_cos('[1,2]', '[1,2,]')");
statements.push("SELECT vector_distance_cos('[1,x]', vector64('[1,2]'))");
statements.push("SELECT vector_distance_cos(x'0000803f0000', vector64('[1]'))");
// Whitespace of every kind (built in SQL: the oracle file is one statement per line).
statements.push("SELECT hex(vector32(char(9) || '[1,' || char(10, 11, 12) || '2]' || char(13)))");
// Sizes at and past the limits.
statements.push("SELECT length(vector32('[' || replace(hex(zeroblob(65535)), '00', '1,') || '1]'))");
statements.push("SELECT length(vector32('[' || replace(hex(zeroblob(65536)), '00', '1,') || '1]'))");
statements.push("SELECT length(vector32('[' || replace(hex(zeroblob(512)), '00', '12') || ']'))");
statements.push("SELECT length(vector1bit(zeroblob(262144)))");
statements.push("SELECT length(vector1bit(zeroblob(262148)))");

// JSON has no infinities: they are written as bare Infinity / -Infinity.
const show = (v) =>
  JSON.stringify(v, (k, x) => (typeof x === 'number' && !Number.isFinite(x) ? `@@${x}@@` : x))
    .replace(/"@@(-?Infinity|NaN)@@"/g, '$1');
// libSQL leaves the padding bytes of a FLOAT8 vector uninitialised (they hold whatever the
// allocator gave); answers whose padding is not zero say nothing and are left out.
const uninitialisedPadding = (rows) =>
  rows.some((row) =>
    row.some((cell) => {
      if (typeof cell !== 'string' || !/^([0-9A-F]{2})+04$/.test(cell) || cell.length < 6) return false;
      const bytes = Buffer.from(cell, 'hex');
      const n = bytes.length - 1;
      const trailing = bytes[n - 1];
      const codes = n - 2 - 8;
      const dims = codes - trailing;
      return dims >= 0 && bytes.subarray(dims, codes).some((b) => b !== 0);
    }));

for (const sql of statements) {
  let out;
  try {
    const rows = db.prepare(sql).raw().all();
    if (uninitialisedPadding(rows)) continue;
    out = show(rows);
  } catch (e) {
    out = `ERROR ${e.code} (${e.rawCode}): ${e.message}`;
  }
  process.stdout.write(`${sql} => ${out}\n`);
}
