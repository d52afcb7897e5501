// The @libsql/client side of bench/remote_bench.exs: sequential SELECT 1 round trips and one
// transactional batch of 2,000 inserts against the given server. Prints one JSON line.
// node remote_bench_client.js URL CALLS TABLE   (NODE_PATH must hold @libsql/client)
"use strict";
const { createClient } = require("@libsql/client");

async function main() {
  const [url, callsText, table] = process.argv.slice(2);
  const calls = Number(callsText);
  const c = createClient({ url, authToken: "bench" });
  for (let i = 0; i < 50; i++) await c.execute("SELECT 1");
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await c.execute("SELECT 1");
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const stmts = [];
  for (let i = 0; i < 2000; i++) stmts.push({ sql: `INSERT INTO ${table}(x) VALUES (?)`, args: [i] });
  const t0 = process.hrtime.bigint();
  await c.batch(stmts, "write");
  const batchMs = Number(process.hrtime.bigint() - t0) / 1e6;
  c.close();
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(JSON.stringify({ median_ms: pick(0.5), p99_ms: pick(0.99), batch_ms: batchMs }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
