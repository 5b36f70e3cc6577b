#include "store/epoch.h"

#include <gtest/gtest.h>

#include <set>

namespace herald::store {
namespace {

TEST(Epoch, RandomIsSixteenHexDigitsAndNeverThePrevious) {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    std::string e = random_epoch(previous);
    ASSERT_EQ(e.size(), 16u);
    ASSERT_EQ(e.find_first_not_of("0123456789abcdef"), std::string::npos) << e;
    ASSERT_NE(e, previous);
    seen.insert(e);
    previous = e;
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Epoch, DerivedIsStablePerSaltAndChannel) {
  EXPECT_EQ(derived_epoch("news", 1), derived_epoch("news", 1));
  EXPECT_NE(derived_epoch("news", 1), derived_epoch("news", 2));
  EXPECT_NE(derived_epoch("news", 1), derived_epoch("newt", 1));
  EXPECT_NE(derived_epoch("", 1), derived_epoch(std::string(1, '\0'), 1));
  EXPECT_EQ(derived_epoch("x", 7).size(), 16u);
}

}  // namespace
}  // namespace herald::store
