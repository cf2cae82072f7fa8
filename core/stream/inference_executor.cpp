#include "inference_executor.h"

#include <exception>
#include <future>

#include <ATen/Parallel.h>

namespace ecotta::stream {

InferenceExecutor::InferenceExecutor(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { loop(); });
}

InferenceExecutor::~InferenceExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void InferenceExecutor::run(const std::function<void()>& work) {
  std::promise<void> done;
  auto result = done.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back([&] {
      try {
        work();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
  }
  wake_.notify_one();
  result.get();
}

void InferenceExecutor::loop() {
  at::set_num_threads(1);  // one forward a core: the cameras' frames fill the cores
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace ecotta::stream
