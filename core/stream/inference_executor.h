#pragma once
// Inference for the cameras of an adaptation group on a few threads of its
// own, one per core, instead of on every camera's streaming thread. On a
// small box the cameras' frames arrive together and their forwards only
// take turns on the cores anyway; run on as many threads as cameras, each
// thread's allocator arena and each forward in flight keeps its own blocks
// (megabytes per camera). Here a forward's blocks come back to the next one.
// The caller waits for its frame's result: the streaming thread is not
// freed, only the work moves.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ecotta::stream {

class InferenceExecutor {
 public:
  // `threads` workers at normal priority, each with one LibTorch intra-op
  // thread.
  explicit InferenceExecutor(int threads);
  ~InferenceExecutor();
  InferenceExecutor(const InferenceExecutor&) = delete;
  InferenceExecutor& operator=(const InferenceExecutor&) = delete;

  // Runs `work` on one of the threads and returns when it has; an
  // exception it throws is rethrown here.
  void run(const std::function<void()>& work);
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ecotta::stream
