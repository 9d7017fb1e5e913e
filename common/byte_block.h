#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace its {

// An immutable run of bytes in one heap block that takes 8 bytes where it is
// kept (a std::string takes 32, and a heap block of its own beyond 15 bytes):
// for what many idle sessions keep. The length is stored in the block; an
// empty block allocates nothing. Copies copy the bytes.
class ByteBlock {
 public:
  ByteBlock() = default;
  // `size` bytes to be written through data() before anything reads them.
  explicit ByteBlock(size_t size) {
    if (size == 0) return;
    block_ = std::make_unique<char[]>(kHeader + size);
    const auto n = static_cast<uint32_t>(size);
    std::memcpy(block_.get(), &n, sizeof n);
  }
  explicit ByteBlock(std::string_view bytes) : ByteBlock(bytes.size()) {
    if (!bytes.empty()) std::memcpy(data(), bytes.data(), bytes.size());
  }
  ByteBlock(const ByteBlock& o) : ByteBlock(o.view()) {}
  ByteBlock& operator=(const ByteBlock& o) {
    if (this != &o) *this = ByteBlock(o.view());
    return *this;
  }
  ByteBlock(ByteBlock&&) noexcept = default;
  ByteBlock& operator=(ByteBlock&&) noexcept = default;

  size_t size() const {
    if (!block_) return 0;
    uint32_t n;
    std::memcpy(&n, block_.get(), sizeof n);
    return n;
  }
  bool empty() const { return block_ == nullptr; }
  char* data() { return block_ ? block_.get() + kHeader : nullptr; }
  const char* data() const { return block_ ? block_.get() + kHeader : nullptr; }
  std::string_view view() const { return {data(), size()}; }

 private:
  static constexpr size_t kHeader = sizeof(uint32_t);
  std::unique_ptr<char[]> block_;  // [uint32 size][bytes], or null if empty
};

}  // namespace its
