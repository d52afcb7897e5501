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
//        - start = the log's next frame: appended; M = end - 1. A transaction may span several
//          pushes: its frames wait under the returned baton and are applied (database and log)
//          when its commit frame arrives; a push without that baton, or a commit by someone else
//          in between, is a conflict.
//        - frames at positions the log already holds with the same page number, page and commit
//          size: nothing is applied again (idempotent re-push); M = end - 1.
//        - different content at a held position, or g not the current generation: "conflict".
//        - start past the log's next frame: "ok" with M = the log's last frame (the client
//          resends from M + 1).
//        - a body that is not whole frames, a frame not of 4096 bytes: 400.
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
//        "NEED_SNAPSHOT"; wrong token -> UNAUTHENTICATED "AuthError: ...".
//   Frames: 24-byte little-endian header {frame_no u64, checksum u64 (sqld's rolling
//   CRC-64/GO-ISO; the client does not check it), page_no u32, size_after u32 (database pages,
//   not 0 on a commit frame)} + the 4096-byte page. Frame numbers start at 0: frames 0..P-1 are
//   the P pages of the database when the server first started (one transaction), then every
//   transaction in commit order, the same transactions as the HTTP sync generations hold.
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
//                             "grpc Hello": n, ...}}
//   GET    /debug/requests    the last 1000 requests [{"method","path","status","bytes"}];
//                             DELETE clears them
//   POST   /debug/new-generation  starts generation G + 1 (its export is the database now)
//                             -> {"generation"}
//   POST   /debug/compact     gRPC: frames up to now are only served as a snapshot (offsets
//                             before them get NEED_SNAPSHOT) -> {"snapshot_frame_no"}
//   POST   /debug/exec        {"sql", "args": [null | number | string | {"base64": ...}]} runs
//                             one statement on the server -> {"rows", "affected",
//                             "last_insert_rowid"}; its frames are logged as any write's
//   POST   /debug/fault       arms a fault for the next matching requests:
//                             {"method": "POST", "path": "/sync/" (prefix; default any route but
//                              /debug), "times": 1,
//                              "at": "request" (default: before the request is handled, nothing
//                                applied; with "request_bytes": N after reading N body bytes)
//                                | "response" (the request is handled, a push applied, then
//                                the fault replaces the answer; with "response_bytes": N after
//                                sending N bytes of it),
//                              "action": "close" (default: drop the connection) | "exit" (the
//                                process exits: a server dying; restart it on the same --db and
//                                --port) | "status" ("status": 503, "body": "{}") | "delay"
//                                ("delay_ms", then carry on)}
//                             DELETE /debug/fault disarms all; GET lists them
"use strict";
