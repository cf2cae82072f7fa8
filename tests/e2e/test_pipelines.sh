#!/usr/bin/env bash
# Every recipe in pipelines/ runs as written; a screen becomes fakesink, a
# camera a real RTSP server on loopback (gst-rtsp-server), the broker a real
# mosquitto on a free loopback port.
set -euo pipefail
source_root=$1
rtsp_server=$2
ecotta=$3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$source_root/pipelines"
export SINK=fakesink
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$ecotta" stream --duration 3 --schedule clean:1,fog@3:2 --out "$tmp/fog.avi" --truth "$tmp/fog.jsonl" 2>/dev/null
"$ecotta" stream --task segment --duration 3 --out "$tmp/scenes.avi" --truth "$tmp/scenes.jsonl" 2>/dev/null

./classify-file.sh "$tmp/fog.avi" "$tmp/classified.mkv" > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail classify-file.sh; }
[[ -s $tmp/classified.mkv ]] || fail "classify-file.sh wrote no video"
./segment-overlay.sh "$tmp/scenes.avi" > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail segment-overlay.sh; }
./side-by-side.sh "$tmp/fog.avi" > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail side-by-side.sh; }
SOURCE="videotestsrc num-buffers=60" ./weather.sh > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail weather.sh; }
# Two cameras in one adaptation group: a log and a checkpoint each, named
# by camera, both logs of the group.
LOG_DIR=$tmp/logs STATE_DIR=$tmp/state ./multi-camera.sh "$tmp/fog.avi" "$tmp/fog.avi" > "$tmp/log" 2>&1 ||
  { cat "$tmp/log"; fail multi-camera.sh; }
for cam in cam0 cam1; do
  [[ $(wc -l < "$tmp/logs/$cam.jsonl") -eq $(wc -l < "$tmp/fog.jsonl") ]] || fail "multi-camera.sh: $cam logged a line a frame"
  grep -q "\"camera\":\"$cam\"" "$tmp/logs/$cam.jsonl" || fail "multi-camera.sh: $cam's log does not name it"
  grep -q '"adaptation_group":"cameras"' "$tmp/logs/$cam.jsonl" || fail "multi-camera.sh: $cam is not in the group"
  [[ -s $tmp/state/$cam.ckpt ]] || fail "multi-camera.sh: no checkpoint for $cam"
done
echo "file recipes: ok"

# The camera path: RTSP in, MQTT out, every served frame gets a result.
frames=90
mqtt_port=$(free_port)
/usr/sbin/mosquitto -p "$mqtt_port" > "$tmp/mosquitto.log" 2>&1 &
pids+=($!)
rtsp_port=$(free_port)
"$rtsp_server" "$rtsp_port" "$frames" > "$tmp/rtsp.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/rtsp.log" && break; sleep 0.1; done
grep -q ready "$tmp/rtsp.log" || { cat "$tmp/rtsp.log"; fail "the RTSP server did not start"; }
for _ in $(seq 100); do mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t probe -W 1 -C 1 -E >/dev/null 2>&1 && break; sleep 0.1; done

MQTT=127.0.0.1:$mqtt_port COUNT=$frames timeout 120 ./mqtt-subscriber.sh > "$tmp/messages.jsonl" 2>"$tmp/sub.log" &
subscriber=$!
sleep 0.5  # the subscription is in place before the first frame
CAMERA=rtsp://127.0.0.1:$rtsp_port/camera MQTT=127.0.0.1:$mqtt_port CHECKPOINT=$tmp/camera.ckpt \
  ./rtsp-camera-mqtt.sh > "$tmp/camera.log" 2>&1 &
camera=$!
# The camera's stream ends after $frames frames; the pipeline is stopped
# like a user stops it (Ctrl-C: EOS, then the last checkpoint is saved).
for _ in $(seq 600); do
  [[ $(wc -l < "$tmp/messages.jsonl") -ge $frames ]] && break
  kill -0 "$camera" 2>/dev/null || break
  sleep 0.1
done
# The last message arrives as the stream's own EOS does: give that a moment
# to end the pipeline first, so that a Ctrl-C landing after gst-launch has
# stopped handling it (past "Freeing pipeline") cannot kill it.
for _ in $(seq 30); do
  kill -0 "$camera" 2>/dev/null || break
  sleep 0.1
done
pkill -INT -P "$camera" gst-launch-1.0 2>/dev/null || true
wait "$camera" || { cat "$tmp/camera.log"; fail "rtsp-camera-mqtt.sh failed"; }
wait "$subscriber" || { cat "$tmp/sub.log" "$tmp/camera.log"; fail "the subscriber did not get $frames messages"; }
/usr/bin/python3 - "$tmp/messages.jsonl" "$frames" <<'PY' || fail "messages"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
frames = sorted(l["frame"] for l in lines)
assert frames == list(range(n)), f"frames {frames[:5]}... ({len(frames)}), expected 0..{n - 1}"
assert all(l["label"] and 0 <= l["confidence"] <= 1 for l in lines)
print(f"camera path: every one of the {n} served frames got a result over MQTT")
PY
[[ -s $tmp/camera.ckpt ]] || { cat "$tmp/camera.log"; fail "no checkpoint at $tmp/camera.ckpt"; }
echo "pipelines: all recipes ran"
