// The Turso sync protocol (tursodb --sync-server, Turso): POST /pull-updates answers every page
// changed since the client's revision, applied in one step.
#include "ecto_libsql/error.hpp"
#include "replica/sync_driver.hpp"
#include "replica/sync_protocol.hpp"

namespace ecto_libsql::replica {
namespace {

class TursoDriver final : public SyncDriver {
 public:
  explicit TursoDriver(const SyncTarget& target) : target_(target) {}
  [[nodiscard]] ProtocolKind kind() const noexcept override { return ProtocolKind::Turso; }

  std::int64_t pull(SyncState& state, bool bootstrap, const ApplyFn& apply) override {
    SyncClient client(target_.endpoint, target_.client);
    HttpReply reply =
        client.post("/pull-updates", encode_pull_request(state.revision), "application/protobuf");
    if (reply.status != 200) throw answer_error(kind(), "POST /pull-updates", reply, client);
    PullReply pulled = decode_pull_reply(std::move(reply.body));
    const auto pages = static_cast<std::int64_t>(pulled.pages.size());
    if (pulled.server_revision != state.revision || bootstrap) {
      SyncState next = state;
      next.revision = pulled.server_revision;
      if (bootstrap || !pulled.pages.empty()) {
        apply(pulled.pages, next);
      } else {
        apply(PageSet(), next);
      }
      state = std::move(next);
    }
    return pages;
  }

 private:
  SyncTarget target_;
};

}  // namespace

std::unique_ptr<SyncDriver> make_turso_driver(const SyncTarget& target) {
  return std::make_unique<TursoDriver>(target);
}

}  // namespace ecto_libsql::replica
