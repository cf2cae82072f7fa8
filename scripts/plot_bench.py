#!/usr/bin/python3
"""Plots the JSON written by `ecotta bench --json OUT` and prints a Markdown table.

  python3 scripts/plot_bench.py BENCH.json OUTDIR [--prefix NAME] [--table-only]

Writes OUTDIR/<prefix>-per-domain.png, -per-round.png and -memory.png (prefix
defaults to the JSON file's stem) and prints their paths after the table.
Needs only Debian's python3-matplotlib (installed by scripts/setup).
"""
import argparse
import importlib.util
import json
import math
import os
import sys

MIB = 1 << 20
# task -> (metric key in the JSON, axis/table label, factor to percent)
METRICS = {"classify": ("mean_error", "error (%)", 1.0),
           "segment": ("mean_miou", "mIoU (%)", 100.0)}
NUMBERS = ("peak_adapt_bytes", "analytic_adapt_bytes", "step_ms", "trainable_params")


class BenchError(Exception):
    """A problem with the input file, reported as one line."""


def need(obj, key, where):
    """obj[key], or a BenchError naming the full path of the missing key."""
    if not isinstance(obj, dict) or key not in obj:
        raise BenchError(f"missing key {where}{key}")
    return obj[key]


def number(value, where):
    # nlohmann::json writes NaN/inf as null: keep it as NaN rather than failing.
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BenchError(f"{where} is not a number: {value!r}")
    return float(value)


def load(path):
    """Reads and checks the bench JSON; returns a flat, plot-ready dict."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BenchError(e.strerror or str(e))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BenchError(f"invalid JSON: {e}")
    task = need(doc, "task", "")
    if task not in METRICS:
        raise BenchError(f"task is {task!r}, expected 'classify' or 'segment'")
    key, label, scale = METRICS[task]
    config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    methods = need(doc, "methods", "")
    if not isinstance(methods, dict) or not methods:
        raise BenchError("methods is empty")
    out = {"task": task, "label": label, "config": config, "methods": {}}
    domains = None
    for name, m in methods.items():  # dicts keep the JSON order
        at = f"methods.{name}."
        rounds = need(m, "rounds", at)
        if not isinstance(rounds, list) or not rounds:
            raise BenchError(f"{at}rounds is empty")
        if domains is None:  # stream order, without repeats
            listed = config.get("domains") or list(need(rounds[0], "per_domain", f"{at}rounds[0].").keys())
            domains = list(dict.fromkeys(listed))
        entry = {"mean": scale * number(need(m, key, at), at + key),
                 "rounds": [], "per_domain": {d: [] for d in domains}}
        for i, r in enumerate(rounds):
            rat = f"{at}rounds[{i}]."
            entry["rounds"].append(scale * number(need(r, key, rat), rat + key))
            per_domain = need(r, "per_domain", rat)
            for d in domains:
                value = need(per_domain, d, rat + "per_domain.")
                entry["per_domain"][d].append(scale * number(value, f"{rat}per_domain.{d}"))
        # Average over rounds; a NaN round makes the domain NaN (drawn as a gap).
        entry["per_domain"] = {d: sum(v) / len(v) for d, v in entry["per_domain"].items()}
        entry.update({k: number(need(m, k, at), at + k) for k in NUMBERS})
        out["methods"][name] = entry
    out["domains"] = domains
    return out


def fmt(value, spec):  # NaN comes from a null in the JSON
    return "n/a" if math.isnan(value) else format(value, spec)


def table(bench):
    head = "mean error (%)" if bench["task"] == "classify" else "mean mIoU (%)"
    lines = [f"| method | {head} | peak MiB | analytic MiB | step ms | trainable params |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, m in bench["methods"].items():
        lines.append(f"| {name} | {fmt(m['mean'], '.2f')} | {fmt(m['peak_adapt_bytes'] / MIB, '.2f')} | "
                     f"{fmt(m['analytic_adapt_bytes'] / MIB, '.2f')} | {fmt(m['step_ms'], '.1f')} | "
                     f"{fmt(m['trainable_params'], ',.0f')} |")
    return "\n".join(lines)


def plot(bench, outdir, prefix):
    import matplotlib
    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    names = list(bench["methods"])
    methods = bench["methods"]
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}  # same colour per method in every plot
    model = bench["config"].get("model")
    suffix = f" — {os.path.basename(str(model))}" if model else ""
    os.makedirs(outdir, exist_ok=True)
    written = []

    def save(fig, name):
        path = os.path.join(outdir, f"{prefix}-{name}.png")
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    # 1. Per domain, averaged over rounds: grouped bars.
    domains = bench["domains"]
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(min(20.0, max(6.0, len(domains) * (0.3 + 0.15 * len(names)) + 1.5)), 4.5))
    for i, n in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(domains))]
        ax.bar(xs, [methods[n]["per_domain"][d] for d in domains], width, label=n, color=colors[n])
    ax.set_xticks(range(len(domains)), domains, rotation=30, ha="right")
    ax.set_ylabel(bench["label"])
    ax.set_title(f"{bench['label']} per domain, mean over rounds{suffix}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: never over the data
    save(fig, "per-domain")

    # 2. Per round: lines with markers, so a single round still shows.
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    rounds = max(len(m["rounds"]) for m in methods.values())
    for n in names:
        ys = methods[n]["rounds"]
        ax.plot(range(1, len(ys) + 1), ys, marker="o", label=n, color=colors[n])
    ax.set_xticks(range(1, rounds + 1))
    ax.set_xlabel("round")
    ax.set_ylabel(bench["label"])
    ax.set_title(f"{bench['label']} per round, mean over domains{suffix}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: never over the data
    save(fig, "per-round")

    # 3. Memory: measured peak next to the analytic estimate, in MiB.
    fig, ax = plt.subplots(figsize=(7, 1 + 0.7 * len(names)))
    ys = range(len(names))
    peak = [methods[n]["peak_adapt_bytes"] / MIB for n in names]
    analytic = [methods[n]["analytic_adapt_bytes"] / MIB for n in names]
    bars = [ax.barh([y - 0.2 for y in ys], peak, 0.4, label="peak (measured)", color="C0"),
            ax.barh([y + 0.2 for y in ys], analytic, 0.4, label="analytic", color="C7")]
    for group in bars:  # zero-byte methods (source, norm) still get a "0.00" label
        ax.bar_label(group, fmt="%.2f", padding=3, fontsize="small")
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()  # JSON order top to bottom
    ax.margins(x=0.15)  # room for the labels
    ax.set_xlabel("adaptation memory (MiB)")
    ax.set_title(f"adaptation memory{suffix}")
    ax.legend(fontsize="small")
    save(fig, "memory")
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", metavar="BENCH.json", help="file written by `ecotta bench --json`")
    parser.add_argument("outdir", metavar="OUTDIR", nargs="?", help="folder for the PNGs (created if missing)")
    parser.add_argument("--prefix", metavar="NAME", help="file name prefix (default: the JSON file's stem)")
    parser.add_argument("--table-only", action="store_true", help="print the Markdown table, plot nothing")
    args = parser.parse_args()
    if not args.outdir and not args.table_only:
        parser.error("OUTDIR is required unless --table-only is given")

    try:
        bench = load(args.json)
    except BenchError as e:
        print(f"plot_bench: {args.json}: {e}", file=sys.stderr)
        return 2
    # Checked before any output, and only when plotting: --table-only works without it.
    if not args.table_only and importlib.util.find_spec("matplotlib") is None:
        print("plot_bench: python3-matplotlib is not installed (scripts/setup installs it)", file=sys.stderr)
        return 2
    print(table(bench))
    if args.table_only:
        return 0
    prefix = args.prefix or os.path.splitext(os.path.basename(args.json))[0]
    print()
    for path in plot(bench, args.outdir, prefix):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
