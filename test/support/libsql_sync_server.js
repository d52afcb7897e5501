// A libSQL sync test server: one real SQLite database (npm libsql, WAL mode) and its real WAL
// frames, served over the two replication protocols of the libsql crate's embedded replicas (npm
// libsql 0.5.29 runs the same Rust code, libsql 0.9.30), with Hrana (hrana_server.js) on the same
// URL for the writes replicas forward. Checked against npm libsql replicas by
// test/support/libsql_sync_server_client_check.js.
//
//   node libsql_sync_server.js --db FILE [--port N] [--token T] [--mode both|grpc|http]
//                              [--namespace NS] [--v1-batch-frames N]
//
// Prints "listening PORT" once ready; exits when its stdin closes. NODE_PATH must hold the npm
// packages libsql and ws. Everything listens on 127.0.0.1.
//
//   --db FILE      the server's database (created if missing; must use 4096-byte pages). The
//                  server's replication state lives beside it in FILE-sync/ (see State): a server
//                  restarted on the same FILE (and --port) carries on where it stopped.
//   --port N       0 (default) picks a free port.
//   --token T      every route but /debug/* needs `Authorization: Bearer T` (gRPC: metadata
//                  `x-authorization: Bearer T`); else HTTP 401 / gRPC UNAUTHENTICATED.
//   --mode         both (default): GET /info answers, so the libsql crate picks HTTP sync ("v2",
//                    Turso Cloud); the gRPC-web replication log is served as well.
//                  grpc: /info, /export and /sync answer 404, as sqld: clients fall back to the
//                    gRPC-web replication log ("v1").
//                  http: HTTP sync only; the gRPC routes answer 404.
//                  Hrana (GET /v2, /v3; POST /v2/pipeline, /v3/pipeline, /v3/cursor; WebSocket
//                  hrana2/hrana3) is served in every mode.
//   --namespace NS gRPC requests whose `x-namespace-bin` names another namespace fail with
//                  FAILED_PRECONDITION NAMESPACE_DOESNT_EXIST (default: any namespace is served).
//   --v1-batch-frames N  frames in one BatchLogEntries answer before it ends at the next commit
//                  (default 1024, as sqld's MAX_FRAMES_PER_BATCH).
//   --encryption-key K  a database encrypted on the server, as Turso Cloud's: HTTP sync and
//                  Hrana requests need `x-turso-encryption-key: K` (what libsql's sync.rs and
//                  hrana/hyper.rs send), else HTTP 400; gRPC requests too (libsql's gRPC client
//                  sends no key: only HTTP sync reaches such a database).
//
// HTTP sync ("v2", libsql/src/sync.rs). Generations are numbered from 1; generation G's frames
// from 1, exactly as a client's local WAL holds them after it bootstrapped G.
//   GET  /info                        -> 200 {"current_generation": G}
//   GET  /export/{g}                  -> the database file as it was when generation g began
//   GET  /sync/{g}/{start}/{end}      -> frames start..end-1 of g (fewer if the log ends
//                                        before), concatenated SQLite WAL frames: the 24-byte
//                                        big-endian WAL frame header + the 4096-byte page. Only
//                                        committed transactions are served. When start is past
//                                        the end of g's log: 400 {"generation": G} (G = the
//                                        current generation; G > g tells the client to checkpoint
//                                        and move to g + 1).
//   POST /sync/{g}/{start}/{end}[/{baton}]  body: frames start..end-1 as the client read them
//                                        from its WAL (same format) ->
//                                        200 {"status":"ok"|"conflict","generation":G,
//                                             "max_frame_no":M,"baton":B|null}
//        - start = the log's next frame: appended; M = end - 1. Each transaction is applied
//          (log, then database) when its commit frame arrives; one that spans several pushes
//          waits under the returned baton, which the next push sends back. If anyone commits in
//          between, that next push is a conflict; frames whose baton never comes back are
//          never applied.
//        - frames at positions the log (or the baton's waiting frames) already holds with the
//          same page number, page and commit size: nothing is applied again (idempotent
//          re-push); M = end - 1.
//        - different content at a held position, or g not the current generation: "conflict"
//          (M = the current generation's last frame).
//        - start past the next frame: "ok" with M = the last frame held (the client resends
//          from M + 1).
//        - a body that is not end - start frames of 4120 bytes, a page number 0: 400.
//        While a transaction is open on the server (Hrana, Proxy) a push waits for it (503
//        after 10 s; the client retries 5xx).
// gRPC-web replication log ("v1", libsql-replication/proto/*.proto), HTTP/1.1, request and
// answer `application/grpc-web+proto`, 5-byte message frames, a trailers frame carrying
// grpc-status and grpc-message (errors also carry them as HTTP headers, "trailers-only"):
//   POST /wal_log.ReplicationLog/Hello            -> HelloResponse{generation_id, log_id (UUIDs
//        kept across restarts), session_token (a UUID, new at each start),
//        current_replication_index (last frame_no; absent when the log is empty)}
//   POST /wal_log.ReplicationLog/BatchLogEntries  LogOffset{next_offset} -> Frames: up to
//        --v1-batch-frames frames from next_offset, ending at a commit; empty when none is newer
//   POST /wal_log.ReplicationLog/LogEntries       the same as a server stream that ends when
//        caught up (it does not wait for new frames)
//   POST /wal_log.ReplicationLog/Snapshot         LogOffset -> stream: the latest version of every
//        page written by frames next_offset..(last compacted frame), highest frame_no first, the
//        last frame sent carrying the database size (as sqld's snapshot stream)
//   POST /proxy.Proxy/Execute, /proxy.Proxy/Describe, /proxy.Proxy/Disconnect   writes of v1
//        replicas: ProgramReq{client_id, pgm} runs on a connection kept per client_id (a
//        transaction stays open across requests); values bincode-encoded as the crate does
//   Errors: x-session-token missing or not this run's -> FAILED_PRECONDITION "NO_HELLO";
//        next_offset before the compacted part of the log -> FAILED_PRECONDITION
//        "NEED_SNAPSHOT"; Snapshot when nothing is compacted past next_offset -> UNAVAILABLE;
//        wrong token -> UNAUTHENTICATED "AuthError: ..."; Describe of bad SQL ->
//        PERMISSION_DENIED (as sqld); SQL errors in Execute -> a QueryResult error {code 3,
//        SQLite's message, extended code}; StreamExec and unknown methods -> UNIMPLEMENTED.
//   Frames: 24-byte little-endian header {frame_no u64, checksum u64 (sqld's rolling
//   CRC-64/GO-ISO; the client does not check it), page_no u32, size_after u32 (database pages,
//   not 0 on a commit frame)} + the 4096-byte page. Frame numbers start at 0: frames 0..P-1 are
//   the P pages of the database when the server first started (one transaction), then every
//   transaction in commit order, the same transactions as the HTTP sync generations hold.
//
// What npm libsql 0.5.29 sends (observed; the check prints it with --sequences):
//   HTTP sync replica (syncUrl): opening sends GET /info twice (the builder's probe, then the
//     bootstrap) and, when neither FILE nor FILE-info exists, GET /export/{G}; no frames yet (a
//     read before the first sync() sees the export only). sync(): GET /sync/{g}/{n}/{n+128} from
//     n = durable_frame_num + 1 until an answer of 400; a 200 with fewer frames is followed by a
//     request from the next frame, so every pull ends with a 400. A 400 {"generation": g + 1}
//     makes it checkpoint its WAL and pull GET /sync/{g+1}/1/129. Writes: POST /v3/pipeline
//     (no GET /v3 probe), then one pull (read-your-writes), statement by statement: BEGIN, each
//     statement (reads too: POST /v3/pipeline + POST /v3/cursor) and COMMIT, each one pull.
//     PRAGMA statements (integrity_check too) go to the server as well.
//   offline: true: opening sends GET /info and GET /export/{G}; sync() pushes when the local WAL
//     has frames past durable_frame_num (POST /sync/{G}/{s}/{e}, e - s <= 128, the answer's baton
//     appended to the next path; one push may hold several local transactions), else pulls as
//     above. A connection error during a push is swallowed: sync() answers {frames_synced: 0}.
//     The next sync() starts from the last frame answered, without a baton; an "ok" with a lower
//     max_frame_no makes it resend from max_frame_no + 1 (one retry). A conflict throws
//     "Sync(InvalidPushFrameConflict(start, max_frame_no))", again at every later sync(): a push
//     to an older generation is one too.
//   gRPC replica (/info 404): opening sends only GET /info; x-namespace-bin is the host's first
//     label ("127" for 127.0.0.1). sync(): Hello, then BatchLogEntries
//     {next_offset: committed + 1, or 0 for a new replica}; it repeats until its committed frame
//     reaches Hello's current_replication_index. From the second handshake on, Hello and
//     BatchLogEntries go out together (prefetch; after a restart the prefetched one gets NO_HELLO
//     and is sent again). NEED_SNAPSHOT -> Snapshot{next_offset} -> BatchLogEntries from the
//     snapshot's first (highest) frame_no + 1. Writes: exec() -> Execute; prepare() of a write
//     -> Describe, then Execute; each followed by Hello + BatchLogEntries; BEGIN, each statement
//     (reads too) and COMMIT are separate Executes of one client_id; PRAGMAs too. A wrong token:
//     three Hello answered UNAUTHENTICATED, a second apart, then
//     "Replication(PrimaryHandshakeTimeout)"; an unknown namespace:
//     "Replication(NamespaceDoesntExist)".
//   Not the server's doing: on a gRPC replica a named parameter (run({x: 1})) panics npm libsql
//   (the crate's RemoteStatement::parameter_name reads param_names one place off), and a
//   Statement.get() left unfinished pins the connection's snapshot across sync() (all() does
//   not). Local metadata: FILE-info {"hash","version":0,"durable_frame_num","generation"};
//   FILE-client_wal_index: 32 bytes {log_id u128 LE, committed frame_no u64 LE, 8 zero bytes}.
//
// Where frames come from: writes through Hrana or Proxy run on the database (WAL mode,
// checkpoints off); after each request the server reads the new committed frames from the -wal
// file (checking salts and checksums) and appends them to the logs. Pushed frames are appended to
// the log as sent and written into the database file (after a TRUNCATE checkpoint, while no
// transaction is open; the other connections see the change through the WAL index).
//
// State (FILE-sync/): meta.json (generation, log ids, compaction point, how far the WAL and the
// logs have been applied), gen-G.db (export of generation G), gen-G.log (G's frames, WAL format).
//
// Debug routes (no token needed):
//   GET    /debug/stats       {"generation", "frames" (current generation), "v1_next_frame_no",
//                             "v1_snapshot_frame_no", "pushed_frames", "push_replays",
//                             "conflicts", "requests": {"GET /info": n, "POST /sync": n,
//                             "POST /wal_log.ReplicationLog/Hello": n, ...}, "hrana"}
//   GET    /debug/requests    the last 1000 requests [{"method", "path", "status" (null when
//                             no answer was sent), "bytes" (of the answer's body),
//                             "grpc_status", "cut" (true when the answer did not finish),
//                             "encryption_key" (the x-turso-encryption-key header or null)}];
//                             DELETE clears them
//   POST   /debug/new-generation  starts generation G + 1 (its export is the database now)
//                             -> {"generation"}
//   POST   /debug/compact     gRPC: frames up to now are only served as a snapshot (offsets
//                             before them get NEED_SNAPSHOT) -> {"snapshot_frame_no": the first
//                             frame_no BatchLogEntries still serves}
//   POST   /debug/exec        {"sql", "args": [null | number | string | {"base64": ...}]} runs
//                             one statement on the server -> {"columns", "rows" (integers
//                             beyond 2^53 as strings, blobs as {"base64"}), "affected",
//                             "last_insert_rowid"}; its frames are logged as any write's
//   POST   /debug/fault       arms a fault for the next matching requests:
//                             {"method": "POST", "path": "/sync/" (prefix; default any route but
//                              /debug), "skip": 0 (matching requests let through first),
//                              "times": 1,
//                              "at": "request" (default: before the request is handled, nothing
//                                applied; with "request_bytes": N after reading N body bytes)
//                                | "response" (the request is handled, a push applied, then
//                                the fault replaces the answer; with "response_bytes": N after
//                                sending N bytes of it),
//                              "action": "close" (default: drop the connection) | "exit" (the
//                                process kills itself: a server dying; its state is on disk:
//                                restart it on the same --db and --port) | "status"
//                                ("status": 503, "body": {} (JSON)) | "delay"
//                                ("delay_ms", then carry on)}
//                             DELETE /debug/fault disarms all; GET lists them
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const os = require("os");
const Database = require("libsql");
const hrana = require("./hrana_server.js");

const PAGE = 4096;
const WAL_FRAME = 24 + PAGE;

const opts = { port: 0, token: null, mode: "both", namespace: null, v1BatchFrames: 1024, encryptionKey: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--db") opts.db = path.resolve(process.argv[++i]);
  else if (a === "--port") opts.port = Number(process.argv[++i]);
  else if (a === "--token") opts.token = process.argv[++i];
  else if (a === "--mode") opts.mode = process.argv[++i];
  else if (a === "--namespace") opts.namespace = process.argv[++i];
  else if (a === "--v1-batch-frames") opts.v1BatchFrames = Number(process.argv[++i]);
  else if (a === "--encryption-key") opts.encryptionKey = process.argv[++i];
  else throw new Error("unknown option " + a);
}
if (!opts.db) throw new Error("--db is required");
if (!["both", "grpc", "http"].includes(opts.mode)) throw new Error("--mode must be both, grpc or http");
if (!(opts.v1BatchFrames > 0)) throw new Error("--v1-batch-frames must be positive");

// ---------------------------------------------------------------------------------------------
// Checksums

// SQLite's WAL checksum (wal.c walChecksumBytes) over 8-byte steps, words big-endian when the WAL
// magic's low bit is set, little-endian otherwise; s = [s1, s2] to start from.
function walChecksum(bigEndian, buf, start, end, s) {
  let s1 = s[0];
  let s2 = s[1];
  for (let i = start; i < end; i += 8) {
    const x0 = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s1 = (s1 + x0 + s2) >>> 0;
    s2 = (s2 + x1 + s1) >>> 0;
  }
  return [s1, s2];
}

// CRC-64/GO-ISO as sqld's replication logger chains it (crc 3.2.1 digest_with_initial: the
// previous checksum, bit-reversed, starts the register; the result is xored with all ones).
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) hi = (hi ^ 0xd8000000) >>> 0; // reflected polynomial 0x1b
  }
  CRC64_LO[i] = lo;
  CRC64_HI[i] = hi;
}
function reverseBits32(x) {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}
function crc64Chain(prev, data) {
  // register = reverse_bits(prev): the low half is the reversed high half of prev and back.
  let lo = reverseBits32(Number(prev >> 32n));
  let hi = reverseBits32(Number(prev & 0xffffffffn));
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]) >>> 0;
    hi = ((hi >>> 8) ^ CRC64_HI[idx]) >>> 0;
  }
  return (BigInt((hi ^ 0xffffffff) >>> 0) << 32n) | BigInt((lo ^ 0xffffffff) >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Protocol buffers, by hand: the few messages of wal_log.proto, proxy.proto and metadata.proto.

// Decodes a message into { fieldNumber: [values] }: varints as BigInt, length-delimited fields as
// Buffers (nested messages are decoded by the caller).
function pbDecode(buf) {
  const fields = {};
  let i = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1) {
      if (i + 8 > buf.length) throw new Error("truncated fixed64");
      value = buf.readBigUInt64LE(i);
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error("truncated field");
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 5) {
      if (i + 4 > buf.length) throw new Error("truncated fixed32");
      value = buf.readUInt32LE(i);
      i += 4;
    } else throw new Error("unsupported wire type " + wire);
    (fields[field] = fields[field] || []).push(value);
  }
  return fields;
}
const pbFirst = (fields, n) => (fields[n] ? fields[n][0] : undefined);
const pbString = (fields, n) => (fields[n] ? fields[n][0].toString("utf8") : "");
const pbInt = (fields, n) => (fields[n] ? BigInt.asIntN(64, fields[n][0]) : 0n);

function pbVarint(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return Buffer.from(bytes);
}
// A message from [fieldNumber, kind, value] entries; kind "varint" (numbers, BigInts, booleans),
// "bytes" (Buffer), "string", "message" (an already encoded Buffer). Undefined values are skipped.
function pbEncode(entries) {
  const parts = [];
  for (const [field, kind, value] of entries) {
    if (value === undefined || value === null) continue;
    if (kind === "varint") {
      parts.push(pbVarint(field << 3), pbVarint(typeof value === "boolean" ? (value ? 1 : 0) : value));
    } else {
      const data = kind === "string" ? Buffer.from(value, "utf8") : value;
      parts.push(pbVarint((field << 3) | 2), pbVarint(data.length), data);
    }
  }
  return Buffer.concat(parts);
}

// proxy.Value.data: a libsql::Value serialised by bincode 1 (u32 LE variant, then i64 / f64 LE, or
// a u64 LE length and the bytes), decoded to and from Hrana JSON values.
function bincodeToHrana(data) {
  const variant = data.readUInt32LE(0);
  switch (variant) {
    case 0:
      return { type: "null" };
    case 1:
      return { type: "integer", value: data.readBigInt64LE(4).toString() };
    case 2:
      return { type: "float", value: data.readDoubleLE(4) };
    case 3:
    case 4: {
      const len = Number(data.readBigUInt64LE(4));
      const bytes = data.subarray(12, 12 + len);
      if (bytes.length !== len) throw new Error("truncated bincode value");
      return variant === 3 ? { type: "text", value: bytes.toString("utf8") } : { type: "blob", base64: bytes.toString("base64") };
    }
    default:
      throw new Error("unknown bincode value variant " + variant);
  }
}
function hranaToBincode(v) {
  const head = (variant, size) => {
    const b = Buffer.alloc(4 + size);
    b.writeUInt32LE(variant, 0);
    return b;
  };
  switch (v.type) {
    case "null":
      return head(0, 0);
    case "integer": {
      const b = head(1, 8);
      b.writeBigInt64LE(BigInt(v.value), 4);
      return b;
    }
    case "float": {
      const b = head(2, 8);
      b.writeDoubleLE(Number(v.value), 4);
      return b;
    }
    default: {
      const bytes = v.type === "text" ? Buffer.from(v.value, "utf8") : Buffer.from(v.base64 || "", "base64");
      const b = head(v.type === "text" ? 3 : 4, 8);
      b.writeBigUInt64LE(BigInt(bytes.length), 4);
      return Buffer.concat([b, bytes]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// State: the database, the generations' logs (HTTP sync) and the one log of the gRPC protocol.
//
// A frame is { pgno, commit (database pages after it, 0 inside a transaction), page (4096 bytes),
// header (its 24-byte SQLite WAL frame header as read or pushed; null for the gRPC log's first
// transaction), v1no, v1checksum }. gens[g].frames[n - 1] is frame n of generation g; v1[n] is
// gRPC frame n; both hold the same objects.

const stateDir = opts.db + "-sync";
const metaPath = path.join(stateDir, "meta.json");
const genDbPath = (g) => path.join(stateDir, `gen-${g}.db`);
const genLogPath = (g) => path.join(stateDir, `gen-${g}.log`);
let meta;
const gens = [];
const v1 = [];
let v1Checksum = 0n;
const sessionToken = crypto.randomUUID();
const counters = { pushed_frames: 0, push_replays: 0, conflicts: 0 };

function saveMeta() {
  const tmp = metaPath + ".tmp";
  fs.writeFileSync(tmp, JSON.stringify(meta));
  const fd = fs.openSync(tmp, "r");
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, metaPath);
}

function frameFrom(buf, off) {
  const header = Buffer.from(buf.subarray(off, off + 24));
  return { pgno: header.readUInt32BE(0), commit: header.readUInt32BE(4), page: Buffer.from(buf.subarray(off + 24, off + WAL_FRAME)), header };
}

function addV1(frame) {
  v1Checksum = crc64Chain(v1Checksum, frame.page);
  frame.v1no = BigInt(v1.length);
  frame.v1checksum = v1Checksum;
  v1.push(frame);
}

// Appends one committed transaction to the current generation's log (on disk first) and to the
// gRPC log.
function appendTxn(frames) {
  const gen = gens[meta.generation];
  fs.writeSync(gen.fd, Buffer.concat(frames.flatMap((f) => [f.header, f.page])));
  fs.fsyncSync(gen.fd);
  for (const f of frames) {
    gen.frames.push(f);
    addV1(f);
  }
}

const walScratch = Buffer.alloc(256 * WAL_FRAME);

// Reads the transactions committed to the -wal file since the last call (salts and checksums
// checked, so that frames of an earlier WAL or an unfinished transaction are never taken) and
// appends them to the logs.
function scanWal() {
  let fd;
  try {
    fd = fs.openSync(opts.db + "-wal", "r");
  } catch (_) {
    return;
  }
  try {
    const hdr = Buffer.alloc(32);
    if (fs.readSync(fd, hdr, 0, 32, 0) < 32) return;
    const magic = hdr.readUInt32BE(0);
    if ((magic & 0xfffffffe) !== 0x377f0682) return;
    const big = (magic & 1) === 1;
    const salt1 = hdr.readUInt32BE(16);
    const salt2 = hdr.readUInt32BE(20);
    let w = meta.wal;
    if (!w || w.salt1 !== salt1 || w.salt2 !== salt2) {
      const ck = walChecksum(big, hdr, 0, 24, [0, 0]);
      if (ck[0] !== hdr.readUInt32BE(24) || ck[1] !== hdr.readUInt32BE(28)) return;
      w = { salt1, salt2, frames: 0, s1: ck[0], s2: ck[1] };
    }
    const size = fs.fstatSync(fd).size;
    let pos = 32 + w.frames * WAL_FRAME;
    let ck = [w.s1, w.s2];
    let txn = [];
    const txns = [];
    const buf = walScratch;
    scan: while (pos + WAL_FRAME <= size) {
      const n = Math.min(256, Math.floor((size - pos) / WAL_FRAME));
      fs.readSync(fd, buf, 0, n * WAL_FRAME, pos);
      for (let k = 0; k < n; k++) {
        const off = k * WAL_FRAME;
        if (buf.readUInt32BE(off + 8) !== salt1 || buf.readUInt32BE(off + 12) !== salt2) break scan;
        const c = walChecksum(big, buf, off + 24, off + WAL_FRAME, walChecksum(big, buf, off, off + 8, ck));
        if (c[0] !== buf.readUInt32BE(off + 16) || c[1] !== buf.readUInt32BE(off + 20)) break scan;
        ck = c;
        txn.push(frameFrom(buf, off));
        pos += WAL_FRAME;
        if (buf.readUInt32BE(off + 4) !== 0) {
          txns.push(txn);
          txn = [];
          w = { salt1, salt2, frames: (pos - 32) / WAL_FRAME, s1: ck[0], s2: ck[1] };
        }
      }
    }
    meta.wal = w;
    if (txns.length > 0) {
      for (const t of txns) appendTxn(t);
      meta.applied = gens[meta.generation].frames.length;
      saveMeta();
    }
  } finally {
    fs.closeSync(fd);
  }
}

// Copies the WAL into the database file and empties it, on a connection of its own (the anchor's
// page cache must not outlive a change made beside SQLite). False when a reader is in the way.
function checkpointTruncate() {
  const c = new Database(opts.db);
  try {
    // all(), not get(): npm libsql's get() leaves the statement running and close() waits for it.
    return Number(c.prepare("PRAGMA wal_checkpoint(TRUNCATE)").all()[0].busy) === 0;
  } finally {
    c.close();
  }
}

// Writes frames' pages into the database file (the WAL is empty: checkpointTruncate ran), then
// tells the open connections, through the WAL index, what SQLite would have told them had it
// written the pages itself.
function rawApply(frames) {
  const fd = fs.openSync(opts.db, "r+");
  let pages = 0;
  try {
    for (const f of frames) {
      fs.writeSync(fd, f.page, 0, PAGE, (f.pgno - 1) * PAGE);
      if (f.commit) {
        fs.ftruncateSync(fd, f.commit * PAGE);
        pages = f.commit;
      }
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  announceDatabaseChange(pages);
}

// The WAL index header (the first 96 bytes of the -shm file: two copies of WalIndexHdr, wal.c)
// holds the database size readers believe (nPage) and a change counter (iChange): a reader whose
// copy of the header differs resets its page cache. The WAL is empty, so the header gets the new
// size, a new iChange and its checksum (native-order words over its first 40 bytes), second copy
// first, as SQLite writes it. No transaction is open (withQuiescentDb).
function announceDatabaseChange(pages) {
  const fd = fs.openSync(opts.db + "-shm", "r+");
  try {
    const h = Buffer.alloc(48);
    fs.readSync(fd, h, 0, 48, 0);
    const le = os.endianness() === "LE";
    const get = (o) => (le ? h.readUInt32LE(o) : h.readUInt32BE(o));
    const put = (o, v) => (le ? h.writeUInt32LE(v >>> 0, o) : h.writeUInt32BE(v >>> 0, o));
    if (h[12] !== 1 || get(16) !== 0) throw new Error("the WAL index is not that of an empty WAL");
    put(8, get(8) + 1); // iChange
    put(20, pages); // nPage
    const ck = walChecksum(!le, h, 0, 40, [0, 0]);
    put(40, ck[0]);
    put(44, ck[1]);
    fs.writeSync(fd, h, 0, 48, 48);
    fs.writeSync(fd, h, 0, 48, 0);
  } finally {
    fs.closeSync(fd);
  }
}

function transactionOpen() {
  for (const s of hrana.openStreams) if (s.busy || s.db.inTransaction) return true;
  return false;
}

class Busy extends Error {}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs fn (synchronously, so that no request runs in between) once no transaction is open and
// the WAL has been logged and checkpointed; throws Busy after 10 s.
async function withQuiescentDb(fn) {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (!transactionOpen()) {
      scanWal();
      if (checkpointTruncate()) return fn();
    }
    if (Date.now() > deadline) throw new Busy("a transaction stays open on the server");
    await sleep(5);
  }
}

function loadGeneration(g) {
  const fd = fs.openSync(genLogPath(g), fs.existsSync(genLogPath(g)) ? "r+" : "w+");
  const data = fs.readFileSync(genLogPath(g));
  const frames = [];
  let committed = 0;
  for (let off = 0; off + WAL_FRAME <= data.length; off += WAL_FRAME) {
    frames.push(frameFrom(data, off));
    if (frames[frames.length - 1].commit) committed = frames.length;
  }
  // A transaction cut off by a crash while it was being appended is dropped.
  frames.length = committed;
  if (data.length !== committed * WAL_FRAME) fs.ftruncateSync(fd, committed * WAL_FRAME);
  gens[g] = { frames, fd };
}

function startGeneration(g) {
  fs.copyFileSync(opts.db, genDbPath(g));
  const dbFd = fs.openSync(genDbPath(g), "r");
  fs.fsyncSync(dbFd);
  fs.closeSync(dbFd);
  fs.writeFileSync(genLogPath(g), "");
  loadGeneration(g);
}

// The connection that stays open as long as the server runs: SQLite checkpoints and deletes the
// WAL when the last connection closes.
const anchor = new Database(opts.db);
anchor.exec("PRAGMA journal_mode=WAL");
anchor.exec("PRAGMA wal_autocheckpoint=0");
if (Number(anchor.prepare("PRAGMA page_size").raw(true).all()[0][0]) !== PAGE) {
  throw new Error(`${opts.db} must use ${PAGE}-byte pages`);
}
fs.mkdirSync(stateDir, { recursive: true });
if (fs.existsSync(metaPath)) {
  meta = JSON.parse(fs.readFileSync(metaPath, "utf8"));
  for (let g = 1; g <= meta.generation; g++) loadGeneration(g);
} else {
  if (!checkpointTruncate()) throw new Error("cannot checkpoint " + opts.db);
  meta = {
    version: 1,
    generation: 1,
    log_id: crypto.randomUUID(),
    generation_id: crypto.randomUUID(),
    snapshot_frame_no: 0,
    applied: 0,
    wal: null,
  };
  startGeneration(1);
  saveMeta();
}
{
  // The gRPC log begins with the pages of generation 1's export, as one transaction.
  const base = fs.readFileSync(genDbPath(1));
  const pages = base.length / PAGE;
  for (let i = 0; i < pages; i++) {
    addV1({ pgno: i + 1, commit: i === pages - 1 ? pages : 0, page: base.subarray(i * PAGE, (i + 1) * PAGE), header: null });
  }
  for (let g = 1; g <= meta.generation; g++) for (const f of gens[g].frames) addV1(f);
}
scanWal();
{
  // Pushed frames logged before a crash let them reach the database file.
  const log = gens[meta.generation].frames;
  if (meta.applied < log.length) {
    if (!checkpointTruncate()) throw new Error("cannot checkpoint " + opts.db);
    rawApply(log.slice(meta.applied));
    meta.applied = log.length;
    saveMeta();
  }
}

hrana.configure({
  db: opts.db,
  token: opts.token,
  onOpen: (db) => db.exec("PRAGMA wal_autocheckpoint=0"),
  afterRequest: scanWal,
});

// ---------------------------------------------------------------------------------------------
// HTTP sync

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function framesBody(frames) {
  return Buffer.concat(frames.flatMap((f) => [f.header, f.page]));
}

function pullFrames(res, g, start, end) {
  scanWal();
  const current = meta.generation;
  if (!(g >= 1 && g <= current) || !(start >= 1) || !(end > start)) return sendJson(res, 400, { generation: current });
  const log = gens[g].frames;
  if (start > log.length) return sendJson(res, 400, { generation: current });
  const body = framesBody(log.slice(start - 1, Math.min(end - 1, log.length)));
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
  res.end(body);
}

function exportGeneration(res, g) {
  if (!(g >= 1 && g <= meta.generation)) return sendJson(res, 404, { error: `no generation ${g}` });
  const data = fs.readFileSync(genDbPath(g));
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
  res.end(data);
}

const samePage = (a, b) => a.pgno === b.pgno && a.commit === b.commit && a.page.equals(b.page);
const batons = new Map(); // baton -> { base: log length when the transaction began, frames }

async function pushFrames(res, g, start, end, baton, body) {
  const count = end - start;
  if (!(start >= 1) || !(count >= 1) || body.length !== count * WAL_FRAME) {
    return sendJson(res, 400, { error: `expected ${count} frames of ${WAL_FRAME} bytes, got ${body.length} bytes` });
  }
  const frames = [];
  for (let i = 0; i < count; i++) frames.push(frameFrom(body, i * WAL_FRAME));
  if (frames.some((f) => f.pgno < 1)) return sendJson(res, 400, { error: "frame with page number 0" });
  let reply;
  try {
    reply = await withQuiescentDb(() => applyPush(g, start, end, baton, frames));
  } catch (err) {
    if (err instanceof Busy) return sendJson(res, 503, { error: err.message });
    throw err;
  }
  sendJson(res, 200, reply);
}

function applyPush(g, start, end, baton, frames) {
  const current = meta.generation;
  const log = gens[current].frames;
  const conflict = () => {
    counters.conflicts++;
    if (baton) batons.delete(baton);
    return { status: "conflict", generation: current, max_frame_no: log.length, baton: null };
  };
  if (g !== current) return conflict();
  let pending = baton ? batons.get(baton) : undefined;
  if (pending && pending.base !== log.length) return conflict(); // someone committed meanwhile
  if (!pending) pending = { base: log.length, frames: [] };
  const next = () => log.length + pending.frames.length + 1;
  const reply = (maxFrameNo) => {
    let id = null;
    if (pending.frames.length > 0) {
      id = baton && batons.get(baton) === pending ? baton : crypto.randomBytes(12).toString("hex");
      batons.set(id, pending);
    }
    if (baton && baton !== id) batons.delete(baton);
    return { status: "ok", generation: current, max_frame_no: maxFrameNo, baton: id };
  };
  // A gap: the client resends from the frame after the one answered.
  if (start > next()) return reply(next() - 1);
  for (let i = 0; i < frames.length; i++) {
    const p = start + i;
    const f = frames[i];
    if (p <= log.length) {
      if (!samePage(log[p - 1], f)) return conflict();
      counters.push_replays++;
    } else if (p < next()) {
      if (!samePage(pending.frames[p - log.length - 1], f)) return conflict();
      counters.push_replays++;
    } else {
      pending.frames.push(f);
      if (f.commit) {
        appendTxn(pending.frames);
        rawApply(pending.frames);
        counters.pushed_frames += pending.frames.length;
        meta.applied = log.length;
        saveMeta();
        pending = { base: log.length, frames: [] };
      }
    }
  }
  return reply(end - 1);
}

async function syncRoute(req, res, p) {
  const parts = p.split("/").slice(1); // ["info"] | ["export", g] | ["sync", g, start, end, baton?]
  const num = (s) => (/^\d+$/.test(s || "") ? Number(s) : NaN);
  if (req.method === "GET" && p === "/info") {
    scanWal();
    return sendJson(res, 200, { current_generation: meta.generation });
  }
  if (req.method === "GET" && parts[0] === "export" && parts.length === 2) return exportGeneration(res, num(parts[1]));
  if (parts[0] === "sync" && req.method === "GET" && parts.length === 4) {
    return pullFrames(res, num(parts[1]), num(parts[2]), num(parts[3]));
  }
  if (parts[0] === "sync" && req.method === "POST" && (parts.length === 4 || parts.length === 5)) {
    const body = await readBody(req);
    return pushFrames(res, num(parts[1]), num(parts[2]), num(parts[3]), parts[4] || null, body);
  }
  req.resume();
  sendJson(res, 404, { error: "not found" });
}

// ---------------------------------------------------------------------------------------------
// gRPC-web: the replication log (wal_log.ReplicationLog) and writes (proxy.Proxy)

const GRPC = { OK: 0, INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 };
class GrpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function grpcFrame(flag, payload) {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return [head, payload];
}

function grpcReply(res, messages, status, message) {
  const headers = { "content-type": "application/grpc-web+proto" };
  const encoded = encodeURIComponent(message || "");
  if (status !== GRPC.OK) {
    headers["grpc-status"] = String(status);
    headers["grpc-message"] = encoded;
  }
  const trailer = Buffer.from(`grpc-status:${status}\r\ngrpc-message:${encoded}\r\n`);
  const body = Buffer.concat([...messages.flatMap((m) => grpcFrame(0, m)), ...grpcFrame(0x80, trailer)]);
  headers["content-length"] = body.length;
  res.grpcStatus = status; // for the request log
  res.writeHead(200, headers);
  res.end(body);
}

function v1FrameData(f, sizeAfter) {
  const h = Buffer.alloc(24);
  h.writeBigUInt64LE(f.v1no, 0);
  h.writeBigUInt64LE(f.v1checksum, 8);
  h.writeUInt32LE(f.pgno, 16);
  h.writeUInt32LE(sizeAfter, 20);
  return pbEncode([[1, "bytes", Buffer.concat([h, f.page])]]); // wal_log.Frame { data }
}

function lastFrameNo() {
  return v1.length > 0 ? v1.length - 1 : undefined;
}

function logOffset(msg) {
  const fields = pbDecode(msg);
  if (Number(pbFirst(fields, 2) || 0n) === 1) throw new GrpcError(GRPC.INVALID_ARGUMENT, "libsql wal not supported");
  return Number(pbFirst(fields, 1) || 0n);
}

function checkSession(headers) {
  if (headers["x-session-token"] !== sessionToken) throw new GrpcError(GRPC.FAILED_PRECONDITION, "NO_HELLO");
}

// Frames from offset, up to limit frames and then on to the end of the transaction.
function logEntries(offset, limit) {
  if (offset < meta.snapshot_frame_no) throw new GrpcError(GRPC.FAILED_PRECONDITION, "NEED_SNAPSHOT");
  const out = [];
  for (let i = offset; i < v1.length; i++) {
    out.push(v1FrameData(v1[i], v1[i].commit));
    if (out.length >= limit && v1[i].commit) break;
  }
  return out;
}

// Proxy: one hrana stream (database connection) per client_id.
const proxyClients = new Map(); // client_id -> { stream, lastUsed }
function proxyClient(clientId) {
  let client = proxyClients.get(clientId);
  if (!client) {
    client = { stream: hrana.openStream(), lastUsed: Date.now() };
    proxyClients.set(clientId, client);
  }
  client.lastUsed = Date.now();
  return client;
}
setInterval(() => {
  for (const [id, client] of proxyClients) {
    if (Date.now() - client.lastUsed > 60000 && !client.stream.db.inTransaction) {
      hrana.closeStream(client.stream);
      proxyClients.delete(id);
    }
  }
}, 5000).unref();

function proxyError(err) {
  // As sqld: SQL errors are Internal (3) with SQLite's message and extended code.
  const extended = typeof err.rawCode === "number" ? err.rawCode : 0;
  return pbEncode([[1, "varint", 3], [2, "string", err.message], [3, "varint", extended]]);
}

function decodeQuery(buf) {
  const q = pbDecode(buf);
  const stmt = { sql: pbString(q, 1), args: [], named_args: [], want_rows: !(pbFirst(q, 4) === 1n) };
  const values = (list) => (list || []).map((v) => bincodeToHrana(pbFirst(pbDecode(v), 1) || Buffer.alloc(4)));
  if (q[2]) stmt.args = values(pbDecode(q[2][0])[1]);
  if (q[3]) {
    const named = pbDecode(q[3][0]);
    const names = (named[1] || []).map((n) => n.toString("utf8"));
    stmt.named_args = values(named[2]).map((value, i) => ({ name: names[i], value }));
  }
  return stmt;
}

// sqld's eval_cond: a step is "ok" when it ran without error; a skipped step counts as failed.
function evalCond(buf, ok, db) {
  const c = pbDecode(buf);
  const step = (b) => {
    const n = Number(pbInt(pbDecode(b), 1));
    if (n < 0 || n >= ok.length) throw new Error(`invalid batch step ${n}`);
    return ok[n];
  };
  if (c[1]) return step(c[1][0]);
  if (c[2]) return !step(c[2][0]);
  if (c[3]) return !evalCond(pbFirst(pbDecode(c[3][0]), 1) || Buffer.alloc(0), ok, db);
  if (c[4]) return (pbDecode(c[4][0])[1] || []).every((x) => evalCond(x, ok, db));
  if (c[5]) return (pbDecode(c[5][0])[1] || []).some((x) => evalCond(x, ok, db));
  if (c[6]) return !db.inTransaction;
  throw new Error("empty condition");
}

function resultRows(r) {
  const cols = r.cols.map((c) => [1, "message", pbEncode([[1, "string", c.name], [3, "string", c.decltype || undefined]])]);
  const rows = r.rows.map((row) => [2, "message", pbEncode(row.map((v) => [1, "message", pbEncode([[1, "bytes", hranaToBincode(v)]])]))]);
  return pbEncode([...cols, ...rows, [3, "varint", r.affected_row_count], [4, "varint", r.last_insert_rowid === undefined ? undefined : BigInt(r.last_insert_rowid)]]);
}

function execute(msg) {
  const req = pbDecode(msg);
  const clientId = pbString(req, 1);
  const steps = req[2] ? pbDecode(req[2][0])[1] || [] : [];
  const { stream } = proxyClient(clientId);
  const ok = [];
  const results = [];
  for (const stepBuf of steps) {
    const step = pbDecode(stepBuf);
    let enabled = true;
    let error = null;
    if (step[1]) {
      try {
        enabled = evalCond(step[1][0], ok, stream.db);
      } catch (err) {
        enabled = false;
        error = err;
      }
    }
    let rows = { cols: [], rows: [], affected_row_count: 0, last_insert_rowid: undefined };
    if (enabled) {
      try {
        rows = hrana.executeStmt(stream, decodeQuery(step[2] ? step[2][0] : Buffer.alloc(0)));
      } catch (err) {
        error = err;
      }
    }
    ok.push(enabled && !error);
    results.push(error ? pbEncode([[1, "message", proxyError(error)]]) : pbEncode([[2, "message", resultRows(rows)]]));
  }
  scanWal();
  return pbEncode([
    ...results.map((r) => [1, "message", r]),
    [2, "varint", stream.db.inTransaction ? 2 : 0], // State TXN / INIT
    [3, "varint", lastFrameNo()],
  ]);
}

// Parameters of a statement (npm libsql does not tell them): ?, ?NNN, :name, @name, $name outside
// strings, quoted names and comments.
function describeParams(sql) {
  const names = [];
  let count = 0;
  const byName = new Map();
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '"' || ch === "`" || ch === "[") {
      const close = ch === "[" ? "]" : ch;
      i = sql.indexOf(close, i + 1);
      if (i < 0) break;
    } else if (ch === "-" && sql[i + 1] === "-") {
      i = sql.indexOf("\n", i);
      if (i < 0) break;
    } else if (ch === "/" && sql[i + 1] === "*") {
      i = sql.indexOf("*/", i + 2);
      if (i < 0) break;
      i++;
    } else if (ch === "?") {
      const m = /^\d+/.exec(sql.slice(i + 1));
      if (m) {
        const n = Number(m[0]);
        if (!byName.has("?" + m[0])) {
          byName.set("?" + m[0], n);
          names.push("?" + m[0]);
        }
        count = Math.max(count, n);
        i += m[0].length;
      } else count++;
    } else if ((ch === ":" || ch === "@" || ch === "$") && /[A-Za-z0-9_]/.test(sql[i + 1] || "")) {
      const m = /^[A-Za-z0-9_]+/.exec(sql.slice(i + 1));
      const name = ch + m[0];
      if (!byName.has(name)) {
        byName.set(name, ++count);
        names.push(name);
      }
      i += m[0].length;
    }
  }
  return { names, count };
}

function describe(msg) {
  const req = pbDecode(msg);
  const { stream } = proxyClient(pbString(req, 1));
  const sql = pbString(req, 2);
  let prepared;
  try {
    prepared = stream.db.prepare(sql);
  } catch (err) {
    throw new GrpcError(GRPC.PERMISSION_DENIED, err.message);
  }
  const cols = prepared.reader ? prepared.columns().map((c) => [1, "message", pbEncode([[1, "string", c.name], [3, "string", c.type || undefined]])]) : [];
  const params = describeParams(sql);
  const description = pbEncode([...cols, ...params.names.map((n) => [2, "string", n]), [3, "varint", params.count]]);
  return pbEncode([[2, "message", description]]);
}

function disconnect(msg) {
  const clientId = pbString(pbDecode(msg), 1);
  const client = proxyClients.get(clientId);
  if (client) {
    hrana.closeStream(client.stream);
    proxyClients.delete(clientId);
  }
  return pbEncode([]);
}

const grpcMethods = {
  "/wal_log.ReplicationLog/Hello": () => [
    pbEncode([
      [1, "string", meta.generation_id],
      [2, "varint", 0],
      [3, "string", meta.log_id],
      [4, "bytes", Buffer.from(sessionToken)],
      [5, "varint", lastFrameNo()],
      [6, "message", Buffer.alloc(0)], // metadata.DatabaseConfig, all defaults
    ]),
  ],
  "/wal_log.ReplicationLog/BatchLogEntries": (msg, headers) => {
    checkSession(headers);
    const frames = logEntries(logOffset(msg), opts.v1BatchFrames);
    return [pbEncode(frames.map((f) => [1, "message", f]))];
  },
  "/wal_log.ReplicationLog/LogEntries": (msg, headers) => {
    checkSession(headers);
    return logEntries(logOffset(msg), Infinity);
  },
  "/wal_log.ReplicationLog/Snapshot": (msg, headers) => {
    checkSession(headers);
    const offset = logOffset(msg);
    const end = meta.snapshot_frame_no;
    if (offset >= end) throw new GrpcError(GRPC.UNAVAILABLE, "snapshot not found");
    const size = v1[end - 1].commit;
    const latest = new Map();
    for (let i = offset; i < end; i++) latest.set(v1[i].pgno, i);
    const order = [...latest].filter(([pgno]) => pgno <= size).map(([, i]) => i).sort((a, b) => b - a);
    return order.map((i, k) => v1FrameData(v1[i], k === order.length - 1 ? size : 0));
  },
  "/proxy.Proxy/Execute": (msg) => [execute(msg)],
  "/proxy.Proxy/Describe": (msg) => [describe(msg)],
  "/proxy.Proxy/Disconnect": (msg) => [disconnect(msg)],
};

async function grpcRoute(req, res, p) {
  const body = await readBody(req);
  try {
    if (opts.token !== null && req.headers["x-authorization"] !== `Bearer ${opts.token}`) {
      throw new GrpcError(GRPC.UNAUTHENTICATED, "AuthError: the token is missing or wrong");
    }
    const ns = req.headers["x-namespace-bin"];
    if (opts.namespace !== null && (ns === undefined || Buffer.from(ns, "base64").toString("utf8") !== opts.namespace)) {
      throw new GrpcError(GRPC.FAILED_PRECONDITION, "NAMESPACE_DOESNT_EXIST");
    }
    const method = grpcMethods[p];
    if (!method) throw new GrpcError(GRPC.UNIMPLEMENTED, `${p} is not served`);
    if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
      throw new GrpcError(GRPC.INVALID_ARGUMENT, "expected one uncompressed gRPC-web message");
    }
    grpcReply(res, method(body.subarray(5), req.headers), GRPC.OK);
  } catch (err) {
    if (err instanceof GrpcError) return grpcReply(res, [], err.code, err.message);
    grpcReply(res, [], GRPC.INTERNAL, err.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Debug routes, faults, the request log

const requestCounts = {};
const requestLog = [];
const faults = [];

function routeName(p) {
  const m = /^\/(sync|export)\//.exec(p);
  return m ? "/" + m[1] : p;
}

function takeFault(method, p) {
  for (let i = 0; i < faults.length; i++) {
    const f = faults[i];
    if ((!f.method || f.method === method) && p.startsWith(f.path || "/")) {
      if (f.skip > 0) {
        f.skip--;
        continue;
      }
      if (--f.remaining <= 0) faults.splice(i, 1);
      return f;
    }
  }
  return null;
}

function die() {
  process.kill(process.pid, "SIGKILL");
}

function execDebug(body) {
  const args = (body.args || []).map((a) => {
    if (a === null) return { type: "null" };
    if (typeof a === "number") return Number.isInteger(a) ? { type: "integer", value: String(a) } : { type: "float", value: a };
    if (typeof a === "string") return { type: "text", value: a };
    if (a && typeof a.base64 === "string") return { type: "blob", base64: a.base64 };
    throw new Error("unsupported argument " + JSON.stringify(a));
  });
  const stream = hrana.openStream();
  try {
    const r = hrana.executeStmt(stream, { sql: String(body.sql), args });
    const plain = (v) => {
      if (v.type === "integer") {
        const n = BigInt(v.value);
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : v.value;
      }
      if (v.type === "blob") return { base64: Buffer.from(v.base64, "base64").toString("base64") }; // padded
      return v.type === "null" ? null : v.value;
    };
    return {
      columns: r.cols.map((c) => c.name),
      rows: r.rows.map((row) => row.map(plain)),
      affected: r.affected_row_count,
      last_insert_rowid: Number(r.last_insert_rowid),
    };
  } finally {
    hrana.closeStream(stream);
    scanWal();
  }
}

async function debugRoute(req, res, p) {
  const body = await readBody(req);
  let json = {};
  try {
    if (body.length > 0) json = JSON.parse(body.toString("utf8"));
  } catch (err) {
    return sendJson(res, 400, { error: "invalid JSON: " + err.message });
  }
  const key = `${req.method} ${p}`;
  try {
    switch (key) {
      case "GET /debug/stats":
        scanWal();
        return sendJson(res, 200, {
          generation: meta.generation,
          frames: gens[meta.generation].frames.length,
          v1_next_frame_no: v1.length,
          v1_snapshot_frame_no: meta.snapshot_frame_no,
          ...counters,
          requests: requestCounts,
          hrana: hrana.stats,
        });
      case "GET /debug/requests":
        return sendJson(res, 200, requestLog);
      case "DELETE /debug/requests":
        requestLog.length = 0;
        return sendJson(res, 200, {});
      case "POST /debug/new-generation": {
        const g = await withQuiescentDb(() => {
          startGeneration(meta.generation + 1);
          meta.generation += 1;
          meta.applied = 0;
          batons.clear();
          saveMeta();
          return meta.generation;
        });
        return sendJson(res, 200, { generation: g });
      }
      case "POST /debug/compact":
        scanWal();
        meta.snapshot_frame_no = v1.length;
        saveMeta();
        return sendJson(res, 200, { snapshot_frame_no: meta.snapshot_frame_no });
      case "POST /debug/exec":
        return sendJson(res, 200, execDebug(json));
      case "POST /debug/fault":
        faults.push({ ...json, remaining: json.times || 1 });
        return sendJson(res, 200, { faults: faults.length });
      case "GET /debug/fault":
        return sendJson(res, 200, faults);
      case "DELETE /debug/fault":
        faults.length = 0;
        return sendJson(res, 200, {});
      default:
        return sendJson(res, 404, { error: `no debug route ${key}` });
    }
  } catch (err) {
    return sendJson(res, err instanceof Busy ? 503 : 400, { error: err.message });
  }
}

// Holds back an answer: done(status, headers, body) is called instead of sending it.
function holdAnswer(res, done) {
  const { writeHead, write, end } = res;
  let status = 200;
  let headers = {};
  const chunks = [];
  res.writeHead = (s, h) => {
    status = s;
    if (h) headers = { ...h };
    return res;
  };
  res.write = (c) => {
    if (c) chunks.push(Buffer.from(c));
    return true;
  };
  res.end = (c) => {
    if (c && typeof c !== "function") chunks.push(Buffer.from(c));
    Object.assign(res, { writeHead, write, end });
    done(status, headers, Buffer.concat(chunks));
    return res;
  };
}

function dropConnection(res) {
  res.socket.destroy();
}

async function withFault(f, req, res, p) {
  const action = f.action || "close";
  const act = (proceed) => {
    if (action === "exit") return die();
    if (action === "status") return sendJson(res, f.status || 503, f.body === undefined ? {} : f.body);
    if (action === "delay") return setTimeout(proceed, f.delay_ms || 0);
    return dropConnection(res);
  };
  if ((f.at || "request") === "request") {
    if (f.request_bytes !== undefined) {
      let seen = 0;
      return new Promise((resolve) => {
        const hit = () => {
          req.removeAllListeners("data");
          act(() => {});
          resolve();
        };
        req.on("data", (c) => {
          seen += c.length;
          if (seen >= f.request_bytes) hit();
        });
        req.on("end", hit);
      });
    }
    return act(() => route(req, res, p));
  }
  holdAnswer(res, (status, headers, body) => {
    if (f.response_bytes === undefined) {
      return act(() => {
        res.writeHead(status, headers);
        res.end(body);
      });
    }
    res.writeHead(status, headers);
    res.write(body.subarray(0, f.response_bytes), () => (action === "exit" ? die() : dropConnection(res)));
  });
  return route(req, res, p);
}

function route(req, res, p) {
  if (opts.encryptionKey !== null && req.headers["x-turso-encryption-key"] !== opts.encryptionKey) {
    req.resume();
    return sendJson(res, 400, { error: "the database is encrypted: x-turso-encryption-key is missing or wrong" });
  }
  if (p === "/info" || p.startsWith("/export/") || p.startsWith("/sync/")) {
    if (opts.mode === "grpc") {
      req.resume();
      return sendJson(res, 404, { error: "not found" });
    }
    if (opts.token !== null && req.headers.authorization !== `Bearer ${opts.token}`) {
      req.resume();
      return sendJson(res, 401, { error: "Unauthorized: the token is missing or wrong" });
    }
    return syncRoute(req, res, p);
  }
  if (p.startsWith("/wal_log.ReplicationLog/") || p.startsWith("/proxy.Proxy/")) {
    if (opts.mode === "http") {
      req.resume();
      return sendJson(res, 404, { error: "not found" });
    }
    return grpcRoute(req, res, p);
  }
  return hrana.serveHttp(req, res);
}

const server = http.createServer((req, res) => {
  const p = req.url.split("?")[0];
  if (p.startsWith("/debug/")) return debugRoute(req, res, p).catch((err) => sendJson(res, 500, { error: err.message }));
  const name = `${req.method} ${routeName(p)}`;
  requestCounts[name] = (requestCounts[name] || 0) + 1;
  const entry = {
    method: req.method,
    path: p,
    status: null,
    bytes: 0,
    encryption_key: req.headers["x-turso-encryption-key"] ?? null,
  };
  const { write, end } = res;
  res.write = function (c, ...rest) {
    if (c && typeof c !== "function") entry.bytes += Buffer.byteLength(c);
    return write.call(this, c, ...rest);
  };
  res.end = function (c, ...rest) {
    if (c && typeof c !== "function") entry.bytes += Buffer.byteLength(c);
    return end.call(this, c, ...rest);
  };
  let logged = false;
  const log = () => {
    if (logged) return;
    logged = true;
    entry.status = res.headersSent ? res.statusCode : null;
    if (res.grpcStatus !== undefined) entry.grpc_status = res.grpcStatus;
    if (!res.writableFinished) entry.cut = true;
    requestLog.push(entry);
    if (requestLog.length > 1000) requestLog.shift();
  };
  res.on("finish", log);
  res.on("close", log);
  const fault = takeFault(req.method, p);
  const handled = fault ? withFault(fault, req, res, p) : route(req, res, p);
  Promise.resolve(handled).catch((err) => {
    process.stderr.write(`libsql_sync_server: ${req.method} ${p}: ${err.stack}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: err.message });
    else res.destroy();
  });
});
server.keepAliveTimeout = 60000;
server.on("upgrade", (req, socket, head) => {
  if (opts.encryptionKey !== null && req.headers["x-turso-encryption-key"] !== opts.encryptionKey) {
    return socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  }
  return hrana.serveUpgrade(req, socket, head);
});
hrana.useServer(server);

server.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
