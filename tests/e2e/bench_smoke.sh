#!/bin/bash
# bench/run --smoke: every benchmark scenario runs against every setup it
# names and yields a number (never a speed threshold; benchmarks are not
# timed tests). Skips when otgated is not built.
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -x "$BUILD/otgated" ] || { echo "skip: $BUILD/otgated is not built"; exit 77; }
out=$("$TOP/bench/run" --smoke --json "$BUILD" 2>"$BUILD/bench-smoke.err"); rc=$?
[ $rc -eq 77 ] && { echo "skip: $(tail -n 1 "$BUILD/bench-smoke.err")"; exit 77; }
fails=0
if [ $rc -ne 0 ]; then
	echo "FAIL: bench/run --smoke exited $rc"; tail -n 20 "$BUILD/bench-smoke.err"; exit 1
fi
# FIGURE SETUP... : each must have a numeric median
want="setup:direct,jump,hop,otgate bulk_text:direct,jump,hop,otgate
bulk_random:direct,jump,hop,otgate echo_p50:direct,jump,hop,otgate
echo_p99:direct,jump,hop,otgate echo_many_p50:direct,jump,hop,otgate
echo_many_p99:direct,jump,hop,otgate conc_pss:jump,hop,otgate conc_setup:direct,otgate
stall_growth:jump,hop,otgate flood_login:jump,hop,otgate flood_ok:jump,hop,otgate
enum_known:jump,otgate enum_unknown:jump,otgate ceiling_aes:direct ceiling_chacha:direct
sftp_get:direct,jump,otgate sftp_put:direct,jump,otgate rec_cost:otgate
rec_cost_pty:otgate bulk_text_norec:otgate bulk_random_norec:otgate
rec_cost_norec:otgate rec_cost_norec_random:otgate"
for w in $want; do
	fig=${w%%:*}
	line=$(echo "$out" | grep "^{\"figure\":\"$fig\",")
	if [ -z "$line" ]; then
		echo "FAIL: no figure $fig"; fails=$((fails + 1)); continue
	fi
	for s in $(echo "${w#*:}" | tr ',' ' '); do
		if echo "$line" | grep -Eq "\"$s\":\\{\"median\":-?[0-9.e+]+,"; then
			echo "ok: $fig has a number for $s"
		else
			echo "FAIL: $fig has no number for $s: $line"; fails=$((fails + 1))
		fi
	done
done
if [ $fails -ne 0 ]; then
	echo "--- bench/run stderr (tail)"; tail -n 20 "$BUILD/bench-smoke.err"
	exit 1
fi
echo "all checks passed"
