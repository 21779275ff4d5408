#include "runtime/gossip/keyring.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace ckv {
namespace {

// Base64 of 32 bytes of 0x01, 0x02 and 0x03.
const std::string kKeyA = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const std::string kKeyB = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const std::string kKeyC = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

std::vector<uint8_t> sealed_by(const Keyring& ring, std::string_view text) {
  std::vector<uint8_t> out;
  ring.seal({}, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), out);
  return out;
}

bool opens(const Keyring& ring, const std::vector<uint8_t>& sealed) {
  std::vector<uint8_t> out;
  return ring.open({}, sealed, out);
}

TEST(Keyring, ParsesOneKeyPerLineSkippingCommentsAndBlanks) {
  auto ring = Keyring::parse("# rotated 2026-11-27\n\n" + kKeyA + "\n  \n" + kKeyB + "\r\n");
  ASSERT_TRUE(ring.ok()) << ring.error().detail;
  EXPECT_EQ(ring->size(), 2u);
  EXPECT_NE(ring->describe().find("2 keys, primary "), std::string::npos) << ring->describe();
}

TEST(Keyring, ErrorsNameTheLine) {
  auto bad = Keyring::parse(kKeyA + "\n# fine\nnot-a-key\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("line 3"), std::string::npos) << bad.error().detail;
  auto twice = Keyring::parse(kKeyA + "\n" + kKeyA + "\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().detail.find("twice"), std::string::npos);
  auto empty = Keyring::parse("# nothing\n\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().detail.find("no key"), std::string::npos);
}

TEST(Keyring, SealsWithThePrimaryAndOpensWithAnyKey) {
  auto old_ring = Keyring::parse(kKeyA);
  auto both = Keyring::parse(kKeyB + "\n" + kKeyA);  // B primary, A still accepted
  auto new_ring = Keyring::parse(kKeyB);
  auto other = Keyring::parse(kKeyC);
  ASSERT_TRUE(old_ring.ok() && both.ok() && new_ring.ok() && other.ok());

  auto from_old = sealed_by(*old_ring, "x");
  auto from_both = sealed_by(*both, "x");
  EXPECT_TRUE(opens(*both, from_old)) << "a secondary key opens";
  EXPECT_TRUE(opens(*old_ring, from_old));
  EXPECT_TRUE(opens(*new_ring, from_both)) << "the primary seals";
  EXPECT_FALSE(opens(*old_ring, from_both));
  EXPECT_FALSE(opens(*new_ring, from_old)) << "a removed key no longer opens";
  EXPECT_FALSE(opens(*other, from_old));
}

TEST(Keyring, LoadsAFileAndNamesItInErrors) {
  std::string path = ::testing::TempDir() + "keyring_test." + std::to_string(getpid());
  {
    std::ofstream out(path);
    out << kKeyA << "\n" << kKeyC << "\n";
  }
  auto ring = Keyring::load(path);
  ASSERT_TRUE(ring.ok()) << ring.error().detail;
  EXPECT_EQ(ring->size(), 2u);
  {
    std::ofstream out(path);
    out << "short\n";
  }
  auto bad = Keyring::load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find(path + ", line 1"), std::string::npos) << bad.error().detail;
  std::remove(path.c_str());
  auto missing = Keyring::load(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("cannot read"), std::string::npos);
}

TEST(Keyring, FromKeyTakesOneBase64Key) {
  auto ring = Keyring::from_key(kKeyA);
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->size(), 1u);
  EXPECT_FALSE(Keyring::from_key("AAAA").ok());
}

}  // namespace
}  // namespace ckv
