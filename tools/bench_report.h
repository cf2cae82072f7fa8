#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/continual_benchmark.h"

namespace ecotta::tools {

// How `ecotta bench` reports a method's run: its JSON entry (the contract in
// docs/benchmarks.md), a one-line summary on stderr, and the closing table.
// `labels` name the classes of a segmentation run's per-class IoU.
nlohmann::ordered_json method_json(const bench::MethodRun& run, const std::vector<std::string>& domains, bool classify,
                                   const std::vector<std::string>& labels = {});
void print_method_line(const bench::MethodRun& run, bool classify);
void print_bench_table(const std::vector<bench::MethodRun>& runs, const std::vector<std::string>& domains, bool classify);

// Runs scripts/plot_bench.py on the written JSON (Debian's python3 with
// python3-matplotlib, or $ECOTTA_PYTHON). Throws with the command on failure.
void write_plots(const std::string& json_path, const std::string& plots_dir);

}  // namespace ecotta::tools
