#!/usr/bin/python3
"""Plots the element benchmark (scripts/benchmarks streaming) and the soak run.

  python3 scripts/plot_streaming.py accuracy BENCH_DIR OUT.png
  python3 scripts/plot_streaming.py soak SOAK.json OUT.png

accuracy: per condition, frozen against adapted (both runs), for the
classifier and the segmenter, from BENCH_DIR/streaming-accuracy-*.json.
soak: RSS, tensor bytes, adaptation steps and checkpoints over the run, with
the RSS slope fitted after warm-up. Needs only Debian's python3-matplotlib.
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def accuracy(bench_dir, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, task, metric in zip(axes, ("classify", "segment"), ("frame accuracy", "mIoU")):
        first = load(os.path.join(bench_dir, f"streaming-accuracy-{task}.json"))
        repeat_path = os.path.join(bench_dir, f"streaming-accuracy-{task}-repeat.json")
        runs = [first["on"]] + ([load(repeat_path)["on"]] if os.path.exists(repeat_path) else [])
        conditions = [c for c in first["off"]["per_condition"]]
        conditions.sort(key=lambda c: (c != "clean", c))
        x = range(len(conditions))
        width = 0.8 / (1 + len(runs))
        ax.bar([i - 0.4 + width / 2 for i in x], [first["off"]["per_condition"][c] for c in conditions], width,
               label="frozen (adapt=false)", color="#999999")
        for k, run in enumerate(runs):
            ax.bar([i - 0.4 + width * (k + 1.5) for i in x], [run["per_condition"].get(c, 0) for c in conditions],
                   width, label=f"adapted, run {k + 1}", color=["#1f77b4", "#6baed6"][k % 2])
        ax.set_xticks(list(x))
        ax.set_xticklabels(conditions, rotation=30)
        ax.set_ylabel(metric)
        ax.set_ylim(0, 1)
        ax.set_title(f"{os.path.basename(first['model'])}: shifted {first['off']['shifted']:.3f} -> "
                     + " / ".join(f"{r['shifted']:.3f}" for r in runs))
        ax.legend(fontsize=8)
    fig.suptitle("ecotta element on the demo's video, paced at 30 fps, default properties")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def soak(path, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = load(path)["soak"]
    s = run["samples"]
    t = [x["t_s"] / 60 for x in s]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    ax = axes[0]
    ax.plot(t, [x["rss_mib"] for x in s], label="process RSS")
    ax.plot(t, [x["tensor_mib"] for x in s], label="tensor bytes in use (counting allocator)")
    ax.plot(t, [x["kept_mib"] for x in s], label="freed blocks kept for reuse")
    ax.axvline(run["warmup_s"] / 60, color="#999999", linestyle=":", label="end of warm-up")
    ax.set_xlabel("minutes")
    ax.set_ylabel("MiB")
    ax.set_title(f"RSS slope after warm-up: {run['rss_slope_mib_per_min']:+.3f} MiB/min")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(t, [x["steps"] for x in s], label="adaptation steps")
    ax.set_xlabel("minutes")
    ax.set_ylabel("steps")
    ax2 = ax.twinx()
    ax2.step(t, [x["checkpoints"] for x in s], color="#d62728", where="post", label="checkpoints written")
    ax2.set_ylabel("checkpoints")
    ax.set_title(f"{run['frames']} frames, {run['sink_dropped']} dropped, {run['frames_over_period']} over a period")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"soak: {run['minutes']:g} min live 640x480 30 fps, ecottacorrupt ! ecotta ! ecottaoverlay ! ecottametalog")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("accuracy", "soak"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    (accuracy if sys.argv[1] == "accuracy" else soak)(sys.argv[2], sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
