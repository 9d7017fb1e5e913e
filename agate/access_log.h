#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/trace.h"

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

// The lines one AGate process writes to its instance's access.log:
//   <type> YYYY/MM/DD hh:mm:ss.mmm <instance> <process>:<request> <ip> <text>
// and, for a line written for a traced request, " trace=<32 hex trace-id>"
// at the end (docs/architecture.md §7.1).
// The request number counts this process's lines from 1. Never a password
// or a session's random part in `text`. The date and time to the second are
// formatted once per second. Runs on the agate's logic thread.
class AccessLogWriter {
 public:
  AccessLogWriter(const Clock& clock, std::string instance, int process)
      : clock_(clock), instance_(std::move(instance)), process_(process) {}

  // Opens (creates) `path`; until then Write() does nothing.
  bool Open(const std::string& path, std::string* error) {
    return log_.Open(path, error);
  }
  // `type`: the ITS entry type ('n' new session, 'r' request, 'o' timeout,
  // ...); an empty `client_ip` is written as "-".
  void Write(char type, std::string_view client_ip, std::string_view text,
             TraceId trace = {});
  void Flush() { log_.Flush(); }

 private:
  const Clock& clock_;
  const std::string instance_;
  const int process_;
  AccessLog log_;
  uint64_t lines_ = 0;
  SimMicros second_ = -1;  // the second time_ shows
  std::string time_;       // "YYYY/MM/DD hh:mm:ss."
};

}  // namespace its::agate
