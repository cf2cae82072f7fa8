#include "bench_report.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace ecotta::tools {
namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

std::vector<double> all_values(const bench::MethodRun& run) {
  std::vector<double> all;
  for (const auto& round : run.metric) all.insert(all.end(), round.begin(), round.end());
  return all;
}

std::string short_name(const std::string& domain) {
  if (domain.rfind("file:", 0) == 0) return std::filesystem::path(domain.substr(5)).filename().string().substr(0, 6);
  std::string s;
  for (char c : domain)
    if (c != '_') s += c;
  return s.substr(0, 6);
}

constexpr double kMiB = 1048576.0;

}  // namespace

nlohmann::ordered_json method_json(const bench::MethodRun& run, const std::vector<std::string>& domains, bool classify,
                                   const std::vector<std::string>& labels) {
  const char* metric = classify ? "mean_error" : "mean_miou";
  // {label: IoU}, null for a class neither true nor predicted.
  const auto by_label = [&labels](const std::vector<double>& iou) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (size_t c = 0; c < iou.size(); ++c) {
      const std::string name = c < labels.size() ? labels[c] : std::to_string(c);
      j[name] = std::isnan(iou[c]) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(iou[c]);
    }
    return j;
  };
  nlohmann::ordered_json m;
  auto rounds = nlohmann::ordered_json::array();
  for (size_t i = 0; i < run.metric.size(); ++i) {
    const auto& per_round = run.metric[i];
    nlohmann::ordered_json r, per_domain;
    for (size_t d = 0; d < domains.size(); ++d) per_domain[domains[d]] = per_round[d];
    r[metric] = mean_of(per_round);
    r["per_domain"] = per_domain;
    if (i < run.round_class_iou.size()) r["class_iou"] = by_label(run.round_class_iou[i]);
    rounds.push_back(r);
  }
  m[metric] = mean_of(all_values(run));
  m["rounds"] = rounds;
  if (!run.class_iou.empty()) m["class_iou"] = by_label(run.class_iou);
  m["peak_adapt_bytes"] = run.peak_adapt_bytes();
  m["peak_step_bytes"] = run.peak_step_bytes;
  m["persistent_bytes"] = run.persistent_bytes;
  m["analytic_adapt_bytes"] = run.analytic_bytes;
  m["step_ms"] = run.step_ms;
  m["trainable_params"] = run.trainable_params;
  m["steps"] = run.steps;
  m["skipped_steps"] = run.skipped_steps;
  m["resets"] = run.resets;
  return m;
}

void print_method_line(const bench::MethodRun& run, bool classify) {
  const double mean = mean_of(all_values(run));
  std::fprintf(stderr, "%-7s %s %.2f%s  peak %.1f MiB (analytic %.1f)  %.0f ms/step  %lld trainable\n",
               run.method.c_str(), classify ? "error" : "mIoU", mean, classify ? "%" : "",
               run.peak_adapt_bytes() / kMiB, run.analytic_bytes / kMiB, run.step_ms,
               static_cast<long long>(run.trainable_params));
}

void print_bench_table(const std::vector<bench::MethodRun>& runs, const std::vector<std::string>& domains, bool classify) {
  const double scale = classify ? 1 : 100;  // mIoU in percent
  std::printf("\n%s per domain, mean over rounds\n%-8s", classify ? "error %" : "mIoU %", "method");
  for (const auto& d : domains) std::printf(" %6s", short_name(d).c_str());
  std::printf(" %6s %10s %10s %9s\n", "mean", "peak MiB", "analyt MiB", "step ms");
  for (const auto& r : runs) {
    std::printf("%-8s", r.method.c_str());
    for (size_t d = 0; d < domains.size(); ++d) {
      std::vector<double> per_round;
      for (const auto& round : r.metric) per_round.push_back(round[d]);
      std::printf(" %6.1f", scale * mean_of(per_round));
    }
    std::printf(" %6.2f %10.1f %10.1f %9.0f\n", scale * mean_of(all_values(r)), r.peak_adapt_bytes() / kMiB,
                r.analytic_bytes / kMiB, r.step_ms);
  }
}

void write_plots(const std::string& json_path, const std::string& plots_dir) {
  const char* python = std::getenv("ECOTTA_PYTHON");
  const std::string command = std::string(python ? python : "/usr/bin/python3") + " '" + ECOTTA_PLOT_SCRIPT + "' '" +
                              json_path + "' '" + plots_dir + "' >/dev/null";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("plotting failed: " + command + " (python3-matplotlib comes with scripts/setup)");
  std::fprintf(stderr, "plots written to %s\n", plots_dir.c_str());
}

}  // namespace ecotta::tools
