#include "agate/work_threads.h"

#include <utility>

namespace its::agate {

void WorkThreads::Run(Work work) {
  if (busy_ < max_threads_) {
    ++busy_;
    work(clock_.Now());
  } else {
    ++waited_;
    queue_.push_back(std::move(work));
  }
}

void WorkThreads::Release(SimMicros started) {
  tat_sum_s_ += static_cast<double>(clock_.Now() - started) / kSimSecond;
  ++tat_count_;
  --busy_;
  if (!queue_.empty()) {
    Work next = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    next(clock_.Now());
  }
}

double WorkThreads::TakeTurnaround() {
  double average =
      tat_count_ ? tat_sum_s_ / static_cast<double>(tat_count_) : 0.0;
  tat_sum_s_ = 0;
  tat_count_ = 0;
  return average;
}

}  // namespace its::agate
