#include "kernel/core/address.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace ckv {
namespace {

TEST(Address, ParsesDottedQuadAndPort) {
  auto a = Address::parse("10.0.1.2:7946");
  ASSERT_TRUE(a.ok()) << a.error().detail;
  EXPECT_EQ(a->ip, 0x0a000102u);
  EXPECT_EQ(a->port, 7946);
  EXPECT_EQ(a->to_string(), "10.0.1.2:7946");
}

TEST(Address, RejectsMalformedText) {
  for (const char* bad : {"", "10.0.0.1", "10.0.0.1:", "10.0.0:1", "10.0.0.1.5:80", "256.0.0.1:80",
                          "10.0.0.1:0", "10.0.0.1:65536", "a.b.c.d:80", "10.0.0.1:80x", ":80",
                          "10..0.1:80", "-1.0.0.1:80", "10.0.0.1:-80"}) {
    auto a = Address::parse(bad);
    EXPECT_FALSE(a.ok()) << "accepted '" << bad << "'";
    if (!a.ok()) {
      EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

RC_GTEST_PROP(Address, ToStringParsesBack, (uint32_t ip, uint16_t port)) {
  RC_PRE(port != 0);
  const Address a{ip, port};
  auto parsed = Address::parse(a.to_string());
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == a);
}

}  // namespace
}  // namespace ckv
