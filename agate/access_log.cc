#include "agate/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/strings.h"

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

void AccessLogWriter::Write(char type, std::string_view client_ip,
                            std::string_view text, TraceId trace) {
  if (!log_.is_open()) return;
  // The date and time to the second change once a second: formatted once.
  SimMicros now = clock_.Now();
  if (now / kSimSecond != second_) {
    second_ = now / kSimSecond;
    time_ = FormatDateTime(second_ * kSimSecond);
    time_.resize(time_.size() - 3);  // "YYYY/MM/DD hh:mm:ss."
  }
  char millis[4];
  int ms = static_cast<int>((now / 1000) % 1000);
  millis[0] = static_cast<char>('0' + ms / 100);
  millis[1] = static_cast<char>('0' + ms / 10 % 10);
  millis[2] = static_cast<char>('0' + ms % 10);
  millis[3] = ' ';
  log_.Add([&](std::string& line) {
    Append(&line, type, ' ', time_, std::string_view(millis, 4), instance_, ' ',
           process_, ':', ++lines_, ' ',
           client_ip.empty() ? std::string_view("-") : client_ip, ' ', text);
    if (trace.valid()) {
      line.append(" trace=");
      AppendTraceHex(&line, trace);
    }
  });
}

}  // namespace its::agate
