// `ecotta anchor`: gives a bundle whose meta networks were warmed up with
// batch statistics the robust anchor that one-frame-at-a-time inference
// (the GStreamer element) starts from, without training anything.
#include <CLI/CLI.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "model/adaptive_batch_norm.h"
#include "model/bundle.h"
#include "runtime/torch_runtime.h"
#include "task_data.h"
#include "train/evaluate.h"
#include "train/robust_anchor.h"
#include "train/train_loop.h"

namespace ecotta::tools {
namespace {

struct AnchorOptions {
  std::string in, out;
  int64_t samples = 12800;
  int64_t batch = 64;
  uint64_t seed = 0;
  std::string device = "cpu";
  int threads = 0;
  size_t eval_limit = 0;
  TaskDataOptions data;
};

// Clean test figure with every BN layer at the robust statistics as they
// stand, frozen: what a frame-at-a-time reader sees before any adaptation.
double frozen_robust_figure(model::Bundle& bundle, const train::TensorDataset& test, torch::Device device) {
  model::apply_meta_norm_mode(bundle, model::NormMode::Robust);
  bundle.model->to(device);
  bundle.meta->to(device);
  const auto forward = [&](const torch::Tensor& x) {
    model::FreezeRobustStats frozen;
    return model::forward_with_meta(*bundle.model, *bundle.meta, x);
  };
  const auto classes = static_cast<int64_t>(bundle.info.labels.size());
  const double figure = bundle.info.task == model::Task::Classify
                            ? train::accuracy(forward, test, bundle.info.input, device)
                            : train::mean_iou(forward, test, bundle.info.input, classes, device);
  bundle.model->to(torch::kCPU);
  bundle.meta->to(torch::kCPU);
  bundle.model->apply_norm_mode(model::NormMode::Source);
  return figure;
}

void run_anchor(const AnchorOptions& o) {
  runtime::configure_threads(o.threads);
  auto bundle = model::load_bundle(o.in);
  if (!bundle.meta) throw std::invalid_argument("'" + o.in + "' has no meta networks: warm them up first (ecotta warmup)");
  const std::string task = model::to_string(bundle.info.task);
  const auto device = train::parse_device(o.device);
  auto source = load_task_data(task, "train", o.data);
  auto gen = at::detail::createCPUGenerator(o.seed);
  source = source.index(torch::randperm(source.size(), gen, torch::kInt64).slice(0, 0, std::min(o.samples, source.size())));
  const auto test = load_task_data(task, "test", TaskDataOptions{o.data.data_dir, o.eval_limit, o.data.scene_seed, "", ""});

  bundle.robust_anchor.clear();
  const double before = frozen_robust_figure(bundle, test, device);
  train::measure_robust_anchor(bundle, source, o.batch, device);
  const double after = frozen_robust_figure(bundle, test, device);
  const char* metric = bundle.info.task == model::Task::Classify ? "accuracy" : "mIoU";
  std::printf("clean test %s, frozen robust statistics (one frame at a time): %.4f from the source statistics, "
              "%.4f from the measured anchor\n",
              metric, before, after);

  auto prov = nlohmann::json::parse(bundle.info.provenance_json);
  nlohmann::json a;
  a["command"] = remembered_command_line();
  a["samples"] = source.size();
  a["batch"] = o.batch;
  a["seed"] = o.seed;
  a[std::string("clean_") + (bundle.info.task == model::Task::Classify ? "accuracy" : "miou") +
    "_frozen_robust_before"] = before;
  a[std::string("clean_") + (bundle.info.task == model::Task::Classify ? "accuracy" : "miou") +
    "_frozen_robust_after"] = after;
  prov["robust_anchor"] = a;
  bundle.info.provenance_json = prov.dump();
  model::save_bundle(o.out, bundle);
  std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void add_anchor_command(CLI::App& app) {
  static AnchorOptions o;
  auto* cmd = app.add_subcommand(
      "anchor",
      "Measure the robust anchor of a bundle whose meta networks were warmed up with batch statistics, so that "
      "one-frame-at-a-time inference (the GStreamer element) starts from fitting statistics; nothing is trained");
  cmd->add_option("--model", o.in, "Bundle with warmed-up meta networks")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", o.out, "Bundle to write (may be --model itself: written atomically)")->required();
  cmd->add_option("--samples", o.samples, "Clean training samples to run through (a seeded subset)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--batch", o.batch, "Batch size of the passes")->capture_default_str()->check(CLI::Range(2, 4096));
  cmd->add_option("--seed", o.seed, "Seed of the subset")->capture_default_str();
  cmd->add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Intra-op threads");
  cmd->add_option("--eval-limit", o.eval_limit, "Evaluate on the first N test samples only (default: all)");
  cmd->add_option("--data-dir", o.data.data_dir, "Fashion-MNIST folder");
  cmd->callback([] { run_anchor(o); });
}

}  // namespace ecotta::tools
