#!/usr/bin/env bash
# The soak benchmark's 2-minute form (scripts/benchmarks soak runs 30): a live
# 640x480 30 fps source through ecottacorrupt ! ecotta ! ecottaoverlay !
# ecottametalog, adaptation on, a checkpoint every 20 s. Checks what a
# camera left running needs: every frame through and none dropped,
# adaptation stepping to the end, every checkpoint written, and memory that
# levels off (RSS after the first minute grows by less than a leak of one
# snapshot per step would add in seconds).
set -euo pipefail
source_root=$1
bench=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$source_root"
"$bench" soak --model models/wrn-40-2-ecotta.ecotta --minutes 2 --checkpoint-interval 20 \
  --checkpoint "$tmp/soak.ckpt" > "$tmp/soak.json"
/usr/bin/python3 - "$tmp/soak.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["soak"]
s = run["samples"]
fails = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)
# One frame of 54,000 went missing upstream of ecotta in the 30-minute run
# (docs/reliability.md); more than that is a failure.
check(run["frames"] >= 3599, f"{run['frames']} of 3600 frames through ecotta")
check(run["sink_dropped"] == 0, f"{run['sink_dropped']} frames dropped at the sink")
last = [x for x in s if x["t_s"] >= run["wall_s"] - 20]
check(len(last) > 0 and last[-1]["steps"] > last[0]["steps"],
      f"adaptation steps in the last 20 s: {last[-1]['steps'] - last[0]['steps'] if last else 0}")
at_100 = [x["checkpoints"] for x in s if x["t_s"] >= 105]
check(bool(at_100) and at_100[0] >= 5, f"checkpoints written by 105 s (every 20 s): {at_100[0] if at_100 else 'none'}")
after_1min = [x["rss_mib"] for x in s if x["t_s"] >= 60]
growth = after_1min[-1] - after_1min[0] if after_1min else float("inf")
check(growth < 16, f"RSS growth from 60 s to the end: {growth:.1f} MiB (limit 16)")
check(not run["warnings"], f"warnings: {run['warnings']}")
sys.exit(1 if fails else 0)
PY
