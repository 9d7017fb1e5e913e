#pragma once

namespace its::http {

// The reason phrase of an HTTP status code ("Not Found"), for the status
// lines of the wgate's server and the metrics endpoint; "Unknown" for codes
// neither sends.
const char* ReasonPhrase(int status);

}  // namespace its::http
