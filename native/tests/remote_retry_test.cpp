// The one "connection lost" policy of remote connections (HranaStream): a lost connection is
// retried once outside a transaction, never inside one. Against a real tursodb, stopped, or
// behind a proxy that drops a connection after reading a request (which never reaches the
// server).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "remote/hrana_stream.hpp"
#include "test_support.hpp"
#include "tursodb_test.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

// A TCP proxy to 127.0.0.1:`target`; drop_requests(n): the next n requests (data from a
// client) are read and their connections closed without forwarding them.
class DroppingProxy {
 public:
  explicit DroppingProxy(int target) : target_(target) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listener_);
      throw std::runtime_error("the proxy cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~DroppingProxy() {
    stop_ = true;
    acceptor_.join();
    const std::lock_guard lock(mutex_);
    for (std::thread& t : pipes_)
      t.join();
    ::close(listener_);
  }
  DroppingProxy(const DroppingProxy&) = delete;
  DroppingProxy& operator=(const DroppingProxy&) = delete;

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void drop_requests(int n) { to_drop_ = n; }
  [[nodiscard]] int dropped() const { return dropped_; }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      const std::lock_guard lock(mutex_);
      pipes_.emplace_back([this, client] { pipe(client); });
    }
  }

  void pipe(int client) {
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(target_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::vector<char> buffer(65536);
      while (!stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        if (::poll(p, 2, 20) <= 0) continue;
        if ((p[0].revents & (POLLIN | POLLHUP)) != 0) {
          const ssize_t n = ::read(client, buffer.data(), buffer.size());
          if (n <= 0) break;
          if (to_drop_ > 0) {  // read, never forwarded: the connection is lost mid-request
            --to_drop_;
            ++dropped_;
            break;
          }
          if (::write(server, buffer.data(), static_cast<std::size_t>(n)) != n) break;
        }
        if ((p[1].revents & (POLLIN | POLLHUP)) != 0) {
          const ssize_t n = ::read(server, buffer.data(), buffer.size());
          if (n <= 0) break;
          if (::write(client, buffer.data(), static_cast<std::size_t>(n)) != n) break;
        }
      }
    }
    ::close(server);
    ::close(client);
  }

  int target_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> to_drop_{0};
  std::atomic<int> dropped_{0};
  std::mutex mutex_;
  std::vector<std::thread> pipes_;
  std::thread acceptor_;
};

}  // namespace

TEST(RetryAfterLoss, OnlyOutsideATransactionForWhatCannotHaveRunOrIsARead) {
  using remote::retry_after_loss;
  // Outside a transaction: a request that was not sent, or a read.
  EXPECT_TRUE(retry_after_loss(false, false, false, false));
  EXPECT_TRUE(retry_after_loss(false, true, true, false));
  EXPECT_TRUE(retry_after_loss(false, false, true, false));
  // A write that may have run is not repeated.
  EXPECT_FALSE(retry_after_loss(false, true, false, false));
  // Inside a transaction (or a stream holding a baton): never.
  EXPECT_FALSE(retry_after_loss(true, false, false, false));
  EXPECT_FALSE(retry_after_loss(true, false, true, false));
  EXPECT_FALSE(retry_after_loss(true, true, true, false));
  // Not once request_timeout is spent.
  EXPECT_FALSE(retry_after_loss(false, false, true, true));
}

// restart_server(): the connection's socket is dead, a new one reaches the server.
class RemoteRetryTest : public TursodbTest {
 protected:
  void SetUp() override {
    TursodbTest::SetUp();
    if (IsSkipped()) return;
    server_->exec("CREATE TABLE t(x INTEGER)");
    conn_ = connect();
    ASSERT_EQ(rows(*conn_, "SELECT 1"), (std::vector<std::vector<std::string>>{{"1"}}));
  }

  std::shared_ptr<Connection> conn_;
};

TEST_F(RemoteRetryTest, ALostConnectionIsRetriedOutsideATransaction) {
  restart_server();
  EXPECT_EQ(rows(*conn_, "SELECT 2"), (std::vector<std::vector<std::string>>{{"2"}}));
  EXPECT_TRUE(conn_->autocommit());
}

TEST_F(RemoteRetryTest, ALostConnectionIsNeverRetriedInsideATransaction) {
  {
    Connection::Guard guard(*conn_);
    ASSERT_NE(conn_->begin(TransactionBehaviour::Deferred), 0u);
  }
  run(*conn_, "INSERT INTO t VALUES (1)");
  stop_server();
  try {
    run(*conn_, "INSERT INTO t VALUES (2)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kCodeIoErr);
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST");
    EXPECT_NE(e.message().find("inside a transaction"), std::string::npos) << e.message();
  }
  // The transaction is over and nothing of it was applied; the connection reaches the server
  // again.
  EXPECT_TRUE(conn_->autocommit());
  start_server_again();
  EXPECT_EQ(rows(*conn_, "SELECT count(*) FROM t"), (std::vector<std::vector<std::string>>{{"0"}}));
}

TEST_F(RemoteRetryTest, OutsideATransactionTheFailureIsReportedAsSuch) {
  stop_server();
  try {
    run(*conn_, "INSERT INTO t VALUES (1)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kCodeIoErr);
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST");
    EXPECT_EQ(e.message().find("inside a transaction"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("Failed to connect"), std::string::npos) << e.message();
  }
}

class DroppedRequestTest : public TursodbTest {
 protected:
  void SetUp() override {
    TursodbTest::SetUp();
    if (IsSkipped()) return;
    server_->exec("CREATE TABLE t(x INTEGER)");
    proxy_ = std::make_unique<DroppingProxy>(server_->port());
    conn_ = connect(proxy_->url());
    ASSERT_EQ(rows(*conn_, "SELECT 1"), (std::vector<std::vector<std::string>>{{"1"}}));
  }

  void TearDown() override {
    conn_.reset();  // before the proxy and the server it talks to
    proxy_.reset();
  }

  [[nodiscard]] std::string count() const {
    return rows(*conn_, "SELECT count(*) FROM t").at(0).at(0);
  }

  std::unique_ptr<DroppingProxy> proxy_;
  std::shared_ptr<Connection> conn_;
};

TEST_F(DroppedRequestTest, AReadOutsideATransactionIsSentOnceMore) {
  proxy_->drop_requests(1);
  EXPECT_EQ(rows(*conn_, "SELECT 2"), (std::vector<std::vector<std::string>>{{"2"}}));
  EXPECT_EQ(proxy_->dropped(), 1);  // the first attempt never reached the server
}

TEST_F(DroppedRequestTest, OnlyOnce) {
  proxy_->drop_requests(2);
  try {
    rows(*conn_, "SELECT 2");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST") << e.message();
  }
  EXPECT_EQ(proxy_->dropped(), 2);
  EXPECT_EQ(rows(*conn_, "SELECT 3"), (std::vector<std::vector<std::string>>{{"3"}}));
}

TEST_F(DroppedRequestTest, AWriteThatMayHaveRunIsNotRepeated) {
  proxy_->drop_requests(1);
  try {
    run(*conn_, "INSERT INTO t VALUES (1)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST");
    EXPECT_NE(e.message().find("the write was not repeated"), std::string::npos) << e.message();
  }
  EXPECT_EQ(proxy_->dropped(), 1);
  EXPECT_EQ(count(), "0");  // the proxy never forwarded it
}

TEST_F(DroppedRequestTest, NothingIsRetriedInsideATransaction) {
  {
    Connection::Guard guard(*conn_);
    ASSERT_NE(conn_->begin(TransactionBehaviour::Deferred), 0u);
  }
  run(*conn_, "INSERT INTO t VALUES (1)");
  // A second attempt would be dropped too.
  proxy_->drop_requests(2);
  try {
    rows(*conn_, "SELECT count(*) FROM t");  // a read, which outside would be retried
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST");
    EXPECT_NE(e.message().find("inside a transaction"), std::string::npos) << e.message();
  }
  EXPECT_EQ(proxy_->dropped(), 1);  // no second attempt
  proxy_->drop_requests(0);
  EXPECT_TRUE(conn_->autocommit());
}
