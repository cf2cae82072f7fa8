#!/usr/bin/env bash
# Replays every committed fuzz input (tests/fuzz/corpus/TARGET and
# tests/fuzz/regressions/TARGET) through its target in the normal build.
set -euo pipefail
src=$1
build=$2
export ECOTTA_FUZZ_BUNDLE=$3
for corpus in "$src"/corpus/*/; do
  t=$(basename "$corpus")
  inputs=("$corpus")
  [[ -d $src/regressions/$t ]] && inputs+=("$src/regressions/$t")
  "$build/replay_$t" "${inputs[@]}" | tail -1 | sed "s/^/$t: /"
done
