#!/usr/bin/python3
"""Plots docs/bench/cameras.json (ecotta-cameras-bench compare).

usage: plot_cameras.py CAMERAS.json OUT.png

Four panels over the camera count: process memory (one process sharing an
adaptation group, separate processes, the identity pipeline); the RSS each
camera beyond the first adds, against the issue's limit; frames late in the
element or dropped; every camera's adapted minus frozen accuracy on its
shifted frames.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure(run, kind, key):
    part = run.get(kind)
    return None if part is None else part.get(key)


def series(runs, kind, key):
    xs, ys = [], []
    for r in runs:
        v = figure(r, kind, key)
        if v is not None:
            xs.append(r["cameras"])
            ys.append(v)
    return xs, ys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    d = json.load(open(sys.argv[1]))
    runs = d["runs"]
    counts = [r["cameras"] for r in runs]
    fig, ax = plt.subplots(2, 2, figsize=(13, 9))
    fig.suptitle(f"{len(d['cameras'])} cameras' videos, {d['fps']:g} fps, {d['video_seconds']:g} s, "
                 f"{d['nproc']} CPUs, {d['date']}", fontsize=10)

    # Memory: steady (median of the second half) with the peak as a thin line above.
    a = ax[0][0]
    lines = [("shared", "rss", "one process, RSS", "C0", "-"),
             ("shared", "pss", "one process, PSS", "C0", ":"),
             ("separate", "rss", "separate processes, RSS summed", "C3", "-"),
             ("separate", "pss", "separate processes, PSS summed", "C3", ":"),
             ("identity", "rss", "pipeline with identity, RSS", "C7", "-")]
    for kind, what, label, colour, style in lines:
        xs, ys = series(runs, kind, f"{what}_mib_median_second_half")
        if xs:
            a.plot(xs, ys, style, marker="o", color=colour, label=label)
        xs, ys = series(runs, kind, f"{what}_mib_peak")
        if xs and what == "rss":
            a.plot(xs, ys, style, color=colour, alpha=0.35, linewidth=1)
    a.set_xscale("log", base=2)
    a.set_yscale("log")
    a.set_xticks(counts, [str(c) for c in counts])
    a.set_xlabel("cameras")
    a.set_ylabel("MiB (median of the second half; faint: peak)")
    a.set_title("Process memory")
    a.legend(fontsize=8)
    a.grid(alpha=0.3, which="both")

    # RSS added per camera beyond the first.
    a = ax[0][1]
    added = d["rss_added_per_camera_mib"]["steady"]
    bars = [("element_rss", "ecotta elements (one process minus identity)", "C0"),
            ("shared_rss", "one process", "C9"),
            ("separate_pss", "separate processes, PSS", "C1"),
            ("separate_rss", "separate processes, RSS", "C3")]
    xs = [c for c in counts if str(c) in added["element_rss"]["per_count"]
          or str(c) in added["separate_rss"]["per_count"]]
    width = 0.8 / len(bars)
    for k, (key, label, colour) in enumerate(bars):
        per = added[key]["per_count"]
        vals = [per.get(str(c)) for c in xs]
        pos = [i + (k - (len(bars) - 1) / 2) * width for i in range(len(xs))]
        kept = [(p, v) for p, v in zip(pos, vals) if v is not None]
        if kept:
            a.bar([p for p, _ in kept], [max(v, 1e-3) for _, v in kept], width, color=colour, label=label)
            for p, v in kept:
                a.annotate(f"{v:.1f}", (p, max(v, 1e-3)), ha="center", va="bottom", fontsize=6)
    limit = d["checks"]["memory_per_camera"].get("limit_mib")
    if limit is not None:
        a.axhline(limit, color="k", linestyle="--", linewidth=1, label=f"limit {limit:.2f} MiB (3 + sample buffer)")
    a.set_yscale("log")
    a.set_xticks(range(len(xs)), [str(c) for c in xs])
    a.set_xlabel("cameras")
    a.set_ylabel("MiB per camera beyond the first (steady)")
    a.set_title("What each added camera costs")
    a.legend(fontsize=8)
    a.grid(alpha=0.3, axis="y", which="both")

    # Frames late in the element, dropped at the sink or before the element.
    a = ax[1][0]
    kinds = [("shared", "one process", "C0"), ("separate", "separate processes", "C3")]
    causes = [("late_while_playing", ""), ("sink_dropped", "//"), ("dropped_before_element", "..")]
    width = 0.8 / (len(kinds) * len(causes))
    k = 0
    top = 0
    for kind, label, colour in kinds:
        for cause, hatch in causes:
            xs_pos, vals = [], []
            for i, r in enumerate(runs):
                if r.get(kind) is None:
                    continue
                xs_pos.append(i + (k - (len(kinds) * len(causes) - 1) / 2) * width)
                vals.append(sum(c.get(cause) or 0 for c in r[kind]["cameras"]))
            if xs_pos:
                a.bar(xs_pos, vals, width, color=colour, hatch=hatch, alpha=0.8,
                      label=f"{label}: {cause.replace('_', ' ')}")
                for p, v in zip(xs_pos, vals):
                    a.annotate(str(v), (p, v), ha="center", va="bottom", fontsize=6)
                top = max([top] + vals)
            k += 1
    a.set_xticks(range(len(runs)), [str(c) for c in counts])
    a.set_ylim(0, max(1, top) * 1.2)
    a.set_xlabel("cameras")
    a.set_ylabel("frames, all cameras together")
    a.set_title("Frames late in the element (> 1 period, after preroll) or dropped")
    a.legend(fontsize=7)
    a.grid(alpha=0.3, axis="y")

    # Accuracy on shifted frames: adapted minus frozen, one dot per camera.
    a = ax[1][1]
    for kind, label, colour, offset in [("shared", "one process", "C0", -0.12), ("separate", "separate processes", "C3", 0.12)]:
        xs, ys = [], []
        for i, r in enumerate(runs):
            for row in r["per_camera"]:
                adapted, frozen = row.get(kind), row["frozen"]
                if adapted and adapted.get("shifted") is not None and frozen.get("shifted") is not None:
                    xs.append(i + offset)
                    ys.append(100 * (adapted["shifted"] - frozen["shifted"]))
        if xs:
            a.scatter(xs, ys, s=14, color=colour, label=label, alpha=0.8)
    a.axhline(0, color="k", linewidth=1)
    a.set_xticks(range(len(runs)), [str(c) for c in counts])
    a.set_xlabel("cameras")
    a.set_ylabel("accuracy points on shifted frames, adapted - frozen")
    a.set_title("Each camera: adapted against frozen")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)

    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
