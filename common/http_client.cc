#include "common/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/status/status.h"
#include "common/cluster_config.h"
#include "common/http_response_parser.h"
#include "common/strings.h"

namespace its {
namespace {

// The parsed response as a result (names already in lower case).
HttpResult ToResult(const HttpResponseParser& p) {
  HttpResult r;
  r.status = p.status();
  r.headers.reserve(p.header_count());
  for (size_t i = 0; i < p.header_count(); ++i)
    r.headers.emplace_back(p.header_name(i), p.header_value(i));
  r.body = p.body();
  return r;
}

}  // namespace

std::optional<std::string> HttpResult::Header(const std::string& name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return std::nullopt;
}

std::vector<std::string> HttpResult::Headers(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers)
    if (n == name) out.push_back(v);
  return out;
}

HttpClient::HttpClient(std::string address, int timeout_ms)
    : timeout_ms_(timeout_ms) {
  if (address.rfind("http://", 0) == 0) address = address.substr(7);
  size_t slash = address.find('/');
  if (slash != std::string::npos) address = address.substr(0, slash);
  if (!ParseHostPort(address, &host_, &port_).ok()) port_ = -1;
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

absl::StatusOr<std::string> ResolveIPv4(const std::string& host) {
  in_addr a;
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return host;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return absl::InvalidArgumentError(Cat(
        "cannot resolve '", host,
        "' to an IPv4 address: ", rc != 0 ? gai_strerror(rc) : "no address"));
  }
  char text[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr,
            text, sizeof text);
  freeaddrinfo(found);
  return std::string(text);
}

absl::Status HttpClient::Connect() {
  if (fd_ >= 0) return absl::OkStatus();
  if (port_ <= 0) return absl::InvalidArgumentError("bad address");
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port_));
  absl::StatusOr<std::string> ip = ResolveIPv4(host_);
  if (!ip.ok() || inet_pton(AF_INET, ip->c_str(), &sa.sin_addr) != 1) {
    Close();
    return ip.ok() ? absl::InvalidArgumentError(Cat("bad IPv4 address ", *ip))
                   : ip.status();
  }
  // Non-blocking, within the timeout: an address that drops packets (a cut
  // link) would hold a blocking connect for minutes.
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  int err = 0;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd pfd{fd_, POLLOUT, 0};
      int ready = ::poll(&pfd, 1, timeout_ms_);
      if (ready == 0) {
        Close();
        return absl::DeadlineExceededError(Cat("connect ", host_, ":", port_,
                                               ": no answer within ",
                                               timeout_ms_, " ms"));
      }
      socklen_t len = sizeof err;
      if (ready < 0) {
        err = errno;
      } else if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
    }
  }
  if (err != 0) {
    Close();
    return absl::UnavailableError(
        Cat("connect ", host_, ":", port_, ": ", std::strerror(err)));
  }
  ::fcntl(fd_, F_SETFL, flags);  // the rest polls with its own deadlines
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return absl::OkStatus();
}

absl::StatusOr<HttpResult> HttpClient::Send(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body) {
  std::string req = Cat(method, " ", target, " HTTP/1.1\r\nHost: ", host_, ":",
                        port_, "\r\n");
  for (const auto& [n, v] : headers) req += Cat(n, ": ", v, "\r\n");
  if (!body.empty() || method == "POST")
    req += Cat("Content-Length: ", body.size(), "\r\n");
  req += "\r\n";
  req += body;
  auto r = SendRaw(req);
  // The server may have closed an idle connection: once more. Not after a
  // deadline (a hung server would cost the caller its timeout twice).
  if (!r.ok() && fd_ < 0 && !absl::IsDeadlineExceeded(r.status())) {
    r = SendRaw(req);
  }
  return r;
}

absl::StatusOr<HttpResult> HttpClient::SendRaw(const std::string& bytes) {
  if (auto s = Connect(); !s.ok()) return s;
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n =
        ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      // The server may have answered early (413) and closed: read that answer.
      auto early = ReadResponse();
      if (early.ok()) return early;
      Close();
      return absl::UnavailableError("send failed");
    }
    off += static_cast<size_t>(n);
  }
  return ReadResponse();
}

absl::StatusOr<HttpResult> HttpClient::ReadResponse() {
  if (fd_ < 0) return absl::UnavailableError("not connected");
  HttpResponseParser parser;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::string buf = std::move(pending_);
  pending_.clear();
  while (true) {
    if (!buf.empty()) {
      size_t used = parser.Feed(buf.data(), buf.size());
      if (parser.complete()) {
        pending_ = buf.substr(used);
        return ToResult(parser);
      }
      if (parser.failed()) {
        Close();
        return absl::DataLossError(
            Cat("bad HTTP response: ", parser.error_name()));
      }
      buf.clear();
    }
    int left =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now())
                             .count());
    if (left <= 0) {
      Close();
      return absl::DeadlineExceededError("no response in time");
    }
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, left) <= 0) continue;
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      // EOF may complete a response without Content-Length.
      bool complete = parser.FinishAtEof();
      Close();
      if (complete) return ToResult(parser);
      return absl::UnavailableError(
          "connection closed before a complete response");
    }
    buf.assign(tmp, static_cast<size_t>(n));
  }
}

bool HttpClient::PeerClosed() {
  if (fd_ < 0) return true;
  if (!pending_.empty()) return false;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms_) <= 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  if (n <= 0) {
    Close();
    return true;
  }
  return false;
}

absl::StatusOr<HttpResult> HttpGet(const std::string& address,
                                   const std::string& target, int timeout_ms) {
  HttpClient c(address, timeout_ms);
  return c.Send("GET", target, {{"Connection", "close"}});
}

}  // namespace its
