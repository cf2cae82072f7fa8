#pragma once
// The truth file `ecotta stream --truth` writes: one JSON line per frame
// (tools/cmd_stream.cpp), read by the benchmarks that score the element.
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ecotta::bench {

struct TruthFrame {
  int label = -1;          // classify: the item's class
  std::string labels_png;  // segment: the frame's label map
  std::string condition;   // "clean" or a corruption name
  int severity = 0;
  double pts = 0;          // seconds
};

inline std::vector<TruthFrame> read_truth(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open truth file '" + path + "'");
  std::vector<TruthFrame> frames;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    TruthFrame t;
    t.label = j.value("label", -1);
    t.labels_png = j.value("labels_png", "");
    t.condition = j.at("condition").get<std::string>();
    t.severity = j.value("severity", 0);
    t.pts = j.value("pts", 0.0);
    frames.push_back(t);
  }
  return frames;
}

// The per-condition key of a frame: "clean" or e.g. "fog@5".
inline std::string condition_key(const TruthFrame& t) {
  return t.condition == "clean" ? "clean" : t.condition + "@" + std::to_string(t.severity);
}

}  // namespace ecotta::bench
