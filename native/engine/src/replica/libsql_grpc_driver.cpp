// libSQL's gRPC replication log (sqld, libsql-replication; libsql/src/replication/): Hello gives
// the log id, a session token and the primary's replication index; BatchLogEntries(offset)
// answers up to a batch of frames from `offset`; NEED_SNAPSHOT makes the client fetch
// Snapshot(offset), the latest version of every page (highest frame first, the last frame
// carrying the size), applied as one transaction. A new log id restarts from offset 0.
#include <chrono>

#include "ecto_libsql/error.hpp"
#include "replica/grpc_web.hpp"
#include "replica/sync_driver.hpp"
#include "replica/wal_frames.hpp"

namespace ecto_libsql::replica {
namespace {

constexpr std::size_t kApplyBytes = std::size_t{64} << 20;
constexpr std::string_view kService = "/wal_log.ReplicationLog/";
constexpr std::uint64_t kNone = UINT64_MAX;

struct CallFailed {
  int status;
  std::string message;
};

class LibsqlGrpcDriver final : public SyncDriver {
 public:
  explicit LibsqlGrpcDriver(const SyncTarget& target) : target_(target) {}
  [[nodiscard]] ProtocolKind kind() const noexcept override { return ProtocolKind::LibsqlGrpc; }

  std::int64_t pull(SyncState& state, bool bootstrap, const ApplyFn& apply) override {
    SyncClient client(target_.endpoint, target_.client);
    client_ = &client;
    struct Reset {
      SyncClient** c;
      ~Reset() { *c = nullptr; }
    } reset{&client_};

    const grpc::HelloResponse hello = handshake();
    if (!state.log_id.empty() && state.log_id != hello.log_id && !bootstrap) {
      // The server's log was replaced: replicate again from its start, over the local file.
      SyncState next = state;
      next.log_id = hello.log_id;
      next.revision.clear();
      apply(PageSet(), next);
      state = std::move(next);
    } else if (state.log_id != hello.log_id) {
      state.log_id = hello.log_id;
    }
    const std::optional<std::uint64_t> primary = hello.current_replication_index;

    std::int64_t frames = 0;
    TransactionAssembler assembler;
    // kNone: nothing yet (the next offset is 0), as libsql's FrameNo::MAX.
    std::uint64_t committed = state.revision.empty() ? kNone : std::stoull(state.revision);
    std::uint64_t last_received = committed;
    auto flush = [&] {
      if (!assembler.has_committed()) return;
      SyncState next = state;
      next.revision = std::to_string(committed);
      apply(assembler.take_committed(), next);
      state = std::move(next);
    };
    bool rehello = false;
    const auto deadline = std::chrono::steady_clock::now() + target_.client.timeout;
    while (true) {
      const std::uint64_t offset = last_received == kNone ? 0 : last_received + 1;
      std::vector<std::string_view> batch;
      std::shared_ptr<const std::string> body;
      try {
        HttpReply reply = call("BatchLogEntries", grpc::encode_log_offset(offset));
        body = std::make_shared<const std::string>(std::move(reply.body));
        const grpc::Answer answer = answer_of(reply, *body);
        for (std::string_view m : answer.messages) {
          for (std::string_view data : grpc::decode_frames(m))
            batch.push_back(data);
        }
      } catch (const CallFailed& failed) {
        if (failed.message == "NO_HELLO" && !rehello) {
          rehello = true;
          handshake();
          continue;
        }
        if (failed.message == "NEED_SNAPSHOT") {
          assembler.drop_pending();
          flush();
          frames += snapshot(state, offset, apply, committed);
          last_received = committed;
          continue;
        }
        throw call_error("BatchLogEntries", failed);
      }
      if (batch.empty()) break;
      assembler.hold(body);
      for (std::string_view data : batch) {
        const LogFrameView f = parse_log_frame(data);
        if (last_received != kNone && f.frame_no <= last_received) {
          throw Error(kCodeProtocol, std::string(protocol_title(kind())) +
                                         ": frames out of order (" + std::to_string(f.frame_no) +
                                         " after " + std::to_string(last_received) + ")");
        }
        last_received = f.frame_no;
        if (assembler.add(f.page_no, f.page, f.size_after)) committed = f.frame_no;
        ++frames;
      }
      if (assembler.committed_bytes() >= kApplyBytes) flush();
      const bool caught_up = !assembler.in_transaction() &&
                             (!primary || (committed != kNone && committed >= *primary));
      if (caught_up) break;
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
    flush();
    return frames;
  }

 private:
  grpc::HelloResponse handshake() {
    HttpReply reply = call("Hello", grpc::encode_hello_request());
    try {
      const grpc::Answer answer = answer_of(reply, reply.body);
      if (answer.messages.size() != 1) {
        throw Error(kCodeProtocol,
                    std::string(protocol_title(kind())) + ": Hello answered no HelloResponse");
      }
      grpc::HelloResponse hello = grpc::decode_hello_response(answer.messages[0]);
      session_token_ = hello.session_token;
      return hello;
    } catch (const CallFailed& failed) {
      throw call_error("Hello", failed);
    }
  }

  // Applies Snapshot(offset) as one transaction; answers the number of frames.
  std::int64_t snapshot(SyncState& state, std::uint64_t offset, const ApplyFn& apply,
                        std::uint64_t& committed) {
    HttpReply reply = call("Snapshot", grpc::encode_log_offset(offset));
    auto body = std::make_shared<const std::string>(std::move(reply.body));
    grpc::Answer answer;
    try {
      answer = answer_of(reply, *body);
    } catch (const CallFailed& failed) {
      throw call_error("Snapshot", failed);
    }
    std::vector<LogFrameView> frames;
    for (std::string_view m : answer.messages)
      frames.push_back(parse_log_frame(grpc::decode_frame(m)));
    if (frames.empty()) {
      throw Error(kCodeProtocol, std::string(protocol_title(kind())) + ": an empty snapshot");
    }
    // Highest frame first; the last frame sent carries the database size.
    const std::uint32_t size_after = frames.back().size_after;
    if (size_after == 0) {
      throw Error(kCodeProtocol,
                  std::string(protocol_title(kind())) + ": a snapshot without a commit frame");
    }
    std::uint64_t top = 0;
    PageSet pages;
    pages.hold(body);
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      pages.put(it->page_no, it->page);
      top = std::max(top, it->frame_no);
    }
    pages.commit(size_after);
    pages.finish();
    SyncState next = state;
    next.revision = std::to_string(top);
    apply(pages, next);
    state = std::move(next);
    committed = top;
    return static_cast<std::int64_t>(frames.size());
  }

  HttpReply call(std::string_view method, const std::string& message) {
    const std::string path = std::string(kService) + std::string(method);
    HttpReply reply = client_->post(
        path, grpc::frame_message(message), grpc::kContentType,
        grpc::call_headers(target_.endpoint.host, target_.client.auth_token, session_token_));
    if (reply.status != 200) {
      throw answer_error(kind(), "POST " + path, reply, *client_);
    }
    return reply;
  }

  // The answer's messages; throws CallFailed for a gRPC status other than OK.
  static grpc::Answer answer_of(const HttpReply& reply, std::string_view body) {
    grpc::Answer answer = grpc::read_answer(reply, body);
    if (answer.status > 0) throw CallFailed{answer.status, answer.message};
    return answer;
  }

  Error call_error(std::string_view method, const CallFailed& failed) const {
    std::string message = std::string(protocol_title(kind())) + ": " + std::string(method) +
                          " answered gRPC status " + std::to_string(failed.status);
    if (!failed.message.empty()) message += ": " + client_->excerpt(failed.message);
    if (failed.message == "NAMESPACE_DOESNT_EXIST") {
      message += " (the server has no database for namespace " +
                 std::string(target_.endpoint.host.substr(0, target_.endpoint.host.find('.'))) +
                 ")";
    }
    if (failed.status == grpc::kUnauthenticated || failed.status == grpc::kPermissionDenied) {
      return Error(kCodeAuth, message + " — the server refused the auth token");
    }
    return Error(kCodeIoErr, message);
  }

  SyncTarget target_;
  SyncClient* client_ = nullptr;
  std::string session_token_;
};

}  // namespace

std::unique_ptr<SyncDriver> make_libsql_grpc_driver(const SyncTarget& target) {
  return std::make_unique<LibsqlGrpcDriver>(target);
}

}  // namespace ecto_libsql::replica
