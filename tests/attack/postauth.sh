#!/bin/bash
# Attacks and faults after login, against a broker with the default seccomp
# filter: as root, no start without `user`; its privileges from /proc (uid,
# CapEff, NoNewPrivs, Seccomp); channel-open and global-request floods; a
# vendor that stops reading while the asset pours 1 GiB (memory; skipped under
# sanitizers); a stalled asset (SIGSTOP) and a dead one while others are
# served; kill -9 of the broker in the middle of a session, then a restart
# with the audit chain intact.
. "$TOP/tests/e2e/lib.sh"
PY=/usr/bin/python3
"$PY" -c 'import paramiko' 2>/dev/null || e2e_skip "no python3-paramiko"
e2e_init
H() { timeout 120 "$PY" "$TOP/tests/attack/hostile.py" "$@"; }
case $BUILD in */san) SAN=1 ;; *) SAN=0 ;; esac
asset_start plc1 127.0.0.2
asset_start plc2 127.0.0.3
asset_start plc3 127.0.0.4
policy_write
CONNECT_TIMEOUT=5s conf_write	# how long the stalled asset below holds a session up
if [ "$(id -u)" -eq 0 ]; then
	grep -v '^user = ' "$WORK/otgated.conf" >"$WORK/root.conf"
	out=$(timeout 10 "$OTGATED" -D -f "$WORK/root.conf" 2>&1); rc=$?
	check "started as root without 'user' it refuses to start (rc $rc)" \
		eval '[ $rc -eq 1 ] && echo "$out" | grep -q "refusing to run as root"'
fi
broker_start
field() { awk -v k="$1:" '$1 == k { $1 = ""; print substr($0, 2) }' "/proc/$BROKER_PID/status"; }

# --- privileges
check "NoNewPrivs is 1 ($(field NoNewPrivs))" [ "$(field NoNewPrivs)" = 1 ]
if [ "$SAN" -eq 1 ]; then
	echo "ok: Seccomp not checked: sanitizer builds run without the filter"
else
	check "Seccomp is 2, a filter ($(field Seccomp))" [ "$(field Seccomp)" = 2 ]
fi
if [ "$(id -u)" -eq 0 ]; then
	check "started as root, it runs as uid $(id -u otgtest) ($(field Uid))" \
		[ "$(field Uid | tr -s '\t ' ' ')" = "$(id -u otgtest) $(id -u otgtest) $(id -u otgtest) $(id -u otgtest)" ]
	check "CapEff is 0 ($(field CapEff))" [ "$(field CapEff)" = 0000000000000000 ]
	check "no supplementary root group ($(field Groups))" eval '! field Groups | grep -qw 0'
else
	echo "ok: uid and CapEff not checked: not started as root"
fi
check "a session works under the filter" [ "$(vssh alice+plc1 'echo in' 2>/dev/null)" = in ]

# --- floods
H channel-flood 127.0.0.1 "$BROKER_PORT" "$WORK/alice_key" alice+plc1 200 >"$WORK/flood" 2>&1 &
flood=$!
for _ in $(seq 1 300); do grep -q '^opened' "$WORK/flood" && break; sleep 0.1; done
held=$("$OTGATE" -f "$WORK/otgated.conf" status 2>&1 | awk '$1 == "sessions" { print $2 }')
wait $flood
check "a channel-open flood holds at most 16 sessions on one connection (${held:-?}; $(grep '^opened' "$WORK/flood"))" \
	eval '[ -n "$held" ] && [ "$held" -le 16 ]'
check "a global-request flood gets no success" H global-flood 127.0.0.1 "$BROKER_PORT" "$WORK/alice_key" alice+plc1 2000
check "after the floods a session still works" [ "$(vssh alice+plc1 'echo in' 2>/dev/null)" = in ]

# --- a vendor that stops reading while the asset pours 1 GiB
if [ "$SAN" -eq 1 ]; then
	echo "ok: memory under backpressure not checked under sanitizers"
else
	before=$(field VmRSS | awk '{print $1}')
	mkfifo "$WORK/stall"
	vssh alice+plc1 'head -c 1073741824 /dev/zero' >"$WORK/stall" 2>/dev/null &
	pour=$!
	exec 7<"$WORK/stall"	# opened, never read
	sleep 8
	after=$(field VmRSS | awk '{print $1}')
	kill "$pour" 2>/dev/null
	exec 7<&-
	wait "$pour" 2>/dev/null
	check "memory grew under 64 MiB while the vendor did not read (${before} -> ${after} kB)" \
		[ $((after - before)) -lt 65536 ]
fi

# --- a stalled asset and a dead one
sp="ASSET_PID_plc2"
kill -STOP "${!sp}"
start=$SECONDS
out=$(VSSH_TIMEOUT=30 vssh alice+plc2 'echo in' 2>&1)
took=$((SECONDS - start))
check "a stalled asset is given up with one line in ${took}s ($out)" \
	eval '[ $took -lt 25 ] && echo "$out" | grep -q "^otgate: plc2: "'
out=$(VSSH_TIMEOUT=20 vssh alice+plc1 'echo in' 2>/dev/null &
	sleep 0.2; kill -STOP "${!sp}" 2>/dev/null; wait)
check "meanwhile other assets are served ($out)" [ "$out" = in ]
kill -CONT "${!sp}"
asset_stop plc3
out=$(VSSH_TIMEOUT=20 vssh alice+plc3 'echo in' 2>&1)
check "a dead asset is refused with one line ($out)" eval 'echo "$out" | grep -q "^otgate: plc3: "'

# --- kill -9 of the broker mid-session
vssh alice+plc1 'echo started; sleep 60' >"$WORK/long" 2>&1 &
long=$!
for _ in $(seq 1 100); do grep -q started "$WORK/long" && break; sleep 0.1; done
check "the long session started" grep -q started "$WORK/long"
kill -9 "$BROKER_PID"
start=$SECONDS
wait "$long"; rc=$?
took=$((SECONDS - start))
check "the vendor is cut off at once, not left hanging (rc $rc in ${took}s)" \
	eval '[ $took -lt 10 ] && [ $rc -ne 0 ]'
out=$("$OTGATE" -f "$WORK/otgated.conf" verify --audit "$WORK/audit.log" 2>&1)
check "the audit chain still verifies after kill -9 ($out)" [ $? -eq 0 ]
broker_start
check "after a restart a session works" [ "$(vssh alice+plc1 'echo in' 2>/dev/null)" = in ]
out=$("$OTGATE" -f "$WORK/otgated.conf" verify --audit "$WORK/audit.log" 2>&1)
check "the chain goes on verified across the restart ($out)" [ $? -eq 0 ]
e2e_finish
