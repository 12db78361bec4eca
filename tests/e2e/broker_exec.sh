#!/bin/bash
# otgated relays exec sessions exactly as a direct ssh would: output, stderr
# and exit status; stdin to EOF (echo x | ssh ... cat; 20 MB hashed on the
# asset); 100 MB of output intact; several channels on one multiplexed
# connection; and session.start/session.end in the audit log with byte counts.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start

out=$(VSSH_LOGLEVEL=INFO vssh alice+plc1 true 2>&1)
check "the banner is shown before login ('$out')" \
	eval 'echo "$out" | grep -q "Authorised use only"'
out=$(vssh alice+plc1 'echo hello; echo oops >&2; exit 3' 2>"$WORK/err"); rc=$?
check "exec prints the asset's output (got '$out')" [ "$out" = hello ]
check "exec relays stderr (got '$(cat "$WORK/err")')" grep -qx oops "$WORK/err"
check "exit status 3 comes back (got $rc)" [ $rc -eq 3 ]
vssh alice:plc1 true; rc=$?
check "USER:ASSET works too, exit 0 (got $rc)" [ $rc -eq 0 ]
vssh alice+plc1 'kill -KILL $$'; rc=$?
check "a command killed by a signal gives 255 like ssh (got $rc)" [ $rc -eq 255 ]

out=$(echo x | vssh alice+plc1 cat)
check "echo x | ssh ... cat (got '$out')" [ "$out" = x ]

head -c 20000000 /dev/urandom >"$WORK/in20"
want=$(sha256sum <"$WORK/in20" | cut -d' ' -f1)
got=$(vssh alice+plc1 'sha256sum' <"$WORK/in20" | cut -d' ' -f1)
check "20 MB of stdin reach the asset intact ($got)" [ "$got" = "$want" ]

want=$(seq 1 13000000 | sha256sum | cut -d' ' -f1)
got=$(vssh alice+plc1 'seq 1 13000000' | sha256sum | cut -d' ' -f1)
check "100 MB of output arrive intact" [ "$got" = "$want" ]

# a vendor that stops reading while the asset finishes: the asset is held
# back by the window, and everything still arrives after it closed
want=$(seq 1 3000000 | sha256sum | cut -d' ' -f1)
got=$(vssh alice+plc1 'seq 1 3000000; echo done >&2' 2>/dev/null | { sleep 2; sha256sum; } | cut -d' ' -f1)
check "a stalled vendor still gets all 20 MB after the asset closed" [ "$got" = "$want" ]

# OpenSSH multiplexing: three sessions over one broker connection
VSSH_OPTS="-o ControlMaster=auto -o ControlPath=$WORK/cm -o ControlPersist=20"
vssh alice+plc1 true
a=$(vssh alice+plc1 'echo one') b=$(vssh alice+plc1 'echo two; exit 4'); rc=$?
c=$(echo three | vssh alice+plc1 cat)
check "multiplexed channels (got '$a' '$b' '$c')" [ "$a/$b/$c" = one/two/three ]
check "multiplexed exit status (got $rc)" [ $rc -eq 4 ]
ssh -F /dev/null -o ControlPath="$WORK/cm" -O exit x 2>/dev/null
VSSH_OPTS=
nconn=$(grep -c '"event":"auth.success"' "$WORK/audit.log")
check "the three multiplexed sessions used one login ($nconn logins so far)" [ "$nconn" -eq 9 ]

sleep 0.3
check "audit: session.start with policy hash and role" \
	audit_has session.start '"role":"maint"'
check "audit: session.end with the exit status" audit_has session.end '"exit":3'
check "audit: session.end counts the 20 MB in" audit_has session.end '"bytes_in":20000000'
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
