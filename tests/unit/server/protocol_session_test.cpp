#include "server/protocol_session.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace herald::server {
namespace {

std::shared_ptr<const broker::PublicationBatch> batch_of(uint64_t first, size_t n) {
  auto batch = std::make_shared<broker::PublicationBatch>();
  for (size_t i = 0; i < n; ++i) {
    auto rec = std::make_shared<broker::PublicationRecord>();
    rec->offset = first + i;
    rec->time_ms = 1764000000000;
    rec->data = std::to_string(first + i);
    batch->push_back(std::move(rec));
  }
  return batch;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    out.emplace_back(text.substr(start, nl - start));
  }
  out.emplace_back(text.substr(start));
  return out;
}

// What the integration test once bounded by timing: the pushes of one broker batch share one
// frame, every publication once and in order, and the frame is encoded once for all members.
TEST(PushEncoder, ABatchIsOneFrameOfItsPushesInOrderEncodedOnce) {
  PushEncoder encoder;
  auto batch = batch_of(1, 200);
  const transport::Publication& frame = encoder.encoded("burst:x", "E1", batch);
  std::vector<std::string> lines = lines_of(frame.payload());
  ASSERT_EQ(lines.size(), 200u);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string expected = R"({"push":"message","channel":"burst:x","offset":)" +
                           std::to_string(i + 1) + R"(,"epoch":"E1","data":)" +
                           std::to_string(i + 1);
    EXPECT_EQ(lines[i].substr(0, expected.size()), expected) << lines[i];
  }
  EXPECT_EQ(&encoder.encoded("burst:x", "E1", batch), &frame)
      << "the next member of the same fan-out gets the same frame";
  EXPECT_NE(&encoder.encoded("burst:y", "E1", batch), &frame) << "another channel: new frame";
  auto next = batch_of(201, 2);
  EXPECT_EQ(lines_of(encoder.encoded("burst:x", "E1", next).payload()).size(), 2u);
}

}  // namespace
}  // namespace herald::server
