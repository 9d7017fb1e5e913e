#pragma once

#include <string>

namespace its::agate {

// The ITS access.log of an AGate instance, shared by its processes. Lines are
// buffered and written whole with one write(2) on an O_APPEND descriptor, so
// processes never interleave inside a line, and a dialog step costs no
// system call. Flush() runs at least every 250 ms (the agate's tick) and when
// the buffer holds 64 KiB.
class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Opens (creates) `path`; false with a reason if that fails.
  bool Open(const std::string& path, std::string* error);
  bool is_open() const { return fd_ >= 0; }
  void Add(std::string_view line);  // without the newline
  // Appends one line written by `write(buffer)` straight into the buffer.
  template <typename Write>
  void Add(Write&& write) {
    if (fd_ < 0) return;
    write(buffer_);
    buffer_.push_back('\n');
    if (buffer_.size() >= kFlushBytes) Flush();
  }
  void Flush();

 private:
  static constexpr size_t kFlushBytes = 64 * 1024;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace its::agate
