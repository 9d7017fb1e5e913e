#pragma once

// Fuzz targets (tests/fuzz/README.md). Each defines libFuzzer's entry point,
// LLVMFuzzerTestOneInput, and checks properties of what it runs with
// FUZZ_CHECK: a failed check aborts, which libFuzzer (and the corpus replay
// of the normal builds) reports as a crash with the input that caused it.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

// The same, with what was seen (a std::string or string_view) printed.
#define FUZZ_CHECK_SAW(cond, saw)                                       \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::string fuzz_saw_(saw);                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n  saw: %s\n", \
                   __FILE__, __LINE__, #cond, fuzz_saw_.c_str());       \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace its::fuzz {

// Takes the fuzzer's bytes apart front to back: small numbers and choices
// for the structure of an input, strings for its contents. Past the end
// every read gives zeros and empty strings, so any input is a valid one.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() {
    return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0;
  }
  // A number in [0, n) (n > 0).
  size_t Below(size_t n) { return Byte() % n; }
  // A string of up to 255 bytes: a length byte, then the bytes.
  std::string_view Short() {
    size_t n = Byte();
    n = n < size_ - pos_ ? n : size_ - pos_;
    std::string_view s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  // Everything not read yet.
  std::string_view Rest() {
    std::string_view s(data_ + pos_, size_ - pos_);
    pos_ = size_;
    return s;
  }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace its::fuzz
