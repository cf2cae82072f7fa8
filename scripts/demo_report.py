#!/usr/bin/python3
"""Figures for scripts/demo: scores ecottametalog's per-frame results against
an `ecotta stream` truth file.

  demo_report.py subtitles --truth T --out conditions.srt
  demo_report.py report --task classify|segment --frozen F --adapted A --memory-cap BYTES --out DIR
                        [--truth T --item-seconds S]

`report` writes DIR/summary.json (and DIR/accuracy.png with a truth file)
and prints a short summary. Intervals are 95 % percentile bootstraps over
items (classification) or one-second windows (segmentation), resampled
with replacement.
"""
import argparse
import base64
import json
import os
import random
import sys

import numpy as np


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def condition_name(t):
    return "clean" if t["condition"] == "clean" else f'{t["condition"]}@{t["severity"]}'


def subtitles(args):
    truth = read_lines(args.truth)
    spans = []  # (start s, end s, text)
    for t in truth:
        text = "clean" if t["condition"] == "clean" else f'{t["condition"]}, severity {t["severity"]}'
        if spans and spans[-1][2] == text:
            spans[-1][1] = t["pts"]
        else:
            spans.append([t["pts"], t["pts"], text])
    period = truth[1]["pts"] - truth[0]["pts"] if len(truth) > 1 else 1 / 30

    def stamp(s):
        ms = int(round(s * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    with open(args.out, "w") as f:
        for i, (a, b, text) in enumerate(spans, 1):
            f.write(f"{i}\n{stamp(a)} --> {stamp(b + period)}\n{text}\n\n")


def bootstrap_interval(units, figure, resamples=400, seed=0):
    """95 % percentile-bootstrap interval of figure(list of units), units
    (items, or one-second windows) drawn with replacement."""
    if len(units) < 2:
        v = figure(units)
        return [v, v]
    rng = random.Random(seed)
    values = sorted(figure([rng.choice(units) for _ in units]) for _ in range(resamples))
    return [values[int(0.025 * (resamples - 1))], values[int(0.975 * (resamples - 1))]]


def pooled_accuracy(units):
    return sum(a for a, _ in units) / max(1, sum(b for _, b in units))


def pooled_miou(units):
    total = Confusion(units[0].classes)
    for c in units:
        total.merge(c)
    return total.miou()


class Confusion:
    def __init__(self, classes, m=None):
        self.classes = classes
        self.m = m if m is not None else np.zeros((classes, classes), dtype=np.int64)

    def merge(self, other):
        self.m += other.m

    def miou(self):
        tp = np.diag(self.m).astype(float)
        union = self.m.sum(0) + self.m.sum(1) - tp
        present = union > 0
        return float((tp[present] / union[present]).mean()) if present.any() else 0.0


_confusions = {}
_truth_cells = {}


def truth_cells(png, view, w, h):
    """The truth label under the centre of each class-map cell, and which
    cells fall inside the frame (read once per label map)."""
    key = (png, tuple(view), w, h)
    if key not in _truth_cells:
        import matplotlib.image as mpimg  # PNG reading without OpenCV
        labels = np.rint(mpimg.imread(png) * 255).astype(np.int64)  # 8-bit PNG read as 0..1
        rows, cols = labels.shape[:2]
        vx, vy, vw, vh = view
        fy = (vy + (np.arange(h) + 0.5) * vh / h).astype(np.int64)
        fx = (vx + (np.arange(w) + 0.5) * vw / w).astype(np.int64)
        inside = ((fy >= 0) & (fy < rows))[:, None] & ((fx >= 0) & (fx < cols))[None, :]
        _truth_cells[key] = (labels[np.clip(fy, 0, rows - 1)][:, np.clip(fx, 0, cols - 1)], inside)
    return _truth_cells[key]


def segment_confusion(result, truth):
    """One frame's confusion: truth labels sampled at the centre of each
    class-map cell inside the model's view (as ecotta-stream-bench does).
    Cached: the scores and the curve read each frame more than once."""
    key = (id(result), truth["labels_png"])
    if key in _confusions:
        return _confusions[key]
    cm = result.get("class_map")
    if not cm:
        sys.exit("demo_report.py: the segmentation log has no class_map (ecottametalog class-map=true)")
    w, h = cm["width"], cm["height"]
    predicted = np.frombuffer(base64.b64decode(cm["data"]), dtype=np.uint8).reshape(h, w).astype(np.int64)
    t, inside = truth_cells(truth["labels_png"], cm["view"], w, h)
    classes = len(result["class_share"])
    keep = inside & (t < classes) & (predicted < classes)
    m = np.bincount(t[keep] * classes + predicted[keep], minlength=classes * classes).reshape(classes, classes)
    conf = Confusion(classes, m)
    _confusions[key] = conf
    return conf


def score(task, results, truth, item_seconds):
    """Per part (clean, shifted) and per condition: the figure and its interval."""
    n = min(len(results), len(truth))
    parts = {"clean": {}, "shifted": {}}  # part -> item key -> [right, total] or Confusion
    per_condition = {}
    for r, t in zip(results[:n], truth[:n]):
        part = "clean" if t["condition"] == "clean" else "shifted"
        if task == "classify":
            key = int(t["pts"] / item_seconds + 1e-9)
            right = int(r.get("class_id", -1) == t["label"])
            parts[part].setdefault(key, [0, 0])
            parts[part][key][0] += right
            parts[part][key][1] += 1
            c = per_condition.setdefault(condition_name(t), [0, 0])
            c[0] += right
            c[1] += 1
        else:
            key = int(t["pts"])  # one-second windows
            conf = segment_confusion(r, t)
            parts[part].setdefault(key, Confusion(conf.classes)).merge(conf)
            per_condition.setdefault(condition_name(t), Confusion(conf.classes)).merge(conf)
    out = {}
    for part, items in parts.items():
        if not items:
            out[part] = {"value": None, "interval": None, "items": 0}
            continue
        figure = pooled_accuracy if task == "classify" else pooled_miou
        units = list(items.values())
        value = figure(units)
        interval = bootstrap_interval(units, figure)
        out[part] = {"value": value, "interval": interval, "items": len(items)}
    conditions = {k: (v[0] / v[1] if task == "classify" else v.miou()) for k, v in per_condition.items()}
    return out, conditions


def online_curve(task, results, truth, window):
    """Figure over a sliding window of `window` frames, one point per frame."""
    xs, ys = [], []
    if task == "classify":
        right = [int(r.get("class_id", -1) == t["label"]) for r, t in zip(results, truth)]
        acc = 0
        for i, v in enumerate(right):
            acc += v
            if i >= window:
                acc -= right[i - window]
            xs.append(truth[i]["pts"])
            ys.append(acc / min(i + 1, window))
    else:  # mIoU of each one-second window (class maps are costly to re-score per frame)
        step = max(1, window // 2)
        for i in range(0, len(truth), step):
            conf = None
            for r, t in zip(results[i:i + window], truth[i:i + window]):
                c = segment_confusion(r, t)
                if conf is None:
                    conf = Confusion(c.classes)
                conf.merge(c)
            xs.append(truth[min(i + window // 2, len(truth) - 1)]["pts"])
            ys.append(conf.miou() if conf else 0)
    return xs, ys


def plot(task, truth, curves, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(11, 4.2))
    # Conditions shaded, labelled once per stretch.
    colours = {"clean": "#ffffff", "fog": "#cfd8dc", "night": "#b0bec5", "snow": "#e3f2fd", "frost": "#e1f5fe"}
    start = 0
    for i in range(1, len(truth) + 1):
        if i == len(truth) or condition_name(truth[i]) != condition_name(truth[start]):
            t = truth[start]
            a, b = t["pts"], truth[i - 1]["pts"]
            ax.axvspan(a, b, color=colours.get(t["condition"], "#eeeeee"), alpha=0.9, lw=0)
            ax.text((a + b) / 2, 1.02, condition_name(t), ha="center", va="bottom", fontsize=7, rotation=90,
                    transform=ax.get_xaxis_transform())
            start = i
    for name, (xs, ys), style in zip(curves.keys(), curves.values(), ("-", "-")):
        ax.plot(xs, ys, style, lw=1.4, label=name, color="#c62828" if name == "frozen" else "#1565c0")
    ax.set_xlabel("seconds")
    ax.set_ylabel("accuracy, last 2 s" if task == "classify" else "mIoU, 1-s windows")
    ax.set_ylim(0, 1)
    ax.set_xlim(truth[0]["pts"], truth[-1]["pts"])
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(args):
    frozen = read_lines(args.frozen)
    adapted = read_lines(args.adapted)
    last = adapted[-1] if adapted else {}
    summary = {
        "task": args.task,
        "duration_s": None,
        "frames": min(len(frozen), len(adapted)),
        "frozen": {"clean": None, "shifted": None},
        "adapted": {"clean": None, "shifted": None},
        "adapt_steps": last.get("adapt_steps", 0),
        "peak_adapt_bytes": max((r.get("peak_adapt_bytes", 0) or 0) for r in adapted) if adapted else 0,
        "memory_cap": args.memory_cap,
    }
    if args.truth:
        truth = read_lines(args.truth)
        if len(truth) > 1:
            summary["duration_s"] = round(len(truth) * (truth[1]["pts"] - truth[0]["pts"]), 3)
        metric = "accuracy" if args.task == "classify" else "miou"
        summary["metric"] = metric
        summary["intervals_95"] = {}
        summary["per_condition"] = {}
        for name, results in (("frozen", frozen), ("adapted", adapted)):
            parts, conditions = score(args.task, results, truth, args.item_seconds)
            summary[name] = {p: parts[p]["value"] for p in ("clean", "shifted")}
            summary["intervals_95"][name] = {p: parts[p]["interval"] for p in ("clean", "shifted")}
            summary["per_condition"][name] = conditions
            summary["items"] = {p: parts[p]["items"] for p in ("clean", "shifted")}
        fps_window = 60 if args.task == "classify" else 30
        curves = {name: online_curve(args.task, results, truth, fps_window)
                  for name, results in (("frozen", frozen), ("adapted", adapted))}
        plot(args.task, truth, curves, os.path.join(args.out, "accuracy.png"))
    elif frozen and frozen[-1].get("pts") is not None:
        summary["duration_s"] = round(frozen[-1]["pts"] / 1e9, 3)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    mib = 1024 * 1024
    print(f'{summary["frames"]} frames; adaptation steps: {summary["adapt_steps"]}; peak adaptation memory '
          f'{summary["peak_adapt_bytes"] / mib:.1f} MiB of a {summary["memory_cap"] / mib:.0f} MiB cap')
    if args.truth:
        def fmt(name, part):
            v = summary[name][part]
            iv = summary["intervals_95"][name][part]
            return "n/a" if v is None else f"{v:.3f} [{iv[0]:.3f}, {iv[1]:.3f}]"
        print(f'{summary["metric"]} (95% interval over {"items" if args.task == "classify" else "seconds"}):')
        print(f'  clean:   frozen {fmt("frozen", "clean")}   adapted {fmt("adapted", "clean")}')
        print(f'  shifted: frozen {fmt("frozen", "shifted")}   adapted {fmt("adapted", "shifted")}')
        for cond in summary["per_condition"]["frozen"]:
            print(f'    {cond:12s} frozen {summary["per_condition"]["frozen"][cond]:.3f}   '
                  f'adapted {summary["per_condition"]["adapted"].get(cond, float("nan")):.3f}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("subtitles")
    s.add_argument("--truth", required=True)
    s.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--task", choices=("classify", "segment"), required=True)
    r.add_argument("--frozen", required=True)
    r.add_argument("--adapted", required=True)
    r.add_argument("--memory-cap", type=int, default=0)
    r.add_argument("--out", required=True)
    r.add_argument("--truth")
    r.add_argument("--item-seconds", type=float, default=2.0)
    args = p.parse_args()
    subtitles(args) if args.command == "subtitles" else report(args)


if __name__ == "__main__":
    main()
