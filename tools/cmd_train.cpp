#include <CLI/CLI.hpp>

#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "data/fashion_mnist.h"
#include "model/bundle.h"
#include "model/model_zoo.h"
#include "runtime/torch_runtime.h"
#include "task_data.h"
#include "train/bundle_eval.h"
#include "train/train_loop.h"

namespace ecotta::tools {
namespace {

struct TrainOptions {
  std::string model = "wrn-40-2";
  std::string out;
  train::TrainConfig config;
  TaskDataOptions data;
  size_t eval_limit = 0;
  std::string test_images, test_labels;
  int threads = 0;
  bool fresh_scenes = false;  // segmenter: new scenes every epoch
};

std::vector<std::string> labels_for(model::Task task) {
  std::vector<std::string> labels;
  if (task == model::Task::Segment) labels.push_back("background");
  for (const auto& c : data::fashion_mnist_classes()) labels.push_back(c);
  return labels;
}

void run_train(const TrainOptions& o) {
  runtime::configure_threads(o.threads);
  torch::manual_seed(o.config.seed);
  const auto task = model::task_for(o.model);
  const std::string task_name = model::to_string(task);
  if (o.fresh_scenes && task != model::Task::Segment)
    throw std::invalid_argument("--fresh-scenes generates fashion scenes: it needs --model segmenter");
  std::fprintf(stderr, "loading %s training data%s...\n", task_name.c_str(),
               o.fresh_scenes ? " (new scenes every epoch; epoch 1's now)" : "");
  // With --fresh-scenes, epoch e trains on its own scenes; the first epoch's
  // also give the input geometry and normalization.
  const train::EpochData fresh = o.fresh_scenes ? fresh_scenes(o.data) : train::EpochData{};
  auto train_set = o.fresh_scenes ? fresh(0) : load_task_data(task_name, "train", o.data);
  const int64_t train_samples = train_set.size();

  model::Bundle bundle;
  bundle.info.task = task;
  bundle.info.input.geometry = model::default_geometry(task);
  bundle.info.labels = labels_for(task);
  bundle.info.arch_json = model::arch_for(o.model, static_cast<int64_t>(bundle.info.labels.size()));
  bundle.info.input.height = train_set.images.size(1);
  bundle.info.input.width = train_set.images.size(2);
  train::measure_normalization(train_set.images, bundle.info.input);
  bundle.model = model::build_model(bundle.info.arch_json);
  const auto device = train::parse_device(o.config.device);
  bundle.model->to(device);

  train::TrainTarget target;
  target.forward = [&](const torch::Tensor& x) { return bundle.model->forward(x); };
  target.parameters = bundle.model->parameters();
  target.checkpoint_module = bundle.model;
  target.enter_training = [&] { bundle.model->apply_norm_mode(model::NormMode::Train); };
  std::fprintf(stderr, "training %s (%lld parameters) on %lld %ssamples, %d epochs, batch %lld, %s, %d threads\n",
               o.model.c_str(), static_cast<long long>(model::count_parameters(*bundle.model)),
               static_cast<long long>(train_samples), o.fresh_scenes ? "new (every epoch) " : "", o.config.epochs,
               static_cast<long long>(o.config.batch), o.config.device.c_str(), at::get_num_threads());
  const auto reports =
      o.fresh_scenes
          // train() asks once per epoch: epoch 1's scenes are handed over, not kept for the whole run.
          ? train::train(target, [&](int epoch) { return epoch == 0 ? std::exchange(train_set, {}) : fresh(epoch); },
                         bundle.info.input, o.config, true)
          : train::train(target, train_set, bundle.info.input, o.config, true);

  std::fprintf(stderr, "evaluating on the clean test split...\n");
  const auto test_set = load_task_data(task_name, "test", TaskDataOptions{o.data.data_dir, o.eval_limit, o.data.scene_seed, o.test_images, o.test_labels});
  nlohmann::json prov;
  prov["command"] = remembered_command_line();
  prov["seed"] = o.config.seed;
  prov["epochs"] = o.config.epochs;
  prov["batch"] = o.config.batch;
  prov["lr"] = o.config.lr;
  prov["device"] = o.config.device;
  prov["train_samples"] = train_samples;
  prov["data"] = task == model::Task::Classify ? "Fashion-MNIST train split, padded to 32x32 RGB"
                 : o.fresh_scenes ? "fashion scenes 64x64 from the Fashion-MNIST train split, new scenes every epoch"
                                  : "fashion scenes 64x64 from the Fashion-MNIST train split";
  if (task == model::Task::Segment) prov["fresh_scenes"] = o.fresh_scenes;
  for (const auto& r : reports) {
    nlohmann::json e = {{"epoch", r.epoch}, {"loss", r.loss}, {"train_accuracy", r.accuracy}, {"seconds", r.seconds}};
    if (o.fresh_scenes) e["data_seconds"] = r.data_seconds;
    prov["epoch_log"].push_back(e);
  }
  // The trained network as it ships: source statistics, no meta networks.
  const double figure = train::evaluate_bundle(bundle, false, model::NormMode::Source, test_set, device,
                                               task == model::Task::Classify ? 256 : 64);
  if (task == model::Task::Classify) {
    const double acc = figure;
    prov["clean_accuracy"] = acc;
    std::printf("clean test accuracy: %.2f%% (%lld images)\n", 100 * acc, static_cast<long long>(test_set.size()));
  } else {
    const double miou = figure;
    prov["clean_miou"] = miou;
    std::printf("clean test mIoU: %.4f (%lld scenes)\n", miou, static_cast<long long>(test_set.size()));
  }
  bundle.info.provenance_json = prov.dump();
  model::freeze(*bundle.model);
  model::save_bundle(o.out, bundle);
  std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  static TrainOptions o;
  auto* cmd = app.add_subcommand("train", "Source pre-training of a network on clean Fashion-MNIST (or fashion scenes)");
  cmd->add_option("--model", o.model, "Architecture: wrn-40-2, wrn-16-2 or segmenter")->capture_default_str();
  cmd->add_option("--out", o.out, "Bundle file to write")->required();
  cmd->add_option("--epochs", o.config.epochs, "Epochs")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--batch", o.config.batch, "Batch size")->capture_default_str()->check(CLI::Range(2, 4096));
  cmd->add_option("--lr", o.config.lr, "Initial learning rate (cosine decay to 0)")->capture_default_str();
  cmd->add_option("--weight-decay", o.config.weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--seed", o.config.seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", o.config.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--checkpoint", o.config.checkpoint_path, "Checkpoint written every epoch; resumed from if present");
  cmd->add_option("--stop-after", o.config.stop_after,
                  "Stop after this epoch, keeping the checkpoint (resume later with the same command)");
  cmd->add_option("--eval-limit", o.eval_limit, "Evaluate on the first N test samples only (default: all)");
  cmd->add_option("--limit", o.data.limit, "Train on the first N samples (N scenes for segmenter)");
  cmd->add_flag("--fresh-scenes", o.fresh_scenes,
                "Segmenter: train on new scenes every epoch (--limit of them, seed derived from the epoch) "
                "instead of one fixed set");
  cmd->add_option("--data-dir", o.data.data_dir, "Fashion-MNIST folder (default: $ECOTTA_DATA_DIR or Debian's)");
  cmd->add_option("--images", o.data.images_path, "Train on an external IDX pair instead (with --labels)");
  cmd->add_option("--labels", o.data.labels_path, "Labels (N) or label maps (N x H x W) for --images");
  cmd->add_option("--test-images", o.test_images, "Evaluate on an external IDX pair instead (with --test-labels)");
  cmd->add_option("--test-labels", o.test_labels, "Labels or label maps for --test-images");
  cmd->add_option("--threads", o.threads, "Intra-op threads (default: $ECOTTA_THREADS, else all cores)");
  cmd->callback([] { run_train(o); });
}

}  // namespace ecotta::tools
