#!/bin/bash
# legacy.sh: an old device whose sshd speaks only aes128-ctr and
# diffie-hellman-group14-sha1 is refused while its asset has the modern
# algorithms only, and reached once the policy says `legacy-algorithms = yes`;
# that connect is audited as asset.legacy with the kex and cipher agreed.
# The vendor side keeps curve25519 and etm MACs throughout.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
# restart the asset's sshd on its port with only the old algorithms
asset_stop plc1
cat >>"$WORK/asset-plc1/sshd_config" <<EOT
Ciphers aes128-ctr
KexAlgorithms diffie-hellman-group14-sha1
EOT
/usr/sbin/sshd -D -e -f "$WORK/asset-plc1/sshd_config" 2>>"$WORK/asset-plc1/sshd.log" &
E2E_PIDS+=($!)
wait_port 127.0.0.2 "$ASSET_PORT_plc1" || { echo "FAIL: the old sshd did not start:"; cat "$WORK/asset-plc1/sshd.log"; exit 1; }
policy_write
broker_start

out=$(VSSH_TIMEOUT=20 vssh alice+plc1 'echo reached' 2>&1); rc=$?
check "without legacy-algorithms the old asset is refused (rc $rc, '$out')" \
	eval '[ $rc -ne 0 ] && [ "$out" != reached ]'
check "and no asset.legacy is audited" eval '! audit_has asset.legacy'

echo "legacy-algorithms = yes" >"$WORK/legacy.conf"
policy_write "$WORK/legacy.conf"
kill -HUP "$BROKER_PID"
for i in $(seq 50); do
	grep -q '"event":"policy.reload"' "$WORK/audit.log" && break
	sleep 0.1
done
out=$(VSSH_TIMEOUT=20 vssh alice+plc1 'echo reached' 2>&1); rc=$?
check "with legacy-algorithms = yes the old asset is reached (rc $rc, '$out')" \
	[ "$out" = reached ]
sleep 0.3
check "asset.legacy names the asset and the kex agreed" \
	audit_has asset.legacy '"asset":"plc1".*"kex":"diffie-hellman-group14-sha1"'
check "asset.legacy names the cipher agreed" \
	audit_has asset.legacy '"cipher":"aes128-ctr"'
# the vendor side stays modern whatever the assets need
VSSH_OPTS="-o KexAlgorithms=diffie-hellman-group14-sha256" vssh alice+plc1 true 2>/dev/null
check "a vendor offering no curve25519 kex is refused" [ $? -eq 255 ]
VSSH_OPTS="-o Ciphers=aes128-ctr -o MACs=hmac-sha2-256" vssh alice+plc1 true 2>/dev/null
check "a vendor offering no etm MAC with aes128-ctr is refused" [ $? -eq 255 ]
out=$(VSSH_OPTS="-o Ciphers=aes128-ctr -o MACs=hmac-sha2-256-etm@openssh.com" \
	vssh alice+plc1 'echo reached' 2>&1)
check "aes128-ctr with an etm MAC is fine ('$out')" [ "$out" = reached ]
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
