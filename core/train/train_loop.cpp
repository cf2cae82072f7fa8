#include "train_loop.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <torch/torch.h>

#include "data/atomic_file.h"
#include "data/zip_integrity.h"
#include "util/progress_bar.h"

namespace ecotta::train {
namespace {

namespace F = torch::nn::functional;

void save_checkpoint(const std::string& path, torch::nn::Module& module, torch::optim::Optimizer& opt, int epoch) {
  torch::serialize::OutputArchive ar, mod_ar, opt_ar;
  module.save(mod_ar);
  opt.save(opt_ar);
  ar.write("module", mod_ar);
  ar.write("optimizer", opt_ar);
  ar.write("epoch", torch::tensor(static_cast<int64_t>(epoch)), true);
  std::ostringstream out;
  ar.save_to(out);
  const auto bytes = out.str();
  data::write_file_atomically(path, bytes.data(), bytes.size());
}

int load_checkpoint(const std::string& path, torch::nn::Module& module, torch::optim::Optimizer& opt) {
  torch::serialize::InputArchive ar, mod_ar, opt_ar;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open it");
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    ecotta::data::check_zip_integrity(bytes, path);  // LibTorch's parsers crash on damaged archives
    std::istringstream archive(bytes);
    ar.load_from(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot resume from checkpoint '" + path + "': " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // Damaged TorchScript class definitions in the archive (see model/bundle.cpp).
    throw std::runtime_error("cannot resume from checkpoint '" + path + "': " + e.what());
  }
  ar.read("module", mod_ar);
  ar.read("optimizer", opt_ar);
  module.load(mod_ar);
  opt.load(opt_ar);
  torch::Tensor epoch;
  ar.read("epoch", epoch, true);
  return static_cast<int>(epoch.item<int64_t>());
}

}  // namespace

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw std::invalid_argument("--device cuda: this LibTorch has no CUDA device available");
    return torch::kCUDA;
  }
  throw std::invalid_argument("unknown device '" + name + "' (expected cpu or cuda)");
}

void augment(torch::Tensor& images, torch::Tensor& targets, int64_t padding, bool flip, torch::Generator& gen) {
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  const bool maps = targets.dim() == 3;
  const auto shifts = torch::randint(0, 2 * padding + 1, {n, 2}, gen, torch::kInt64);
  const auto flips = torch::randint(0, 2, {n}, gen, torch::kInt64);
  auto padded = padding > 0 ? F::pad(images, F::PadFuncOptions({padding, padding, padding, padding})) : images;
  auto padded_t = (maps && padding > 0) ? F::pad(targets, F::PadFuncOptions({padding, padding, padding, padding}))
                                        : targets;
  std::vector<torch::Tensor> out, out_t;
  const auto s = shifts.accessor<int64_t, 2>();
  const auto f = flips.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t dy = padding > 0 ? s[i][0] : 0, dx = padding > 0 ? s[i][1] : 0;
    auto img = padded[i].slice(1, dy, dy + h).slice(2, dx, dx + w);
    auto tgt = maps ? padded_t[i].slice(0, dy, dy + h).slice(1, dx, dx + w) : targets[i];
    if (flip && f[i]) {
      img = img.flip({2});
      if (maps) tgt = tgt.flip({1});
    }
    out.push_back(img);
    out_t.push_back(tgt);
  }
  images = torch::stack(out);
  targets = torch::stack(out_t);
}

std::vector<EpochReport> train(const TrainTarget& target, const TensorDataset& data, const model::InputSpec& spec,
                               const TrainConfig& config, bool progress) {
  return train(target, [&data](int) { return data; }, spec, config, progress);
}

std::vector<EpochReport> train(const TrainTarget& target, const EpochData& data_for_epoch,
                               const model::InputSpec& spec, const TrainConfig& config, bool progress) {
  const auto device = parse_device(config.device);
  torch::optim::SGD opt(target.parameters, torch::optim::SGDOptions(config.lr)
                                               .momentum(config.momentum)
                                               .weight_decay(config.weight_decay)
                                               .nesterov(config.nesterov));
  int start_epoch = 0;
  if (!config.checkpoint_path.empty() && std::filesystem::exists(config.checkpoint_path)) {
    start_epoch = load_checkpoint(config.checkpoint_path, *target.checkpoint_module, opt);
    if (progress) std::fprintf(stderr, "resuming from '%s' after epoch %d\n", config.checkpoint_path.c_str(), start_epoch);
  }
  if (start_epoch >= config.epochs) return {};
  const auto fetch = [&](int epoch, double& seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    auto d = data_for_epoch(epoch);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return d;
  };
  double data_seconds = 0;
  TensorDataset data = fetch(start_epoch, data_seconds);
  const int64_t n = data.size();
  if (n <= 0) throw std::invalid_argument("no training data for epoch " + std::to_string(start_epoch + 1));
  const int64_t steps_per_epoch = (n + config.batch - 1) / config.batch;
  const int64_t total_steps = steps_per_epoch * config.epochs;

  std::vector<EpochReport> reports;
  for (int epoch = start_epoch; epoch < config.epochs; ++epoch) {
    if (epoch > start_epoch) {
      data = fetch(epoch, data_seconds);
      if (data.size() != n)
        throw std::invalid_argument("epoch " + std::to_string(epoch + 1) + " has " + std::to_string(data.size()) +
                                    " samples, the first " + std::to_string(n) + ": every epoch must have as many");
    }
    target.enter_training();
    // Every epoch's order and augmentation depend only on (seed, epoch), so
    // a resumed run continues exactly as an uninterrupted one would.
    auto gen = at::detail::createCPUGenerator(config.seed * 1000003 + static_cast<uint64_t>(epoch));
    const auto order = torch::randperm(n, gen, torch::kInt64);
    util::ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs),
                          static_cast<size_t>(steps_per_epoch));
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0, correct = 0, counted = 0;
    for (int64_t step = 0; step < steps_per_epoch; ++step) {
      const int64_t global = epoch * steps_per_epoch + step;
      const double lr = 0.5 * config.lr * (1 + std::cos(M_PI * static_cast<double>(global) / total_steps));
      for (auto& group : opt.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);

      const auto idx = order.slice(0, step * config.batch, std::min(n, (step + 1) * config.batch));
      auto batch = data.index(idx);
      auto x = prepare_input(batch.images, spec, torch::kCPU);
      auto y = batch.targets;
      augment(x, y, config.crop_padding, config.flip, gen);
      x = x.to(device);
      y = y.to(device);

      const auto logits = target.forward(x);
      const auto loss = F::cross_entropy(logits, y);
      opt.zero_grad();
      loss.backward();
      opt.step();

      const auto pred = logits.argmax(1);
      loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
      correct += pred.eq(y).sum().item<double>();
      counted += static_cast<double>(y.numel());
      if (progress) {
        char status[96];
        std::snprintf(status, sizeof status, "loss %.3f acc %.1f%% lr %.4f", loss_sum / (step * config.batch + idx.size(0)),
                      100.0 * correct / counted, lr);
        bar.update(static_cast<size_t>(step + 1), status);
      }
    }
    EpochReport r;
    r.epoch = epoch + 1;
    r.loss = loss_sum / static_cast<double>(n);
    r.accuracy = correct / counted;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.data_seconds = data_seconds;
    if (progress) {
      char status[64];
      std::snprintf(status, sizeof status, "loss %.3f acc %.1f%%", r.loss, 100 * r.accuracy);
      bar.finish(status);
    }
    reports.push_back(r);
    if (!config.checkpoint_path.empty()) save_checkpoint(config.checkpoint_path, *target.checkpoint_module, opt, epoch + 1);
    if (config.stop_after > 0 && epoch + 1 >= config.stop_after) break;
  }
  return reports;
}

}  // namespace ecotta::train
