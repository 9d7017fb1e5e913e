#pragma once

#include <cstdint>

namespace its::http {

// Bytes the peer of TCP socket `fd` has acknowledged so far (TCP_INFO's
// tcpi_bytes_acked); 0 if the kernel does not say. Apart from the Asio code:
// <linux/tcp.h>, which has the field, clashes with <netinet/tcp.h>.
uint64_t TcpBytesAcked(int fd);

}  // namespace its::http
