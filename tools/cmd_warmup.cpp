#include <CLI/CLI.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "model/bundle.h"
#include "runtime/torch_runtime.h"
#include "task_data.h"
#include "train/bundle_eval.h"
#include "train/warmup.h"

namespace ecotta::tools {
namespace {

struct WarmupOptions {
  std::string in, out;
  train::TrainConfig config;
  double fraction = 0.2;
  std::string norm = "batch";
  int64_t eval_batch = 64;
  TaskDataOptions data;
  std::string test_images, test_labels;
  size_t eval_limit = 0;
  int threads = 0;
  bool fresh_scenes = false;  // segmenter: new scenes every epoch
  std::vector<int64_t> split;  // blocks per part; empty: the bundle's
};

void run_warmup(WarmupOptions o) {
  runtime::configure_threads(o.threads);
  torch::manual_seed(o.config.seed);
  auto bundle = model::load_bundle(o.in);
  if (!o.split.empty()) {  // K parts, K meta networks
    try {
      model::repartition(bundle, o.split);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("--split: " + std::string(e.what()));
    }
  }
  const auto norm = model::parse_norm_mode(o.norm);
  if (norm == model::NormMode::Train) throw std::invalid_argument("--norm must be source, batch or robust");
  const std::string task = model::to_string(bundle.info.task);
  if (o.fresh_scenes && bundle.info.task != model::Task::Segment)
    throw std::invalid_argument("--fresh-scenes generates fashion scenes: it needs a segmenter bundle");
  train::TensorDataset source;
  train::EpochData fresh;
  int64_t samples = 0;
  if (o.fresh_scenes) {
    // As many new scenes every epoch as the fraction of the default training
    // set, from the seeds `ecotta train --fresh-scenes` uses for its epochs.
    TaskDataOptions d = o.data;
    d.limit = static_cast<size_t>(std::max<double>(static_cast<double>(o.config.batch), o.fraction * kDefaultTrainScenes));
    fresh = fresh_scenes(d);
    samples = static_cast<int64_t>(d.limit);
  } else {
    source = load_task_data(task, "train", o.data);
    // A seeded subset: the paper finds 10-20 % of the source data nearly as good as all of it.
    const auto keep = std::max<int64_t>(o.config.batch, static_cast<int64_t>(o.fraction * source.size()));
    auto gen = at::detail::createCPUGenerator(o.config.seed);
    source = source.index(torch::randperm(source.size(), gen, torch::kInt64).slice(0, 0, std::min(keep, source.size())));
    samples = source.size();
  }
  const auto test = load_task_data(task, "test", TaskDataOptions{o.data.data_dir, o.eval_limit, o.data.scene_seed, o.test_images, o.test_labels});
  const auto device = train::parse_device(o.config.device);

  const double before = train::evaluate_bundle(bundle, false, model::NormMode::Source, test, device, 256);
  const double before_norm = train::evaluate_bundle(bundle, false, norm, test, device, o.eval_batch);
  bundle.meta = nullptr;  // fresh meta networks, as in the paper
  std::fprintf(stderr, "warming up meta networks on %lld %ssource samples, %d epochs, frozen BN mode '%s'\n",
               static_cast<long long>(samples), o.fresh_scenes ? "new (every epoch) " : "", o.config.epochs,
               o.norm.c_str());
  const auto reports = o.fresh_scenes ? train::warm_up(bundle, fresh, o.config, norm, true)
                                      : train::warm_up(bundle, source, o.config, norm, true);
  const double after = train::evaluate_bundle(bundle, true, norm, test, device, o.eval_batch);

  const char* metric = bundle.info.task == model::Task::Classify ? "accuracy" : "mIoU";
  std::printf("clean test %s: original network %.4f (source BN), %.4f (%s BN); with warmed-up meta networks %.4f\n",
              metric, before, before_norm, o.norm.c_str(), after);
  auto prov = nlohmann::json::parse(bundle.info.provenance_json);
  nlohmann::json w;
  w["command"] = remembered_command_line();
  w["seed"] = o.config.seed;
  w["epochs"] = o.config.epochs;
  w["lr"] = o.config.lr;
  w["fraction"] = o.fraction;
  w["split"] = bundle.model->partition();
  w["samples"] = samples;
  w["fresh_scenes"] = o.fresh_scenes;
  w["normalization"] = o.norm;
  w["eval_batch"] = o.eval_batch;
  w[std::string("clean_") + (bundle.info.task == model::Task::Classify ? "accuracy" : "miou") + "_before"] = before;
  w[std::string("clean_") + (bundle.info.task == model::Task::Classify ? "accuracy" : "miou") + "_before_" + o.norm] =
      before_norm;
  w[std::string("clean_") + (bundle.info.task == model::Task::Classify ? "accuracy" : "miou") + "_after"] = after;
  for (const auto& r : reports)
    w["epoch_log"].push_back({{"epoch", r.epoch}, {"loss", r.loss}, {"train_accuracy", r.accuracy}, {"seconds", r.seconds}});
  prov["warmup"] = w;
  bundle.info.provenance_json = prov.dump();
  model::save_bundle(o.out, bundle);
  std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void add_warmup_command(CLI::App& app) {
  static WarmupOptions o;
  o.config.epochs = 10;
  o.config.lr = 5e-2;
  o.config.weight_decay = 0;
  auto* cmd = app.add_subcommand("warmup", "Train fresh meta networks on source data with the network frozen");
  cmd->add_option("--model", o.in, "Bundle of a source-trained network")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", o.out, "Bundle to write (network + warmed-up meta networks)")->required();
  cmd->add_option("--epochs", o.config.epochs, "Epochs")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--fraction", o.fraction, "Share of the source training split used")
      ->capture_default_str()->check(CLI::Range(0.001, 1.0));
  cmd->add_option("--lr", o.config.lr, "Initial learning rate (cosine decay)")->capture_default_str();
  cmd->add_option("--batch", o.config.batch, "Batch size")->capture_default_str();
  cmd->add_option("--norm", o.norm, "How the frozen BN layers normalize, as at test time: batch, robust or source")
      ->capture_default_str();
  cmd->add_option("--eval-limit", o.eval_limit, "Evaluate on the first N test samples only (default: all)");
  cmd->add_option("--eval-batch", o.eval_batch, "Batch size of the before/after evaluations")->capture_default_str();
  cmd->add_option("--seed", o.config.seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", o.config.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--checkpoint", o.config.checkpoint_path, "Checkpoint written every epoch; resumed from if present");
  cmd->add_option("--data-dir", o.data.data_dir, "Fashion-MNIST folder");
  cmd->add_option("--images", o.data.images_path, "Warm up on an external IDX pair instead (with --labels)");
  cmd->add_option("--labels", o.data.labels_path, "Labels (N) or label maps (N x H x W) for --images");
  cmd->add_option("--test-images", o.test_images, "Evaluate on an external IDX pair instead (with --test-labels)");
  cmd->add_option("--test-labels", o.test_labels, "Labels or label maps for --test-images");
  cmd->add_option("--threads", o.threads, "Intra-op threads");
  cmd->add_option("--split", o.split,
                  "Blocks per part, e.g. 6,12 (K = 2 parts, so 2 meta networks); default: the bundle's (3,3,6,6 "
                  "for WRN-40-2)")
      ->delimiter(',');
  cmd->add_flag("--fresh-scenes", o.fresh_scenes,
                "Segmenter: new scenes every epoch (--fraction of the default 12,000), not a fixed subset");
  cmd->callback([] { run_warmup(o); });
}

}  // namespace ecotta::tools
