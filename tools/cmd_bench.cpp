#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "adapt/block_input_plan.h"
#include "adapt/memory_budget.h"
#include "adapt/memory_planner.h"
#include "adapt/method_registry.h"
#include "adapt/methods.h"
#include "adapt/sample_buffer.h"
#include "bench/analytic_memory.h"
#include "bench/continual_benchmark.h"
#include "bench_report.h"
#include "bench_stream.h"
#include "commands.h"
#include "data/atomic_file.h"
#include "memory/counting_allocator.h"
#include "model/bundle.h"
#include "runtime/torch_runtime.h"
#include "task_data.h"
#include "util/progress_bar.h"

namespace ecotta::tools {
namespace {

struct BenchOptions {
  std::string task = "classify", model, methods = "source,norm,tent,eata,cotta,rotta,ecotta", domains = "standard";
  int severity = 5;
  size_t per_domain = 1000;
  int rounds = 1;
  size_t batch = 64;
  uint64_t seed = 0;
  std::string order = "iid", split = "test";
  bool quick = false;
  std::string json_out, plots_dir;
  size_t fisher_samples = 2000;
  std::string baseline_norm = "batch";
  std::string ecotta_norm = "bundle";  // or batch, robust
  bool no_reset_rule = false;
  std::string memory_cap;
  std::string preset = "validated";
  std::string protocol = "batch";  // or buffered: the element's
  int64_t adapt_batch = 16, buffer_capacity = 0;
  // Learning rates; negative: the preset's for the task (method_defaults.h).
  double tent_lr = -1, eata_lr = -1, cotta_lr = -1, rotta_lr = -1, ecotta_lr = -1;
  adapt::MethodOptions method;  // the command line sets its other fields directly
  TaskDataOptions data;
  int threads = 0;
};

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const auto end = std::min(list.find(',', start), list.size());
    auto item = list.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

// "123456", "64M", "64MiB", "1.5G": bytes (K, M, G are powers of 1024).
int64_t parse_bytes(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'i') unit.pop_back();
  double scale = 0;
  if (unit.empty()) scale = 1;
  else if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M") scale = 1048576.0;
  else if (unit == "G") scale = 1073741824.0;
  if (used == 0 || scale == 0 || value <= 0)
    throw std::invalid_argument("--memory-cap '" + text + "': give a positive byte count, e.g. 67108864 or 64M");
  return static_cast<int64_t>(value * scale);
}

void run_bench(BenchOptions o, const CLI::App& cmd) {
  const auto started = std::chrono::steady_clock::now();
  memory::AllocationCounter::install();  // before anything is allocated, so every free is matched
  runtime::configure_threads(o.threads);
  const auto task = model::parse_task(o.task);
  const bool classify = task == model::Task::Classify;
  auto domains = data::parse_domains(o.domains);
  if (o.quick) {
    // A smoke run for tests: three domains, few samples, few augmentations.
    if (!cmd.get_option("--per-domain")->count()) o.per_domain = 64;
    if (!cmd.get_option("--fisher-samples")->count()) o.fisher_samples = 128;
    if (!cmd.get_option("--cotta-augmentations")->count()) o.method.cotta_augmentations = 4;
    if (o.data.limit == 0) o.data.limit = 512;  // the stream draws from the first test samples
    if (domains.size() > 3) domains.resize(3);
  }
  const int64_t cap = o.memory_cap.empty() ? 0 : parse_bytes(o.memory_cap);  // refused before any work
  const bool buffered = o.protocol == "buffered";
  if (buffered) {
    // What the element does: robust statistics for every method (predict()
    // on a batch-statistics layer would normalize with the slice's own).
    if (!classify) throw std::invalid_argument("--protocol buffered: classification only (the buffer balances by predicted class)");
    if (cap > 0) throw std::invalid_argument("--protocol buffered: --adapt-batch sets the step's size; leave --memory-cap out");
    if (cmd.get_option("--baseline-norm")->count() && o.baseline_norm != "robust")
      throw std::invalid_argument("--protocol buffered predicts with robust statistics: --baseline-norm must be robust");
    if (cmd.get_option("--ecotta-norm")->count() && o.ecotta_norm != "robust")
      throw std::invalid_argument("--protocol buffered predicts with robust statistics: --ecotta-norm must be robust");
    o.baseline_norm = o.ecotta_norm = "robust";
  }
  const auto methods = split_list(o.methods);
  if (methods.empty()) throw std::invalid_argument("--methods names no method");
  for (const auto& m : methods) {
    adapt::check_method_name(m);
    if (cap > 0 && !adapt::method_entry(m).step_follows_batch)
      throw std::invalid_argument("--memory-cap: " + m + " trains on its own memory bank whatever the batch, so a cap "
                                  "cannot shrink its steps; leave it out of a capped run");
  }

  auto probe = model::load_bundle(o.model);
  if (probe.info.task != task)
    throw std::invalid_argument("--task " + o.task + " but '" + o.model + "' is a " + model::to_string(probe.info.task) +
                                " bundle");
  const int64_t classes = static_cast<int64_t>(probe.info.labels.size());
  const auto geometry = bench::probe_geometry(*probe.model, probe.info.input.height, probe.info.input.width);

  auto test = load_task_data(o.task, o.split, o.data);
  const auto spec = data::make_stream_spec(domains, o.severity, o.per_domain, o.rounds, o.batch,
                                           data::parse_stream_order(o.order), o.seed);
  std::fprintf(stderr, "preparing the stream: %zu domains x %zu samples x %d rounds at severity %d\n", domains.size(),
               o.per_domain, o.rounds, o.severity);
  const auto batches = build_bench_stream(spec, test, probe.info.input);

  auto options = o.method;
  const auto preset = adapt::parse_preset(o.preset);
  // The buffered protocol is the element's, so it gets the element's rates.
  const auto setting = !classify ? adapt::Setting::Segmentation : buffered ? adapt::Setting::Frames : adapt::Setting::Batch;
  auto rates = adapt::learning_rates(setting, preset);
  for (auto [given, rate] : {std::pair{o.tent_lr, &rates.tent}, {o.eata_lr, &rates.eata}, {o.cotta_lr, &rates.cotta},
                             {o.rotta_lr, &rates.rotta}, {o.ecotta_lr, &rates.ecotta}})
    if (given >= 0) *rate = given;
  adapt::set_learning_rates(options, rates);
  options.baseline_norm = model::parse_norm_mode(o.baseline_norm);
  if (o.no_reset_rule) options.ecotta_reset.enabled = false;
  // Resolved here, so a bad list is refused before any work and the JSON names the plan used.
  options.ecotta.keep_every = adapt::resolve_keep_every(options.ecotta.keep_every, geometry.part_out);
  const bool wants_source_samples = std::any_of(methods.begin(), methods.end(), [](const std::string& m) {
    return adapt::method_entry(m).uses_source_samples;
  });
  if (wants_source_samples && o.fisher_samples > 0) {
    TaskDataOptions d = o.data;  // the clean train split, never the external test files
    d.images_path.clear();
    d.labels_path.clear();
    d.limit = o.fisher_samples;
    options.eata_source_samples = train::prepare_input(load_task_data(o.task, "train", d).images, probe.info.input, torch::kCPU);
  }

  nlohmann::ordered_json out;
  out["task"] = o.task;
  // Filled before "methods" exists: ordered_json may move its entries when a key is added.
  auto& config = out["config"];
  config["model"] = o.model;
  config["methods"] = methods;
  config["domains"] = domains;
  config["severity"] = o.severity;
  config["per_domain"] = o.per_domain;
  config["rounds"] = o.rounds;
  config["batch"] = o.batch;
  config["seed"] = o.seed;
  config["order"] = o.order;
  config["protocol"] = o.protocol;
  if (buffered) {
    config["adapt_batch"] = o.adapt_batch;
    config["buffer_capacity"] = adapt::buffer_capacity_for(o.adapt_batch, o.buffer_capacity);
  }
  config["split"] = o.split;
  config["test_samples"] = test.size();
  config["quick"] = o.quick;
  config["baseline_norm"] = o.baseline_norm;
  config["ecotta_norm"] = o.ecotta_norm;
  config["eata_fisher_samples"] = options.eata_source_samples.defined() ? options.eata_source_samples.size(0) : 0;
  config["cotta_augmentations"] = options.cotta_augmentations;
  config["ecotta_reset_rule"] = options.ecotta_reset.enabled;
  config["ecotta_lr"] = options.ecotta.lr;
  config["ecotta_lambda"] = options.ecotta.lambda;
  config["ecotta_keep_every"] = options.ecotta.keep_every;
  config["ecotta_class_balanced"] = options.ecotta.class_balanced;
  config["tent_lr"] = options.tent_lr;
  config["eata_lr"] = options.eata_lr;
  config["cotta_lr"] = options.cotta_lr;
  config["rotta_lr"] = options.rotta_lr;
  config["preset"] = o.preset;
  config["threads"] = torch::get_num_threads();
  config["samples_per_method"] = o.per_domain * domains.size() * static_cast<size_t>(o.rounds);
  config["command"] = remembered_command_line();

  config["memory_cap"] = cap;

  std::vector<bench::MethodRun> runs;
  for (const auto& name : methods) {
    auto method_options = options;
    int64_t step_batch = 0;
    nlohmann::ordered_json plan_json;
    std::string run_as = name;
    if (cap > 0 && adapt::method_entry(name).trains) {
      // Calibration steps on the stream's first batch, each on a fresh copy.
      const auto plan = adapt::plan_method_memory(o.model, name, options, cap,
                                                  batches.front().input.slice(0, 0, static_cast<int64_t>(o.batch)));
      std::fprintf(stderr, "%s under a %.1f MiB cap: %s\n", name.c_str(), cap / 1048576.0, plan.reason.c_str());
      plan_json["cap"] = cap;
      plan_json["mode"] = adapt::to_string(plan.mode);
      plan_json["batch"] = plan.batch;
      plan_json["first_trained_part"] = plan.first_trained_part;
      plan_json["predicted_bytes"] = plan.predicted_bytes;
      plan_json["reason"] = plan.reason;
      if (plan.mode == adapt::MemoryPlan::Mode::StatisticsOnly) {
        run_as = "norm";
      } else {
        step_batch = plan.batch;
        method_options.ecotta.first_trained_part = plan.first_trained_part;
      }
    }
    auto bundle = model::load_bundle(o.model);
    if (run_as == "ecotta" && o.ecotta_norm != "bundle") bundle.info.normalization = model::parse_norm_mode(o.ecotta_norm);
    auto method = adapt::make_method(run_as, bundle, method_options);
    util::ProgressBar bar(name, batches.size());
    const auto progress = [&](size_t done, double running) {
      char status[64];
      std::snprintf(status, sizeof status, classify ? "error %.1f%%" : "mIoU %.3f", running);
      bar.update(done, status);
    };
    auto run = buffered ? bench::run_buffered(*method, batches, task, classes, o.rounds, domains.size(),
                                              {o.adapt_batch, o.buffer_capacity}, progress)
                        : bench::run_continual(*method, batches, task, classes, o.rounds, domains.size(), progress,
                                               step_batch);
    run.method = name;
    bar.finish();
    // RoTTA's step trains on its memory bank, not on the stream's batch.
    const int64_t trained_batch = !adapt::method_entry(run_as).step_follows_batch ? method_options.rotta_memory
                                  : buffered                                      ? o.adapt_batch
                                  : step_batch > 0                                ? step_batch
                                                                                  : static_cast<int64_t>(o.batch);
    const int64_t analytic = bench::analytic_adapt_bytes(
        run_as, geometry, trained_batch, run.trainable_params,
        run.persistent_bytes, method_options.ecotta.first_trained_part,
        method_options.ecotta.keep_every);
    run.analytic_bytes = analytic;
    auto m = method_json(run, domains, classify, probe.info.labels);
    if (!plan_json.empty()) {
      m["memory_plan"] = plan_json;
      m["within_cap"] = run.peak_adapt_bytes() <= cap;
    }
    out["methods"][name] = m;
    print_method_line(run, classify);
    runs.push_back(std::move(run));
  }
  print_bench_table(runs, domains, classify);
  out["config"]["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (!o.json_out.empty()) {
    const std::string text = out.dump(2) + "\n";
    data::write_file_atomically(o.json_out, text.data(), text.size());
  }
  if (!o.plots_dir.empty()) write_plots(o.json_out, o.plots_dir);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  static BenchOptions o;
  auto* cmd = app.add_subcommand("bench", "Continual test-time adaptation benchmark: error or mIoU, memory, step time");
  cmd->add_option("--task", o.task, "classify or segment")->capture_default_str();
  cmd->add_option("--model", o.model, "Bundle file (warmed-up meta networks needed for ecotta)")->required();
  cmd->add_option("--methods", o.methods, "Comma list of source, norm, tent, eata, cotta, rotta, ecotta")->capture_default_str();
  cmd->add_option("--domains", o.domains, "'standard' (15 corruptions in order) or a comma list; file:PREFIX reads an "
                                          "`ecotta corrupt` IDX pair")->capture_default_str();
  cmd->add_option("--severity", o.severity, "Corruption severity")->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--per-domain", o.per_domain, "Samples per domain and round")->capture_default_str();
  cmd->add_option("--rounds", o.rounds, "Passes over the domain list")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--batch", o.batch, "Batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", o.seed, "Stream and corruption seed")->capture_default_str();
  cmd->add_option("--order", o.order, "iid, correlated (sorted by label) or dirichlet")->capture_default_str();
  cmd->add_option("--protocol", o.protocol,
                  "batch: each method adapts on the stream's batches; buffered: the element's (predict first, "
                  "steps of --adapt-batch from a class-balanced sample buffer, robust statistics, the frames rates)")
      ->capture_default_str()
      ->check(CLI::IsMember({"batch", "buffered"}));
  cmd->add_option("--adapt-batch", o.adapt_batch, "Buffered protocol: samples per step (the element's adapt-batch-size)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--buffer-capacity", o.buffer_capacity,
                  "Buffered protocol: samples the buffer holds (0: 4 x --adapt-batch, the element's)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{65536}));
  cmd->add_flag("--quick", o.quick, "Smoke run: first 3 domains, 64 samples each, small EATA/CoTTA settings");
  cmd->add_option("--json", o.json_out, "Write the results here (format: docs/benchmarks.md)");
  cmd->add_option("--plots", o.plots_dir, "Write PNG plots into this folder (needs --json and python3-matplotlib)");
  cmd->add_option("--fisher-samples", o.fisher_samples, "Clean train samples for EATA's Fisher weights")->capture_default_str();
  cmd->add_option("--cotta-augmentations", o.method.cotta_augmentations, "CoTTA's augmented teacher passes")->capture_default_str();
  cmd->add_option("--baseline-norm", o.baseline_norm, "BN mode of norm/tent/eata/cotta: batch or robust")->capture_default_str();
  cmd->add_option("--ecotta-norm", o.ecotta_norm,
                  "BN mode of ecotta: bundle (the mode its meta networks were warmed up in), batch or robust (an EMA "
                  "from the bundle's robust anchor)")
      ->capture_default_str()
      ->check(CLI::IsMember({"bundle", "batch", "robust"}));
  cmd->add_flag("--ecotta-class-balanced", o.method.ecotta.class_balanced,
                "EcoTTA's entropy averaged per predicted class, then over classes (segmentation: background no "
                "longer dominates the loss)");
  cmd->add_flag("--no-reset-rule", o.no_reset_rule, "Run EcoTTA without its reset rule");
  cmd->add_option("--preset", o.preset,
                  "Learning rates: validated (chosen on validation streams for the task; docs/defaults.md) or paper "
                  "(each method's published CIFAR setting)")
      ->capture_default_str();
  cmd->add_option("--ecotta-lr", o.ecotta_lr, "EcoTTA's SGD learning rate (default: the preset's; paper 5e-3)");
  cmd->add_option("--ecotta-keep-every", o.method.ecotta.keep_every,
                  "EcoTTA: per part, keep one frozen block input in every N for backward (1 all, 0 none; "
                  "e.g. 0,0,2,1): faster backward, more memory. Default: by activation size")
      ->delimiter(',');
  cmd->add_option("--tent-lr", o.tent_lr, "Tent's Adam learning rate (default: the preset's; paper, CIFAR: 1e-3)");
  cmd->add_option("--eata-lr", o.eata_lr, "EATA's Adam learning rate (default: the preset's; CIFAR ports: 1e-3)");
  cmd->add_option("--cotta-lr", o.cotta_lr, "CoTTA's Adam learning rate (default: the preset's; paper, CIFAR: 1e-3)");
  cmd->add_option("--rotta-lr", o.rotta_lr, "RoTTA's Adam learning rate (default: the preset's; paper, CIFAR: 1e-3)");
  cmd->add_option("--ecotta-lambda", o.method.ecotta.lambda, "Weight of EcoTTA's self-distilled regularizer (paper: 0.5)")
      ->capture_default_str();
  cmd->add_option("--memory-cap", o.memory_cap,
                  "Peak adaptation bytes allowed per method (e.g. 67108864 or 64M): fewer samples per step, then "
                  "EcoTTA trains only deeper parts, then statistics only");
  cmd->add_option("--data-dir", o.data.data_dir, "Fashion-MNIST folder");
  cmd->add_option("--split", o.split, "Split the stream draws from: test, or train for choosing hyperparameters "
                                      "without touching the test images")->capture_default_str();
  cmd->add_option("--test-limit", o.data.limit, "Draw the stream from the first N test samples (scenes)");
  cmd->add_option("--test-images", o.data.images_path, "Clean test images from an external IDX pair (with --test-labels)");
  cmd->add_option("--test-labels", o.data.labels_path, "Labels or label maps for --test-images");
  cmd->add_option("--threads", o.threads, "Intra-op threads");
  cmd->callback([cmd] {
    if (!o.plots_dir.empty() && o.json_out.empty()) throw std::invalid_argument("--plots needs --json");
    run_bench(o, *cmd);
  });
}

}  // namespace ecotta::tools
