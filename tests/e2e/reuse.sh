#!/bin/bash
# reuse.sh: warm asset connections (`reuse = yes`). Two sequential and then
# two concurrent vendor sessions make one login on the asset (its sshd logs
# one "Accepted" line), yet each is its own session: its own session.start
# and session.end, its own recording that verifies, and an asset.connect
# naming the shared link and whether it was reused. The link closes after
# reuse-idle; a rotated credential (`otgate asset credential`) makes a fresh
# login with the new key, and so does a reload that changed the asset's
# section (one that did not keeps the link); an asset that refuses more
# channels (MaxSessions) gets a second connection; otgate kill ends one session
# of a link, not the others; a link that dies ends each session on it with
# "connection to the asset lost".
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
# long enough for the next ssh to start on a loaded machine
printf 'reuse = yes\nreuse-idle = 6s\n' >"$WORK/reuse.conf"
policy_write "$WORK/reuse.conf"
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
SSHD_LOG=$WORK/asset-plc1/sshd.log
logins() { grep -c "Accepted publickey" "$SSHD_LOG"; }
wait_for() {	# SECONDS CMD...: until CMD succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# A vendor session in the background, its output in $WORK/FILE, its pid in BG.
bg_session() {	# FILE CMD
	vssh alice+plc1 "$2" >"$WORK/$1" 2>&1 &
	BG=$!
}
# A command for the asset that says it runs, waits until the test releases
# GROUP, then prints WORD: sessions that overlap for sure, however slow the
# machine (the asset runs on this host).
held() {	# GROUP WORD
	echo "touch $WORK/started.$1.$2; until [ -e $WORK/go.$1 ]; do sleep 0.1; done; echo $2"
}
started() {	# GROUP: how many sessions of GROUP run
	ls "$WORK" | grep -c "^started\.$1\."
}
release() {	# GROUP N: once N sessions of GROUP run, let them finish
	wait_for 30 eval "[ \$(started $1) -ge $2 ]" && touch "$WORK/go.$1"
}

# ---- two sequential, two concurrent: one login
out1=$(vssh alice+plc1 'echo one' 2>&1)
out2=$(vssh alice+plc1 'echo two' 2>&1)
check "sequential sessions both run ('$out1', '$out2')" \
	eval '[ "$out1" = one ] && [ "$out2" = two ]'
bg_session c1 "$(held c three)"
p1=$BG
bg_session c2 "$(held c four)"
p2=$BG
check "two sessions run at once" release c 2
wait $p1 $p2
check "concurrent sessions both run ('$(cat "$WORK/c1")', '$(cat "$WORK/c2")')" \
	eval '[ "$(cat "$WORK/c1")" = three ] && [ "$(cat "$WORK/c2")" = four ]'
check "four sessions made one login on the asset (got $(logins))" [ "$(logins)" -eq 1 ]
sleep 0.3
n_conn=$(grep -c '"event":"asset.connect"' "$WORK/audit.log")
n_reused=$(grep '"event":"asset.connect"' "$WORK/audit.log" | grep -c '"reused":"true"')
links=$(grep '"event":"asset.connect"' "$WORK/audit.log" |
	sed 's/.*"link":"\([0-9a-f]*\)".*/\1/' | sort -u | wc -l)
check "four asset.connect events, three reused, one link ($n_conn, $n_reused, $links)" \
	eval '[ "$n_conn" -eq 4 ] && [ "$n_reused" -eq 3 ] && [ "$links" -eq 1 ]'
ids=$(grep '"event":"session.start"' "$WORK/audit.log" |
	sed 's/.*"session":"\([0-9a-f]*\)".*/\1/' | sort -u)
check "four distinct sessions started" [ "$(wc -l <<<"$ids")" -eq 4 ]
check "and four ended" [ "$(grep -c '"event":"session.end"' "$WORK/audit.log")" -eq 4 ]
good=0
for id in $ids; do
	O verify "$id" 2>&1 | grep -q "verified" && good=$((good + 1))
done
check "each of the four recordings verifies ($good)" [ "$good" -eq 4 ]
own=0
for id in $ids; do
	O export "$id" -o "$WORK/export.txt" 2>/dev/null
	# exactly one of the four outputs, and only that
	[ "$(grep -c -x -E 'one|two|three|four' "$WORK/export.txt")" -eq 1 ] &&
		[ "$(grep -c . "$WORK/export.txt")" -eq 1 ] && own=$((own + 1))
done
check "each recording holds its own session's output only ($own)" [ "$own" -eq 4 ]

# ---- idle: closed after reuse-idle, then a fresh login
check "the asset sees the idle link closed within reuse-idle and a margin" \
	wait_for 15 grep -q "Received disconnect from\|Disconnected from user" "$SSHD_LOG"
check "otgated says the link closed" grep -q "asset link .* closed" "$WORK/otgated.log"
out=$(vssh alice+plc1 'echo five' 2>&1)
check "after the idle close a session logs in afresh ('$out', $(logins) logins)" \
	eval '[ "$out" = five ] && [ "$(logins)" -eq 2 ]'

# ---- credential rotation: the warm link is not reused, the new key logs in
ssh-keygen -q -t ed25519 -N '' -C rotated -f "$WORK/rotated_key"
cat "$WORK/rotated_key.pub" >>"$WORK/asset-plc1/authorized_keys"
O asset credential plc1 --key "$WORK/rotated_key" >/dev/null
newfp=$(ssh-keygen -lf "$WORK/rotated_key.pub" | cut -d' ' -f2)
out=$(vssh alice+plc1 'echo six' 2>&1)
check "after otgate asset credential a session logs in afresh ('$out', $(logins) logins)" \
	eval '[ "$out" = six ] && [ "$(logins)" -eq 3 ]'
check "with the rotated key" eval 'grep "Accepted publickey" "$SSHD_LOG" | tail -n 1 | grep -q -- "$newfp"'

# ---- kill is per session: the other session on the link goes on
bg_session k1 "$(held k k1)"
k1=$BG
wait_for 30 eval '[ $(started k) -ge 1 ]'
k1id=$(grep '"event":"session.start"' "$WORK/audit.log" | tail -n 1 |
	sed 's/.*"session":"\([0-9a-f]*\)".*/\1/')
bg_session k2 "$(held k k2)"
k2=$BG
wait_for 30 eval '[ $(started k) -ge 2 ]'
O kill "$k1id" --reason "test" >/dev/null
wait $k1
rc1=$?
touch "$WORK/go.k"
wait $k2
rc2=$?
check "otgate kill ends that session only (rc $rc1: '$(tr '\n' ' ' <"$WORK/k1")')" \
	eval '[ $rc1 -eq 1 ] && grep -q "ended by an operator: test" "$WORK/k1"'
check "the other session on the link finishes (rc $rc2: '$(cat "$WORK/k2")')" \
	eval '[ $rc2 -eq 0 ] && [ "$(cat "$WORK/k2")" = k2 ]'
check "both on the same login ($(logins) logins)" [ "$(logins)" -eq 3 ]

# ---- reload: a change elsewhere keeps the link, a change to the asset does not
reload_with() {	# LINES: the asset's extra lines; wait for the reload's audit
	local n
	n=$(grep -c '"event":"policy.reload"' "$WORK/audit.log")
	printf "%s" "$1" >"$WORK/reuse.conf"
	policy_write "$WORK/reuse.conf"
	kill -HUP "$BROKER_PID"
	wait_for 10 eval '[ $(grep -c "\"event\":\"policy.reload\"" "$WORK/audit.log") -gt $n ]'
}
before=$(logins)
reload_with $'reuse = yes\nreuse-idle = 6s\ntags = zone:a\n'
out=$(vssh alice+plc1 'echo nine' 2>&1)
check "after a reload that left the asset as it was the link is reused ('$out', $(logins) logins)" \
	eval '[ "$out" = nine ] && [ "$(logins)" -eq $before ]'
ssh-keygen -q -t ed25519 -N '' -C spare -f "$WORK/spare_hostkey"
reload_with $'reuse = yes\nreuse-idle = 6s\ntags = zone:a\n'"hostkey = $(cut -d' ' -f1,2 "$WORK/spare_hostkey.pub")"$'\n'
out=$(vssh alice+plc1 'echo ten' 2>&1)
check "after a reload that changed the asset's pinned keys a session logs in afresh ('$out', $(logins) logins)" \
	eval '[ "$out" = ten ] && [ "$(logins)" -eq $((before + 1)) ]'

# ---- a link that dies while sessions are on it
bg_session d1 'echo ready; sleep 20'
d1=$BG
bg_session d2 'echo ready; sleep 20'
d2=$BG
wait_for 15 eval 'grep -q ready "$WORK/d1" && grep -q ready "$WORK/d2"'
check "two sessions share the link ($(logins) logins)" [ "$(logins)" -eq 4 ]
for pid in $(ps -o pid= --ppid "$ASSET_PID_plc1"); do
	kill "$pid"	# the asset-side sshd of the link
done
wait $d1
rc1=$?
wait $d2
rc2=$?
check "both end with 'connection to the asset lost' (rc $rc1, $rc2)" \
	eval 'grep -q "connection to the asset lost" "$WORK/d1" &&
	grep -q "connection to the asset lost" "$WORK/d2" && [ $rc1 -ne 0 ] && [ $rc2 -ne 0 ]'
# (the broker may audit the end a moment after the vendor hears of it)
lost_ends() { [ "$(grep '"event":"session.end"' "$WORK/audit.log" |
	grep -c 'connection to the asset lost')" -eq 2 ]; }
check "and a session.end saying so for each" wait_for 5 lost_ends
out=$(vssh alice+plc1 'echo seven' 2>&1)
check "the next session logs in afresh ('$out', $(logins) logins)" \
	eval '[ "$out" = seven ] && [ "$(logins)" -eq 5 ]'

# ---- MaxSessions: the asset refuses a third channel, a second link takes it
for pid in $(ps -o pid= --ppid "$ASSET_PID_plc1"); do
	kill "$pid"	# the old link's sshd outlives the listener
done
asset_stop plc1
sed -i 's/^MaxSessions .*/MaxSessions 2/' "$WORK/asset-plc1/sshd_config"
/usr/sbin/sshd -D -e -f "$WORK/asset-plc1/sshd_config" 2>>"$SSHD_LOG" &
ASSET_PID_plc1=$!
E2E_PIDS+=($!)
wait_port 127.0.0.2 "$ASSET_PORT_plc1"
before=$(logins)
out=$(vssh alice+plc1 'echo eight' 2>&1)
check "a session after the asset restarted logs in afresh ('$out', $(logins) logins)" \
	eval '[ "$out" = eight ] && [ "$(logins)" -eq $((before + 1)) ]'
for i in 1 2 3; do
	bg_session "m$i" "$(held m "m$i")"
	eval "m$i=\$BG"
done
check "three sessions run at once" release m 3
wait $m1 $m2 $m3
check "three concurrent sessions all run ($(cat "$WORK/m1" "$WORK/m2" "$WORK/m3" | tr '\n' ' '))" \
	[ "$(cat "$WORK/m1" "$WORK/m2" "$WORK/m3" | tr '\n' ' ')" = "m1 m2 m3 " ]
check "with one more login for the refused channel ($(logins) logins)" \
	[ "$(logins)" -eq $((before + 2)) ]
check "otgated says the asset refused a channel" \
	grep -q "refused a channel" "$WORK/otgated.log"
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
