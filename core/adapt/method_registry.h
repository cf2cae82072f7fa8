#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "method.h"
#include "model/bundle.h"

namespace ecotta::adapt {

struct MethodOptions;

// How the analytic memory estimate (bench/analytic_memory.h) counts what a
// step of the method keeps for backward.
enum class CostModel {
  Nothing,         // no gradient: source, norm
  AllActivations,  // plain autograd through the whole network: tent, eata, cotta
  MetaNetworks,    // EcoTTA's lean backward: part inputs/outputs and kept block inputs
};

// Everything the engine, the tools and the element know about one method;
// adding a method is its file and one entry in method_registry.cpp.
struct MethodEntry {
  std::string name;
  std::string summary;  // one line, for help texts and the element's enum
  std::function<std::unique_ptr<Method>(model::Bundle&, const MethodOptions&)> make;
  bool adapts = true;                 // changes anything at all (false: source)
  bool trains = true;                 // takes gradient steps, so a memory cap plans it
  bool can_train_deeper_only = false; // a memory cap may leave its shallow parts untrained
  bool uses_source_samples = false;   // wants clean source samples (EATA's Fisher weights)
  CostModel cost = CostModel::Nothing;
  // A step's memory follows the batch it is given, so a memory cap can
  // shrink it with fewer samples per step (false: RoTTA, which trains on
  // its memory bank whatever the batch).
  bool step_follows_batch = true;
};

// Every method, in the order tools list them.
const std::vector<MethodEntry>& method_registry();
// The entry of `name`; std::invalid_argument naming the known ones otherwise.
const MethodEntry& method_entry(const std::string& name);

}  // namespace ecotta::adapt
