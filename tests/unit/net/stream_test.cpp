#include "net/stream.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "run_on.h"

namespace herald::net {
namespace {

// What a TestStream saw; outlives the stream, which deletes itself.
struct Record {
  std::mutex mutex;
  std::string received;
  std::atomic<bool> closed{false};
  std::atomic<int> reason{-1};
  size_t keep_tail = 0;  // on_data leaves this many bytes unconsumed each time
  std::string last_presented;
};

class TestStream : public Stream {
 public:
  TestStream(EventLoop& loop, int fd, size_t cap, Record& rec) : Stream(loop, fd, cap), rec_(rec) {}

 protected:
  size_t on_data(uint8_t* data, size_t size) override {
    std::lock_guard<std::mutex> lock(rec_.mutex);
    rec_.last_presented.assign(reinterpret_cast<char*>(data), size);
    size_t take = size > rec_.keep_tail ? size - rec_.keep_tail : 0;
    rec_.received.append(reinterpret_cast<char*>(data), take);
    return take;
  }
  void on_closed(CloseReason reason) override {
    rec_.reason = static_cast<int>(reason);
    rec_.closed = true;
  }

 private:
  Record& rec_;
};

// A loop on its own thread plus one end of a socketpair; the test drives the other end.
class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.init().ok());
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours_ = fds[0];
    peer_ = fds[1];
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    if (stream_ != nullptr && !rec_.closed) {
      on_loop([&] { stream_->abort(); });  // deleted at the end of that iteration
    }
    loop_.stop();
    thread_.join();
    if (peer_ >= 0) {
      ::close(peer_);
    }
  }

  // Runs fn on the loop thread and waits for it.
  template <typename Fn>
  void on_loop(Fn fn) {
    testing::run_on(loop_, fn);
  }

  TestStream* make(size_t cap) {
    TestStream* s = nullptr;
    on_loop([&] {
      s = new TestStream(loop_, ours_, cap, rec_);
      ASSERT_TRUE(s->start());
    });
    stream_ = s;
    return s;
  }

  // Reads from the peer end until n bytes or EOF or 5 s.
  std::string peer_read(size_t n, bool* eof = nullptr) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      pollfd p{peer_, POLLIN, 0};
      poll(&p, 1, 100);
      char buf[65536];
      ssize_t r = ::read(peer_, buf, sizeof(buf));
      if (r == 0) {
        if (eof != nullptr) {
          *eof = true;
        }
        break;
      }
      if (r > 0) {
        out.append(buf, static_cast<size_t>(r));
      }
    }
    return out;
  }

  template <typename Pred>
  bool wait_for(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  EventLoop loop_{0};
  std::thread thread_;
  int ours_ = -1;
  int peer_ = -1;
  TestStream* stream_ = nullptr;  // owned by the loop; freed once closed
  Record rec_;
};

TEST_F(StreamTest, WritesInOneIterationArriveInOrder) {
  TestStream* s = make(1 << 20);
  std::string expected;
  on_loop([&] {
    for (int i = 0; i < 1000; ++i) {
      std::string piece = "msg" + std::to_string(i) + ";";
      expected += piece;
      ASSERT_TRUE(s->write(piece));
    }
  });
  EXPECT_EQ(peer_read(expected.size()), expected);
}

TEST_F(StreamTest, SharedBufferIsSentToManyWithoutCopy) {
  TestStream* s = make(1 << 20);
  SharedBuffer shared = make_shared_buffer(std::string(1000, 'x'));
  on_loop([&] {
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(s->write(shared));
    }
  });
  EXPECT_EQ(peer_read(10000), std::string(10000, 'x'));
  EXPECT_TRUE(wait_for([&] { return shared.use_count() == 1; })) << "queue released its refs";
}

TEST_F(StreamTest, CopiedAndSharedWritesKeepTheirOrder) {
  TestStream* s = make(1 << 20);
  SharedBuffer shared = make_shared_buffer(std::string("[shared]"));
  std::string expected;
  on_loop([&] {
    for (int i = 0; i < 100; ++i) {
      std::string a = "<" + std::to_string(i);
      ASSERT_TRUE(s->write_copy(a, ">"));
      expected += a + ">";
      if (i % 7 == 0) {
        ASSERT_TRUE(s->write(shared));
        expected += "[shared]";
      }
    }
  });
  EXPECT_EQ(peer_read(expected.size()), expected);
}

TEST_F(StreamTest, LargeCopiedWriteSurvivesPartialSends) {
  TestStream* s = make(64 << 20);
  std::string big(8 << 20, 'q');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  }
  on_loop([&] { ASSERT_TRUE(s->write_copy(big.substr(0, 100), big.substr(100))); });
  EXPECT_EQ(peer_read(big.size()), big);  // the socket buffer forces many partial sends
}

TEST_F(StreamTest, UnconsumedBytesArePresentedAgainWithNewData) {
  rec_.keep_tail = 3;
  make(1 << 20);
  ASSERT_EQ(::write(peer_, "hello", 5), 5);
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> lock(rec_.mutex);
    return rec_.received == "he";
  }));
  {
    std::lock_guard<std::mutex> lock(rec_.mutex);
    rec_.keep_tail = 0;
  }
  ASSERT_EQ(::write(peer_, "!!", 2), 2);
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> lock(rec_.mutex);
    return rec_.received == "hello!!";
  }));
  std::lock_guard<std::mutex> lock(rec_.mutex);
  EXPECT_EQ(rec_.last_presented, "llo!!");
}

TEST_F(StreamTest, SlowReaderIsClosedAtItsCap) {
  TestStream* s = make(64 * 1024);
  bool refused = false;
  on_loop([&] {
    // Far more than the socket buffer plus the cap: the peer never reads.
    for (int i = 0; i < 4096 && !refused; ++i) {
      refused = !s->write(std::string(1024, 'y'));
    }
  });
  EXPECT_TRUE(refused);
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
  EXPECT_EQ(rec_.reason.load(), static_cast<int>(CloseReason::kOutputLimit));
}

TEST_F(StreamTest, CloseAfterFlushDeliversThenHalfClosesThenEnds) {
  TestStream* s = make(1 << 20);
  on_loop([&] {
    s->write(std::string(100000, 'z'));
    s->close_after_flush();
  });
  bool eof = false;
  std::string got = peer_read(200000, &eof);
  EXPECT_EQ(got.size(), 100000u);
  EXPECT_TRUE(eof) << "our FIN must follow the data";
  EXPECT_FALSE(rec_.closed.load()) << "lingers until the peer closes too";
  ::close(peer_);
  peer_ = -1;
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
}

TEST_F(StreamTest, PeerCloseIsReportedOnce) {
  make(1 << 20);
  ::close(peer_);
  peer_ = -1;
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
  EXPECT_EQ(rec_.reason.load(), static_cast<int>(CloseReason::kPeerClosed));
}

}  // namespace
}  // namespace herald::net
