#include "pusher/fanout.h"

#include <gtest/gtest.h>

namespace herald::pusher {
namespace {

std::shared_ptr<const broker::PublicationRecord> record(uint64_t offset, std::string data,
                                                        std::string publisher = {}) {
  auto r = std::make_shared<broker::PublicationRecord>();
  r->offset = offset;
  r->data = std::move(data);
  r->publisher.client = std::move(publisher);
  return r;
}

std::string_view text(const PusherFrame& f) { return f.frame->payload(); }

// Encode once per loop: every subscriber asking for the same record (what the hub hands each
// member for a batch of one) or the same batch gets the same Publication, built once.
TEST(PusherFrameCache, OneFramingPerRecordOrBatch) {
  FrameCache cache;
  auto pub = record(7, R"({"event":"e","data":{"a":1}})", "12.34");
  const PusherFrame* first = &cache.frames("orders", pub).front();
  auto built = first->frame;
  EXPECT_EQ(text(*first), R"({"event":"e","channel":"orders","data":{"a":1}})");
  EXPECT_EQ(first->except_socket, "12.34");
  EXPECT_EQ(cache.frames("orders", pub).front().frame, built);  // the same bytes, not rebuilt
  auto other = record(8, R"("plain")");
  EXPECT_NE(cache.frames("orders", other).front().frame, built);
  EXPECT_EQ(text(cache.frames("orders", other).front()),
            R"({"event":"message","channel":"orders","data":"plain"})");

  auto batch = std::make_shared<const broker::PublicationBatch>(broker::PublicationBatch{pub, other});
  const auto& frames = cache.frames("orders", batch);
  ASSERT_EQ(frames.size(), 2u);
  auto again = cache.frames("orders", batch)[1].frame;
  EXPECT_EQ(again, frames[1].frame);
  // The positioned variant of the same records (the history extension).
  std::string epoch = "ep";
  const auto& positioned = cache.positioned("orders", epoch, *batch);
  EXPECT_EQ(text(positioned[1]), R"({"event":"message","channel":"orders","data":"plain",)"
                                 R"("herald_position":{"offset":8,"epoch":"ep"}})");
  EXPECT_EQ(positioned[0].except_socket, "12.34");
}

}  // namespace
}  // namespace herald::pusher
