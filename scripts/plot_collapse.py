#!/usr/bin/env python3
"""Draws the long-stream collapse test: error per round for each method.

  plot_collapse.py COLLAPSE.json OUT.png

COLLAPSE.json is an `ecotta bench` result with many rounds (scripts/benchmarks
collapse). Prints a Markdown table of the mean error per block of 10 rounds.
Needs python3-matplotlib (Debian's /usr/bin/python3)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        bench = json.load(f)
    methods = bench["methods"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    blocks = {}
    for name, m in methods.items():
        errors = [r["mean_error"] for r in m["rounds"]]
        ax.plot(range(1, len(errors) + 1), errors, label=f"{name} (mean {m['mean_error']:.2f}%, resets {m.get('resets', 0)})",
                linewidth=1)
        blocks[name] = [sum(errors[i:i + 10]) / len(errors[i:i + 10]) for i in range(0, len(errors), 10)]
    config = bench.get("config", {})
    ax.set_xlabel(f"round ({len(config.get('domains', []))} corruptions, {config.get('per_domain', '?')} images each)")
    ax.set_ylabel("error (%)")
    ax.set_title("Long continual stream: error per round")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    n = max(len(b) for b in blocks.values())
    print("| rounds | " + " | ".join(f"{10 * i + 1}-{10 * i + 10}" for i in range(n)) + " |")
    print("|---|" + "---:|" * n)
    for name, b in blocks.items():
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in b) + " |")


if __name__ == "__main__":
    main()
