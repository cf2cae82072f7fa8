#!/usr/bin/env bash
# The example application, as a user builds it: ecotta installed (meson
# install, here into a scratch folder), the app compiled against the
# installed ecotta-meta.pc with its Makefile, then run on a short video: one
# line per frame, each with a label and the method.
set -euo pipefail
source_root=$1
build_root=$2
ecotta=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build_root" --no-rebuild --destdir "$tmp/root" > "$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp/root" -name ecotta-meta.pc | head -1)
[[ -n $pc ]] || { echo "meson install wrote no ecotta-meta.pc"; exit 1; }
# The install was staged under $tmp/root: point its .pc file's prefix there,
# as a --prefix install would have written it.
prefix=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix ecotta-meta)
mkdir -p "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pc" > "$tmp/pkgconfig/ecotta-meta.pc"
export PKG_CONFIG_PATH=$tmp/pkgconfig
libdir=$(pkg-config --variable=libdir ecotta-meta)
cp "$source_root/pipelines/app/ecotta-app.cpp" "$source_root/pipelines/app/Makefile" "$tmp/"
make -C "$tmp" > "$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; exit 1; }

"$ecotta" stream --duration 2 --schedule clean:1,fog@3:1 --out "$tmp/v.avi" --truth "$tmp/v.jsonl" 2>/dev/null
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GST_PLUGIN_PATH=$libdir/gstreamer-1.0
"$tmp/ecotta-app" "$source_root/models/wrn-40-2-ecotta.ecotta" "$tmp/v.avi" > "$tmp/out.txt" 2> "$tmp/err.txt" ||
  { cat "$tmp/err.txt"; exit 1; }
frames=$(wc -l < "$tmp/v.jsonl")
lines=$(grep -cE '^frame [0-9]+  pts [0-9.]+  .+ [01]\.[0-9]{2}  ecotta steps [0-9]+' "$tmp/out.txt" || true)
[[ $lines -eq $frames ]] || { echo "expected $frames result lines, got $lines:"; head "$tmp/out.txt"; exit 1; }
# A bad model: a message naming the file, status 1, no crash.
if "$tmp/ecotta-app" /nonexistent.ecotta "$tmp/v.avi" > /dev/null 2> "$tmp/err.txt"; then
  echo "a missing model should fail"; exit 1
fi
grep -q nonexistent.ecotta "$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }
echo "app: $lines lines for $frames frames; a missing model is reported"
