#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "data/atomic_file.h"
#include "model/bundle.h"
#include "runtime/torch_runtime.h"
#include "task_data.h"
#include "train/bundle_eval.h"
#include "train/train_loop.h"

namespace ecotta::tools {
namespace {

struct EvalOptions {
  std::string model, json_out, images, labels, norm, split = "test";
  std::string corruption = "clean";
  int severity = 5;
  uint64_t seed = 0;
  size_t limit = 0;
  int64_t batch = 0;
  bool no_meta = false;
  std::string device = "cpu";
  TaskDataOptions data;
  int threads = 0;
};

void run_eval(const EvalOptions& o) {
  runtime::configure_threads(o.threads);
  auto bundle = model::load_bundle(o.model);
  const bool use_meta = bundle.meta && !o.no_meta;
  // Default: the normalization the bundle was prepared for.
  const auto norm = !o.norm.empty() ? model::parse_norm_mode(o.norm)
                                    : (use_meta ? bundle.info.normalization : model::NormMode::Source);
  if (norm == model::NormMode::Train) throw std::invalid_argument("--norm must be source, batch or robust");
  const int64_t batch = o.batch > 0 ? o.batch : (norm == model::NormMode::Source ? 256 : 64);
  const std::string task = model::to_string(bundle.info.task);

  train::TensorDataset ds;
  if (!o.images.empty() || !o.labels.empty()) {
    if (o.images.empty() || o.labels.empty()) throw std::invalid_argument("--images and --labels go together");
    if (bundle.info.task != model::Task::Classify)
      throw std::invalid_argument("--images/--labels hold classification data; this bundle segments");
    ds = load_idx_pair(o.images, o.labels, bundle.info.input.height, bundle.info.input.width);
    if (o.limit && o.limit < static_cast<size_t>(ds.size())) ds = ds.slice(0, static_cast<int64_t>(o.limit));
  } else {
    TaskDataOptions d = o.data;
    d.limit = o.limit;
    ds = load_task_data(task, o.split, d);
  }
  if (o.corruption != "clean") corrupt_dataset(ds, o.corruption, o.severity, o.seed);

  const auto score = train::score_bundle(bundle, use_meta, norm, ds, train::parse_device(o.device), batch);
  const double value = score.value;
  nlohmann::json out;
  if (bundle.info.task == model::Task::Classify) {
    const double acc = value;
    out["accuracy"] = acc;
    std::printf("accuracy %.4f (error %.2f%%) on %lld images\n", acc, 100 * (1 - acc), static_cast<long long>(ds.size()));
  } else {
    const double miou = value;
    out["miou"] = miou;
    std::printf("mIoU %.4f on %lld scenes\n", miou, static_cast<long long>(ds.size()));
    // Per class, so a user sees which classes hold the mean down.
    auto per_class = nlohmann::json::object();
    for (size_t c = 0; c < score.class_iou.size(); ++c) {
      const double iou = score.class_iou[c];
      const auto& name = bundle.info.labels[c];
      if (std::isnan(iou)) {
        per_class[name] = nullptr;
        std::printf("  %-12s    -\n", name.c_str());
      } else {
        per_class[name] = iou;
        std::printf("  %-12s %.4f\n", name.c_str(), iou);
      }
    }
    out["class_iou"] = per_class;
    out["confusion"] = score.confusion;  // pixels, rows: truth, columns: prediction, in label order
    out["labels"] = bundle.info.labels;
  }
  out["samples"] = ds.size();
  out["corruption"] = o.corruption;
  if (o.corruption != "clean") out["severity"] = o.severity;
  out["meta_networks"] = use_meta;
  out["normalization"] = model::to_string(norm);
  out["batch"] = batch;
  if (!o.json_out.empty()) {
    const std::string text = out.dump(2) + "\n";
    data::write_file_atomically(o.json_out, text.data(), text.size());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  static EvalOptions o;
  auto* cmd = app.add_subcommand("eval", "Accuracy (classification) or mIoU (segmentation) of a bundle");
  cmd->add_option("--model", o.model, "Bundle file")->required();
  cmd->add_option("--corruption", o.corruption, "Corruption applied to the test data (see `ecotta corrupt --list`)")
      ->capture_default_str();
  cmd->add_option("--severity", o.severity, "Corruption severity")->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--seed", o.seed, "Corruption seed")->capture_default_str();
  cmd->add_option("--images", o.images, "External IDX images (N x 32 x 32 x 3, as `ecotta corrupt` writes)");
  cmd->add_option("--labels", o.labels, "External IDX labels (N)");
  cmd->add_option("--split", o.split, "Data split when no --images are given")->capture_default_str();
  cmd->add_option("--limit", o.limit, "Evaluate the first N samples");
  cmd->add_option("--json", o.json_out, "Write {\"accuracy\": a} or {\"miou\": m, \"class_iou\": {...}, \"confusion\": [[...]]} (fractions) here");
  cmd->add_option("--batch", o.batch, "Batch size (default 256 with source BN, 64 with batch/robust BN)");
  cmd->add_option("--norm", o.norm, "BN mode: source, batch or robust (default: the bundle's)");
  cmd->add_flag("--no-meta", o.no_meta, "Evaluate the original network without its meta networks");
  cmd->add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--data-dir", o.data.data_dir, "Fashion-MNIST folder");
  cmd->add_option("--threads", o.threads, "Intra-op threads");
  cmd->callback([] { run_eval(o); });
}

}  // namespace ecotta::tools
