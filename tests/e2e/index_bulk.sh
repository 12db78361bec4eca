#!/bin/bash
# index_bulk.sh: bulk text output outruns the live full-text index. The relay
# and the recording stay whole; the index keeps the session's text up to the
# point it dropped and says so: `otgate search` finds what came before, not
# what came after, and tells on stderr that a session is indexed only in
# part; `otgate index rebuild` indexes the rest and the note goes away.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

# 24 MiB of base64 text: far more than the live index takes in (it holds at
# most 4 MiB queued and writes a tenth of the time)
head -c $((18 * 1024 * 1024)) /dev/urandom | base64 -w 76 >"$WORK/bulk"
chmod 0644 "$WORK/bulk"
{ echo "marker-before-1"; cat "$WORK/bulk"; echo "marker-after-2"; } >"$WORK/want"
# the markers are computed: the command (indexed as the exec's first line)
# does not hold the text searched for
vssh alice+plc1 "echo marker-before-\$((0+1)); cat $WORK/bulk; echo marker-after-\$((1+1))" \
	>"$WORK/got" 2>"$WORK/err"
check "the bulk output is relayed whole" cmp -s "$WORK/want" "$WORK/got"
sleep 2
id=$(O sessions --json | python3 -c 'import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o["kind"] == "exec": print(o["id"])')
check "the session is listed" [ -n "$id" ]
O export "$id" -o "$WORK/export" >/dev/null 2>&1
check "the recording holds all of it" cmp -s "$WORK/want" "$WORK/export"

# --- the live index: up to the drop, and it says so
O search marker-before-1 >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/out" "$WORK/err"
check "search finds the text before the bulk output" \
	eval '[ $rc -eq 0 ] && grep -q "^$id  0:00:00  marker-before-1" "$WORK/out"'
O search marker-after-2 >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/out" "$WORK/err"
check "the text after the drop is not in the live index (exit $rc)" [ $rc -eq 1 ]
check "search says a session is indexed only in part" \
	grep -q "^otgate: search: 1 session is indexed only in part (bulk output outran the live index); \`otgate index rebuild\` completes it$" "$WORK/err"
check "the broker logged nothing about a failed index write" \
	bash -c '! grep -q "a batch was not written" "$1"' - "$WORK/otgated.log"

# --- index rebuild completes it
O index rebuild >"$WORK/out" 2>&1
cat "$WORK/out"
O search marker-after-2 >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/out" "$WORK/err"
check "after index rebuild the rest is found" \
	eval '[ $rc -eq 0 ] && grep -q "^$id  0:00:[0-9][0-9]  marker-after-2" "$WORK/out"'
check "and search no longer says any session is partial" [ ! -s "$WORK/err" ]
e2e_finish
