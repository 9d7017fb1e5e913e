#include "agate/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace its::agate {

AccessLog::~AccessLog() {
  Flush();
  if (fd_ >= 0) ::close(fd_);
}

bool AccessLog::Open(const std::string& path, std::string* error) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    *error = std::strerror(errno);
    return false;
  }
  buffer_.reserve(kFlushBytes + 1024);
  return true;
}

void AccessLog::Add(std::string_view line) {
  if (fd_ < 0) return;
  buffer_.append(line);
  buffer_.push_back('\n');
  if (buffer_.size() >= kFlushBytes) Flush();
}

void AccessLog::Flush() {
  if (fd_ < 0 || buffer_.empty()) return;
  size_t off = 0;
  while (off < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // disk full: the lines are lost, the agate goes on
    off += static_cast<size_t>(n);
  }
  buffer_.clear();
}

}  // namespace its::agate
