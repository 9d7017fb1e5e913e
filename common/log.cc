#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/synchronization/mutex.h"

namespace its {

void InitLogging(const std::string& component) {
  // gRPC locks absl::Mutex on every message; abseil's deadlock-cycle graph
  // would cost a lookup per lock. Our processes take no nested locks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto logger = spdlog::stderr_logger_mt(component);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ " + component + "[" +
                      std::to_string(getpid()) + "] %v");
  const char* level = std::getenv("ITS_LOG_LEVEL");
  logger->set_level(level ? spdlog::level::from_str(level)
                          : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace its
