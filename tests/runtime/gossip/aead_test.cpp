#include "runtime/gossip/aead.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ckv {
namespace {

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

AeadKey key_filled_with(uint8_t b) {
  AeadKey key;
  key.fill(b);
  return key;
}

TEST(Aead, OpensWhatItSealed) {
  AeadKey key = key_filled_with(7);
  auto aad = bytes_of("tag");
  for (size_t size : {0, 1, 15, 16, 17, 1400, 100000}) {
    std::vector<uint8_t> plain(size);
    for (size_t i = 0; i < size; ++i)
      plain[i] = static_cast<uint8_t>(i * 31);
    std::vector<uint8_t> sealed, opened;
    aead_seal(key, aad, plain, sealed);
    ASSERT_EQ(sealed.size(), size + kAeadOverhead);
    ASSERT_TRUE(aead_open(key, aad, sealed, opened)) << size;
    EXPECT_EQ(opened, plain);
  }
}

TEST(Aead, SealAppendsToWhatIsAlreadyThere) {
  AeadKey key = key_filled_with(1);
  std::vector<uint8_t> out = bytes_of("head");
  aead_seal(key, {}, bytes_of("body"), out);
  ASSERT_EQ(out.size(), 4 + 4 + kAeadOverhead);
  std::vector<uint8_t> opened;
  ASSERT_TRUE(aead_open(key, {}, std::span(out).subspan(4), opened));
  EXPECT_EQ(opened, bytes_of("body"));
}

TEST(Aead, EveryMessageGetsAFreshNonce) {
  AeadKey key = key_filled_with(2);
  std::vector<uint8_t> a, b;
  aead_seal(key, {}, bytes_of("same"), a);
  aead_seal(key, {}, bytes_of("same"), b);
  EXPECT_NE(a, b);
  EXPECT_FALSE(std::equal(a.begin(), a.begin() + kAeadNonceBytes, b.begin()));
}

TEST(Aead, TheCiphertextDoesNotContainThePlaintext) {
  AeadKey key = key_filled_with(3);
  std::string secret = "a value nobody on the wire may read";
  std::vector<uint8_t> sealed;
  aead_seal(key, {}, bytes_of(secret), sealed);
  std::string wire(sealed.begin(), sealed.end());
  EXPECT_EQ(wire.find("nobody"), std::string::npos);
}

TEST(Aead, AnyChangedByteIsRejected) {
  AeadKey key = key_filled_with(4);
  auto aad = bytes_of("associated");
  std::vector<uint8_t> sealed, opened;
  aead_seal(key, aad, bytes_of("payload!"), sealed);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> bad = sealed;
    bad[i] ^= 0x01;
    EXPECT_FALSE(aead_open(key, aad, bad, opened)) << "byte " << i;
    EXPECT_TRUE(opened.empty());
  }
  for (size_t i = 0; i < aad.size(); ++i) {
    std::vector<uint8_t> bad_aad = aad;
    bad_aad[i] ^= 0x80;
    EXPECT_FALSE(aead_open(key, bad_aad, sealed, opened)) << "associated byte " << i;
  }
}

TEST(Aead, WrongKeyTruncatedAndEmptyAreRejected) {
  std::vector<uint8_t> sealed, opened;
  aead_seal(key_filled_with(5), {}, bytes_of("x"), sealed);
  EXPECT_FALSE(aead_open(key_filled_with(6), {}, sealed, opened));
  EXPECT_FALSE(
      aead_open(key_filled_with(5), {}, std::span(sealed).first(sealed.size() - 1), opened));
  EXPECT_FALSE(aead_open(key_filled_with(5), {}, {}, opened));
  std::vector<uint8_t> only_overhead(kAeadOverhead);
  EXPECT_FALSE(aead_open(key_filled_with(5), {}, only_overhead, opened));
}

TEST(Aead, ParsesBase64KeysWithOrWithoutPadding) {
  // 32 bytes 0x00..0x1f.
  const std::string padded = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  auto key = parse_key_base64(padded);
  ASSERT_TRUE(key.ok()) << key.error().detail;
  for (size_t i = 0; i < kAeadKeyBytes; ++i)
    EXPECT_EQ((*key)[i], i);
  auto unpadded = parse_key_base64(padded.substr(0, padded.size() - 1));
  ASSERT_TRUE(unpadded.ok());
  EXPECT_EQ(*unpadded, *key);
  auto blanks = parse_key_base64("  " + padded + " \r\n");
  ASSERT_TRUE(blanks.ok());
  EXPECT_EQ(*blanks, *key);
}

TEST(Aead, RejectsKeysThatAreNotThirtyTwoBase64Bytes) {
  for (const char* bad : {"", "AAAA", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
                          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",
                          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=",
                          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8====",
                          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=dHh8"}) {
    auto key = parse_key_base64(bad);
    EXPECT_FALSE(key.ok()) << bad;
  }
  auto short_key = parse_key_base64("AAAA");
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.error().detail.find("3 bytes"), std::string::npos)
      << short_key.error().detail;
}

TEST(Aead, FingerprintsAreShortStableAndDistinct) {
  EXPECT_EQ(key_fingerprint(key_filled_with(1)).size(), 8u);
  EXPECT_EQ(key_fingerprint(key_filled_with(1)), key_fingerprint(key_filled_with(1)));
  EXPECT_NE(key_fingerprint(key_filled_with(1)), key_fingerprint(key_filled_with(2)));
}

}  // namespace
}  // namespace ckv
