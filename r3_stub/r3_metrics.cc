#include "r3_stub/r3_metrics.h"

#include "common/strings.h"

namespace its::r3 {
namespace {

const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return b;
}

// One family, asked for twice (the registry returns the same one).
prometheus::Family<prometheus::Counter>& Ends(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("its_r3_session_ends_total")
      .Help(
          "User sessions ended other than by the agate's logoff, by "
          "reason: r3 (its own limits, displacement: pushed to the agate), "
          "connection (an agate's stream broke)")
      .Register(registry);
}

int KindIndex(proto::R3Request::KindCase kind) {
  switch (kind) {
    case proto::R3Request::kLogon:
      return 0;
    case proto::R3Request::kStep:
      return 1;
    case proto::R3Request::kLogoff:
      return 2;
    default:
      return -1;
  }
}

}  // namespace

R3Metrics::R3Metrics(prometheus::Registry& registry)
    : step_(prometheus::BuildHistogram()
                .Name("its_r3_step_seconds")
                .Help("Processing time of a dialog step (the transaction's "
                      "simulated time, in real seconds)")
                .Register(registry)
                .Add({}, Buckets())),
      logon_(prometheus::BuildHistogram()
                 .Name("its_r3_logon_seconds")
                 .Help("Processing time of a logon (real seconds)")
                 .Register(registry)
                 .Add({}, Buckets())),
      ended_by_r3_(Ends(registry).Add({{"reason", "r3"}})),
      ended_by_stream_(Ends(registry).Add({{"reason", "connection"}})),
      user_sessions_(prometheus::BuildGauge()
                         .Name("its_r3_user_sessions")
                         .Help("User sessions (SM04)")
                         .Register(registry)
                         .Add({})),
      security_sessions_(prometheus::BuildGauge()
                             .Name("its_r3_security_sessions")
                             .Help("Security sessions (SM05)")
                             .Register(registry)
                             .Add({})),
      locks_(prometheus::BuildGauge()
                 .Name("its_r3_locks")
                 .Help("Lock entries (SM12)")
                 .Register(registry)
                 .Add({})),
      streams_(prometheus::BuildGauge()
                   .Name("its_r3_agate_streams")
                   .Help("Dialog streams of AGate processes that hold "
                         "user sessions")
                   .Register(registry)
                   .Add({})) {
  auto& requests =
      prometheus::BuildCounter()
          .Name("its_r3_requests_total")
          .Help("Requests from AGate processes, by kind and result code")
          .Register(registry);
  const char* kinds[kKinds] = {"logon", "step", "logoff"};
  for (int k = 0; k < kKinds; ++k) {
    for (int c = 0; c < kCodes; ++c) {
      auto code = static_cast<proto::R3Response::Code>(c);
      if (!proto::R3Response::Code_IsValid(c) ||
          code == proto::R3Response::CONNECTION_LOST ||
          code == proto::R3Response::TIMEOUT) {
        continue;  // the agate's own codes, never the stub's
      }
      requests_[k][c] = &requests.Add(
          {{"kind", kinds[k]},
           {"code", ToLower(proto::R3Response::Code_Name(code))}});
    }
  }
}

void R3Metrics::Answered(proto::R3Request::KindCase kind,
                         proto::R3Response::Code code, double processing_s) {
  int k = KindIndex(kind);
  if (k < 0) return;
  if (code >= 0 && code < kCodes && requests_[k][code])
    requests_[k][code]->Increment();
  if (kind == proto::R3Request::kStep) step_.Observe(processing_s);
  if (kind == proto::R3Request::kLogon) logon_.Observe(processing_s);
}

void R3Metrics::Tick(size_t user_sessions, size_t security_sessions,
                     size_t locks, size_t streams) {
  user_sessions_.Set(static_cast<double>(user_sessions));
  security_sessions_.Set(static_cast<double>(security_sessions));
  locks_.Set(static_cast<double>(locks));
  streams_.Set(static_cast<double>(streams));
}

}  // namespace its::r3
