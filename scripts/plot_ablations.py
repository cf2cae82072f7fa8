#!/usr/bin/env python3
"""Tabulates and draws the ablations of docs/ablations.md.

  plot_ablations.py DIR OUT.png

DIR holds the `ecotta bench` results of `scripts/benchmarks ablations`
(lambda-*.json, batch-B-NORM.json, order-*.json, k-*.json, warmup-*.json and
the warm-ups' logs warmup-*.txt). Prints one Markdown table per ablation
(error %, peak adaptation MiB, step ms) and draws one panel per ablation.
A missing family is skipped; a file that is not a bench result is an error.
Needs python3-matplotlib (Debian's /usr/bin/python3)."""
import glob
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIB = 1048576.0


def load(path):
    with open(path) as f:
        bench = json.load(f)
    if "methods" not in bench or "config" not in bench:
        sys.exit(f"{path}: not an `ecotta bench` result (no 'methods' or 'config')")
    return bench


def row(m):
    return f"{m['mean_error']:.2f} | {m['peak_adapt_bytes'] / MIB:.1f} | {m['step_ms']:.0f}"


def clean_accuracy(log_path):
    """The warm-up's clean test accuracy with the new meta networks, from its log."""
    if not os.path.exists(log_path):
        return None
    with open(log_path) as f:
        found = re.search(r"with warmed-up meta networks ([0-9.]+)", f.read())
    return float(found.group(1)) if found else None


def lambdas(d, ax):
    files = sorted(glob.glob(f"{d}/lambda-*.json"), key=lambda p: float(p.split("lambda-")[1][:-5]))
    if not files:
        return
    print("### Regularizer weight\n\n| lambda | error % | peak MiB | step ms | resets |\n|---:|---:|---:|---:|---:|")
    xs, ys = [], []
    for p in files:
        b = load(p)
        m = b["methods"]["ecotta"]
        lam = b["config"]["ecotta_lambda"]
        print(f"| {lam:g} | {row(m)} | {m.get('resets', 0)} |")
        xs.append(lam)
        ys.append(m["mean_error"])
    print()
    ax.plot(xs, ys, "o-")
    ax.set_xlabel("regularizer weight lambda")
    ax.set_ylabel("error (%)")
    ax.set_title("EcoTTA: regularizer weight")


def batches(d, ax):
    found = {}
    for p in glob.glob(f"{d}/batch-*.json"):
        batch, norm = re.match(r".*batch-(\d+)-(\w+)\.json$", p).groups()
        found[(int(batch), norm)] = load(p)
    if not found:
        return
    methods = list(next(iter(found.values()))["methods"].keys())
    print("### Batch size, batch and robust statistics\n")
    print("| batch | statistics | " + " | ".join(f"{m} error % | {m} peak MiB | {m} step ms" for m in methods) + " |")
    print("|---:|---|" + "---:|---:|---:|" * len(methods))
    for (batch, norm) in sorted(found):
        ms = found[(batch, norm)]["methods"]
        print(f"| {batch} | {norm} | " + " | ".join(row(ms[m]) for m in methods) + " |")
    print()
    for norm, style in (("batch", "--"), ("robust", "-")):
        for m in methods:
            pts = sorted((b, f["methods"][m]["mean_error"]) for (b, n), f in found.items() if n == norm)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", label=f"{m}, {norm}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("error (%)")
    ax.set_title("Batch size: batch (dashed) and robust statistics")
    ax.legend(fontsize=7)


def orders(d):
    found = {re.match(r".*order-(\w+)\.json$", p).group(1): load(p) for p in glob.glob(f"{d}/order-*.json")}
    if not found:
        return
    names = list(found)
    methods = list(found[names[0]]["methods"].keys())
    print("### Non-i.i.d. orders, every method\n")
    print("| method | " + " | ".join(f"{o} error % | peak MiB | step ms" for o in names) + " |")
    print("|---|" + "---:|---:|---:|" * len(names))
    for m in methods:
        print(f"| {m} | " + " | ".join(row(found[o]["methods"][m]) if m in found[o]["methods"] else "- | - | -"
                                        for o in names) + " |")
    print()


def parts(d, ax):
    files = glob.glob(f"{d}/k-*.json")
    if not files:
        return
    rows = []
    for p in files:
        split = re.match(r".*k-([\d-]+)\.json$", p).group(1).split("-")
        m = load(p)["methods"]["ecotta"]
        rows.append((len(split), ",".join(split), m, clean_accuracy(p[:-5] + ".txt")))
    rows.sort(key=lambda r: r[0])
    print("### Number of parts K\n\n| K | blocks per part | meta parameters | clean accuracy | error % | peak MiB | step ms |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for k, split, m, acc in rows:
        print(f"| {k} | {split} | {m['trainable_params']} | {acc if acc is not None else '-'} | {row(m)} |")
    print()
    ax.plot([r[0] for r in rows], [r[2]["mean_error"] for r in rows], "o-", label="error %")
    ax2 = ax.twinx()
    ax2.plot([r[0] for r in rows], [r[2]["peak_adapt_bytes"] / MIB for r in rows], "s--", color="tab:red")
    ax2.set_ylabel("peak adaptation MiB (dashed)")
    ax.set_xlabel("parts K")
    ax.set_ylabel("error (%)")
    ax.set_title("EcoTTA: number of parts")


def warmups(d, ax):
    files = glob.glob(f"{d}/warmup-*.json")
    if not files:
        return
    rows = []
    for p in files:
        share, epochs = re.match(r".*warmup-([\d.]+)-e(\d+)\.json$", p).groups()
        rows.append((float(share), int(epochs), load(p)["methods"]["ecotta"], clean_accuracy(p[:-5] + ".txt")))
    rows.sort(key=lambda r: (r[0], r[1]))
    print("### Warm-up data share and epochs\n\n| share of train split | epochs | clean accuracy | error % | peak MiB | step ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for share, epochs, m, acc in rows:
        print(f"| {100 * share:g} % | {epochs} | {acc if acc is not None else '-'} | {row(m)} |")
    print()
    for share in sorted({r[0] for r in rows}):
        pts = [(r[1], r[2]["mean_error"]) for r in rows if r[0] == share]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"{100 * share:g} % of train")
    ax.set_xlabel("warm-up epochs")
    ax.set_ylabel("error (%)")
    ax.set_title("EcoTTA: warm-up data and epochs")
    ax.legend(fontsize=7)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    d = sys.argv[1]
    if not os.path.isdir(d):
        sys.exit(f"{d}: no such folder")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for draw, ax in ((lambdas, axes[0][0]), (batches, axes[0][1]), (parts, axes[1][0]), (warmups, axes[1][1])):
        draw(d, ax)
        ax.grid(alpha=0.3)
        if not ax.lines:  # that ablation has not been run: no empty panel
            ax.set_visible(False)
    orders(d)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
