#pragma once

#include <array>
#include <asio.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http_response_parser.h"

namespace its::load {

// One keep-alive HTTP/1.1 connection of a virtual user, on Asio. One request
// at a time; connects on the first request and again after the server
// closed. Buffers are kept from request to request.
class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  struct Response {
    int status = 0;  // 0: transport error
    std::string agate;
    std::string cookie;  // new ~session value, "" if none
    bool cookie_cleared = false;
    std::string_view body;  // valid until the next Request
    bool keep_alive = true;
    std::string error;
  };
  using Done = std::function<void(Response&)>;

  LoadConnection(asio::io_context& io, asio::ip::tcp::endpoint ep);

  // Sends `text` (a whole request); `done` gets the response or the error.
  void Request(std::string text, Done done);
  void Close();

 private:
  void Connect();
  void Write();
  // The server closed this kept-alive connection (end-of-file or an error
  // waits in it): looked at without blocking before a request goes out.
  bool PeerClosed();
  void Read();
  void Complete();
  void Fail(const std::string& why);
  void ClearResponse();

  asio::ip::tcp::socket socket_;
  asio::ip::tcp::endpoint endpoint_;
  HttpResponseParser parser_;
  std::string request_;
  Done done_;
  Response response_;
  std::array<char, 32768> buf_;
};

}  // namespace its::load
