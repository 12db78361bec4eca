#!/bin/bash
# recorder.sh: the recorder's own cost (bench/recorder_bench.c) against a
# temporary state directory. Usage: bench/recorder.sh [--bulk-text|--bulk-text-pty]
# [BUILD] (after make). --bulk-text prints only the MB/s one CPU core records of
# an exec's base64 output with the live index on (bench/run's recording cost);
# --bulk-text-pty the same for a pty's output (asciicast).
set -eu
ONLY=
case "${1:-}" in
--bulk-text|--bulk-text-pty) ONLY=${1#--}; shift ;;
esac
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd)
WORK=$(mktemp -d /tmp/otgate-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# a library built with SAN=1 needs the sanitizers' runtimes at link time
SAN=
nm "$BUILD/libotg.a" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE $SAN -I"$TOP" -o "$WORK/recorder_bench" "$TOP/bench/recorder_bench.c" \
	"$BUILD/libotg.a" $(pkg-config --libs libssh libevent liboath libcrypto libsodium sqlite3 libqrencode) \
	-lpam -lcrypt -lpthread
"$BUILD/otgate" recording keygen --state "$WORK/state" >/dev/null
if [ -n "$ONLY" ]; then "$WORK/recorder_bench" "$WORK/state" "$ONLY"; exit; fi
dd if=/dev/zero bs=1M count=256 status=none | cat >/dev/null
start=$(date +%s%N)
dd if=/dev/zero of="$WORK/plain" bs=32k count=8192 status=none
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "plain write of 256 MiB to the same disk: $(( 268 * 1000 / (took > 0 ? took : 1) )) MB/s"
rm -f "$WORK/plain"
"$WORK/recorder_bench" "$WORK/state"
