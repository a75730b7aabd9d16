#!/usr/bin/env bash
# AvatarKit build entry point. Safe to run repeatedly; installs what it needs.
#   ./build.sh test    restore, build, run every test project, print the summary line
#   ./build.sh demo    run the CLI's scripted demo (no API keys needed: the sandbox is used)
#   ./build.sh pack    produce the NuGet packages in artifacts/packages
#   ./build.sh bench   run the BenchmarkDotNet suite
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
ARTIFACTS="$ROOT/artifacts"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages the tests and the demo use: FFmpeg (recording, capture), PulseAudio with a
# virtual microphone, espeak-ng and sox (real speech for tests), PortAudio, Node.js (fetches the
# LiveKit native library from npm and runs the fake LiveKit server).
APT_PACKAGES=(ffmpeg fonts-dejavu-core pulseaudio pulseaudio-utils libasound2-plugins espeak-ng sox libportaudio2 nodejs npm)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

ensure_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm may come with a Node.js that was not installed through apt.
  if command -v npm >/dev/null 2>&1; then
    local filtered=()
    for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing packages (${missing[*]}) and no apt-get: install them with your package manager"
    return 0
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A headless PulseAudio with a virtual microphone 'vmic' that tests feed with WAV files.
start_virtual_microphone() {
  command -v pulseaudio >/dev/null 2>&1 || return 0
  pulseaudio --check 2>/dev/null || pulseaudio -D --exit-idle-time=-1 --system=false 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do pactl info >/dev/null 2>&1 && break; sleep 0.2; done
  pactl list short sinks 2>/dev/null | grep -q vmic_sink || pactl load-module module-null-sink sink_name=vmic_sink rate=16000 channels=1 >/dev/null
  pactl list short sources 2>/dev/null | grep -qw vmic || pactl load-module module-remap-source master=vmic_sink.monitor source_name=vmic >/dev/null
  pactl set-default-source vmic >/dev/null 2>&1 || true
}

# Providers' official SDKs, installed into a cache outside the repository, so tests can run
# them against our emulators. Best effort: without npm the SDK checks skip with a reason.
# All are installed in one npm call: a later `npm install --no-save` would prune the others.
install_provider_sdks() {
  command -v npm >/dev/null 2>&1 || return 0
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/avatarkit/provider-sdks"
  # @heygen/streaming-avatar: 2.1.1 ships no code (README and package.json only), so 2.1.0. The HeyGen
  # SDKs are browser SDKs over livekit-client: @roamhq/wrtc and ws give Node.js the WebRTC and WebSocket globals.
  local sdks=(@google/genai@3.1.0 @deepgram/sdk@5.13.0 @heygen/liveavatar-web-sdk@0.0.18 @heygen/streaming-avatar@2.1.0
    @roamhq/wrtc@0.10.0 ws@8.18.3) missing=0 sdk
  mkdir -p "$dir"
  for sdk in "${sdks[@]}"; do
    grep -qs "\"version\": *\"${sdk##*@}\"" "$dir/node_modules/${sdk%@*}/package.json" || missing=1
  done
  if [ $missing -eq 1 ]; then
    log "installing provider SDKs for emulator checks"
    (cd "$dir" && npm install --silent --no-save "${sdks[@]}" >/dev/null 2>&1) || log "provider SDKs unavailable; their checks will skip"
  fi
  [ -f "$dir/node_modules/@google/genai/package.json" ] && export GOOGLE_GENAI_SDK_DIR="$dir"
  [ -f "$dir/node_modules/@deepgram/sdk/package.json" ] && export DEEPGRAM_SDK_DIR="$dir"
  [ -f "$dir/node_modules/@heygen/liveavatar-web-sdk/package.json" ] && export LIVEAVATAR_SDK_DIR="$dir"
  [ -f "$dir/node_modules/@heygen/streaming-avatar/package.json" ] && export HEYGEN_STREAMING_SDK_DIR="$dir"
  return 0
}

# Runs one test project into its own results folder. (Projects that start in the same instant would
# otherwise write TRX files of the same name into a shared folder, and one would overwrite the other.)
# Exit code 8 means a project has no tests yet; --timeout stops a hung test process so CI always
# finishes and reports.
run_test_project() {
  local project=$1 results=$2; shift 2
  local name; name=$(basename "$project" .csproj)
  dotnet test --project "$project" -c Release --no-build \
    --results-directory "$results/$name" --report-xunit-trx --report-xunit-trx-filename "$name.trx" \
    --ignore-exit-code 8 --timeout 12m "$@"
}
export -f run_test_project

# Sums the TRX files of one run into: Tests: N passed, N failed, N skipped
# A project that left no TRX (its test host crashed) counts as one failed test.
summarize_tests() {
  local dir=$1 passed=0 failed=0 skipped=0; shift
  for name in "$@"; do
    local trx="$dir/$name/$name.trx"
    if [ ! -f "$trx" ]; then
      log "$name left no test results: counted as a failure"
      failed=$((failed + 1)); continue
    fi
    local counters p f e n
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
    n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${n:-0}))
  done
  echo "Tests: $passed passed, $failed failed, $skipped skipped"
}

cmd_test() {
  ensure_apt_packages
  start_virtual_microphone
  install_provider_sdks
  log "building"
  dotnet build AvatarKit.sln -c Release -warnaserror -nologo -v q
  local results="$ARTIFACTS/test-results"
  rm -rf "$results"; mkdir -p "$results"
  log "testing"
  local status=0 projects names=()
  mapfile -t projects < <(find tests -name '*.Tests.csproj' | sort)
  for p in "${projects[@]}"; do names+=("$(basename "$p" .csproj)"); done
  # Two projects at a time, one per core.
  printf '%s\n' "${projects[@]}" | xargs -P 2 -I{} bash -c 'run_test_project "$@"' _ {} "$results" "$@" || status=$?
  summarize_tests "$results" "${names[@]}" | tee "$results/summary.txt"
  return $status
}

cmd_demo() {
  ensure_apt_packages
  dotnet run --project samples/AvatarKit.Cli -c Release -- demo "$@"
}

cmd_pack() {
  rm -rf "$ARTIFACTS/packages"
  dotnet pack AvatarKit.sln -c Release -nologo -o "$ARTIFACTS/packages"
  ls -1 "$ARTIFACTS/packages"
}

cmd_bench() {
  dotnet run --project benchmarks/AvatarKit.Benchmarks -c Release -- --filter "${1:-*}" --exporters github json
}

case "${1:-test}" in
  test) shift || true; cmd_test "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  pack) cmd_pack ;;
  bench) shift; cmd_bench "$@" ;;
  *) echo "usage: $0 {test|demo|pack|bench}" >&2; exit 2 ;;
esac
