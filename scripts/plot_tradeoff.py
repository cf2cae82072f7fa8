#!/usr/bin/python3
"""Plots EcoTTA's memory against its step time for each plan of kept block inputs.

  python3 scripts/plot_tradeoff.py OUT.png BENCH.json...

Each BENCH.json is an `ecotta bench --methods tent,ecotta` run (scripts/benchmarks
tradeoff); the step time is taken relative to Tent's in the same run, and each
point is labelled with the run's --ecotta-keep-every plan (per part: keep one
block input in every N; 1 all, 0 none). Prints a Markdown table. Needs only Debian's python3-matplotlib.
"""
import json
import sys

MIB = 1 << 20


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    rows = []
    for path in sys.argv[2:]:
        with open(path) as f:
            bench = json.load(f)
        try:
            tent, eco = bench["methods"]["tent"], bench["methods"]["ecotta"]
            keep = ",".join(str(n) for n in bench["config"]["ecotta_keep_every"])
            rows.append((keep, eco["peak_adapt_bytes"] / MIB, eco["step_ms"] / tent["step_ms"],
                         eco["peak_adapt_bytes"] / tent["peak_adapt_bytes"]))
        except (KeyError, TypeError, ZeroDivisionError) as e:
            print(f"{path}: not a tent+ecotta bench run ({e})", file=sys.stderr)
            return 2
    rows.sort(key=lambda r: r[1])
    print("| kept block inputs (one in N per part) | EcoTTA peak MiB | step / Tent's | memory / Tent's |")
    print("|---:|---:|---:|---:|")
    for keep, mib, step, mem in rows:
        print(f"| {keep} | {mib:.1f} | {step:.2f} | {mem:.2f} |")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot([r[2] for r in rows], [r[1] for r in rows], "o", color="C5")
    for keep, mib, step, _ in rows:
        ax.annotate(keep, (step, mib), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xlabel("EcoTTA step time / Tent's (same run)")
    ax.set_ylabel("EcoTTA peak adaptation memory (MiB)")
    ax.set_title("Kept block inputs (one in N per part): memory against time")
    ax.grid(alpha=0.3)
    fig.savefig(sys.argv[1], dpi=120, bbox_inches="tight")
    print(sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
