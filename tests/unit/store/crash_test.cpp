// The store under failures of its environment: a process that dies without closing (after _exit
// and after SIGKILL), a database that hits its size cap, a disk that refuses to grow (a file size
// limit). Every publication acknowledged before the crash must be there after it, and a full disk
// must fail appends with an Error, not crash.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "store/history_store.h"
#include "test_util.h"

namespace herald::store {
namespace {

using testing::append_range;
using testing::iota;
using testing::offsets_of;
using testing::open_or_fail;
using testing::options_in;
using testing::payload;
using testing::TempDir;
using testing::Waiter;

// Child side of a fork: exits with 0 on success, a small code naming the step that failed.
[[noreturn]] void child_exit(int code) {
  ::_exit(code);
}

int wait_child(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return status;
}

TEST(HistoryStoreCrash, AcknowledgedPublicationsSurviveExitWithoutClose) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
    if (!s.ok()) {
      child_exit(2);
    }
    Waiter w;
    for (uint64_t i = 1; i <= 500; ++i) {
      (*s)->append("crash", "EPOCH", i, 7, payload(i), {}, w.callback());
    }
    if (!w.wait(500) || w.ok() != 500) {
      child_exit(3);
    }
    child_exit(0);  // no destructor, no close: the database is left as a crash leaves it
  }
  int status = wait_child(pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  ChannelState st = *s->load_channel("crash");
  EXPECT_EQ(st.epoch, "EPOCH");
  EXPECT_EQ(st.top_offset, 500u);
  auto pubs = *s->read("crash", 0, 0);
  EXPECT_EQ(offsets_of(pubs), iota(1, 500));
  EXPECT_EQ(pubs.back().data, payload(500));
}

bool read_full(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) {
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// The child publishes without pause and reports every acknowledgement through a pipe; the parent
// kills it with SIGKILL in the middle of a stream of batches, then checks that each acknowledged
// offset was stored, in each of the channels, with the epoch the child was given.
TEST(HistoryStoreCrash, AcknowledgedPublicationsSurviveSigkill) {
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "synchronous=FULL" : "synchronous=NORMAL");
    TempDir dir;
    StoreOptions o = options_in(dir);
    o.synchronous_full = full;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
      if (!s.ok()) {
        child_exit(2);
      }
      int out = fds[1];
      for (uint64_t i = 1;; ++i) {
        for (uint64_t c = 0; c < 3; ++c) {
          std::string channel = "k" + std::to_string(c);
          (*s)->append(channel, "EPOCH", i, 7, payload(i), {}, [out, c, i](Result<Ok> r) {
            if (r.ok()) {
              uint64_t msg[2] = {c, i};
              (void)!::write(out, msg, sizeof msg);  // 16 bytes: atomic on a pipe
            }
          });
        }
        if (i % 64 == 0) {
          ::usleep(200);  // let the parent keep up; batches still form
        }
      }
    }
    ::close(fds[1]);
    uint64_t acked[3] = {0, 0, 0};
    uint64_t msg[2];
    size_t received = 0;
    while (received < 3000 && read_full(fds[0], msg, sizeof msg)) {
      ASSERT_LT(msg[0], 3u);
      ASSERT_EQ(msg[1], acked[msg[0]] + 1);  // acknowledged in order within a channel
      acked[msg[0]] = msg[1];
      ++received;
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = wait_child(pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << status;
    while (read_full(fds[0], msg, sizeof msg)) {  // acknowledgements written before the kill
      acked[msg[0]] = std::max(acked[msg[0]], msg[1]);
    }
    ::close(fds[0]);
    ASSERT_GE(acked[0] + acked[1] + acked[2], 3000u);

    auto s = open_or_fail(o);
    ASSERT_TRUE(s);
    for (uint64_t c = 0; c < 3; ++c) {
      std::string channel = "k" + std::to_string(c);
      ChannelState st = *s->load_channel(channel);
      EXPECT_EQ(st.epoch, "EPOCH");
      EXPECT_GE(st.top_offset, acked[c]);  // a batch may have committed without its callbacks
      auto pubs = *s->read(channel, 0, 0);
      uint64_t first = st.top_offset > 1000 ? st.top_offset - 999 : 1;  // default keeps 1000
      ASSERT_EQ(offsets_of(pubs), iota(first, st.top_offset));
      for (const Publication& p : pubs) {
        ASSERT_EQ(p.data, payload(p.offset));
      }
      // The next owner continues the same epoch.
      EXPECT_EQ(append_range(*s, channel, "EPOCH", st.top_offset + 1, st.top_offset + 1), 1u);
    }
  }
}

TEST(HistoryStoreFull, SizeCapFailsAppendsCleanly) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.max_size_bytes = 256 * 1024;
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  std::string big(2000, 'x');
  uint64_t stored = 0;
  std::string error;
  for (uint64_t i = 1; i <= 1000 && error.empty(); ++i) {
    Waiter w;
    s->append("full", "E", i, 1, big, {0, 0}, w.callback());
    ASSERT_TRUE(w.wait(1));
    if (w.ok() == 1) {
      stored = i;
    } else {
      error = w.errors()[0];
    }
  }
  ASSERT_FALSE(error.empty()) << "the cap was never hit";
  EXPECT_NE(error.find("full"), std::string::npos) << error;
  EXPECT_NE(error.find(o.path), std::string::npos) << error;
  EXPECT_GT(stored, 10u);
  // Nothing half-written: the store still answers, with exactly what was acknowledged.
  EXPECT_EQ(s->load_channel("full")->top_offset, stored);
  EXPECT_EQ(offsets_of(*s->read("full", 0, 0)), iota(1, stored));
  // Dropping history makes room again.
  Result<ChannelState> reset = s->reset_channel("full");
  ASSERT_TRUE(reset.ok()) << reset.error();
  EXPECT_EQ(append_range(*s, "full", reset->epoch, 1, 5, {0, 0}), 5u);
}

TEST(HistoryStoreFull, CountRetentionKeepsAStoreUnderItsCap) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.max_size_bytes = 256 * 1024;
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  std::string big(2000, 'x');
  Waiter w;
  for (uint64_t i = 1; i <= 2000; ++i) {  // 4 MB written through a 256 KB cap
    s->append("ring", "E", i, 1, big, RetentionPolicy{20, 0}, w.callback());
  }
  ASSERT_TRUE(w.wait(2000));
  EXPECT_EQ(w.ok(), 2000u);
  EXPECT_EQ(offsets_of(*s->read("ring", 0, 0)), iota(1981, 2000));
}

// A file size limit makes the kernel refuse to grow the WAL (EFBIG): the closest thing to a full
// disk without one. In a child, since the limit is per process.
TEST(HistoryStoreFull, FileSizeLimitFailsAppendsCleanly) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of being killed
    struct rlimit limit = {512 * 1024, 512 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      child_exit(2);
    }
    Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
    if (!s.ok()) {
      child_exit(3);
    }
    std::string big(4000, 'y');
    for (uint64_t i = 1; i <= 2000; ++i) {
      Waiter w;
      (*s)->append("efbig", "E", i, 1, big, {0, 0}, w.callback());
      if (!w.wait(1)) {
        child_exit(4);
      }
      if (w.ok() == 0) {
        const std::string e = w.errors()[0];
        bool clear =
            e.find(o.path) != std::string::npos &&
            (e.find("disk I/O error") != std::string::npos || e.find("full") != std::string::npos);
        if (!clear) {
          ::fprintf(stderr, "unexpected error: %s\n", e.c_str());
          child_exit(5);
        }
        // Reads still work after the failed write.
        Result<std::vector<Publication>> r = (*s)->read("efbig", 0, 0);
        if (!r.ok() || r->size() != i - 1) {
          child_exit(6);
        }
        s->reset();  // closing after the failure must not crash either
        child_exit(0);
      }
    }
    child_exit(7);  // the limit was never hit
  }
  int status = wait_child(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child crashed: " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace herald::store
