#!/bin/bash
# make demo: a throwaway otgate under demo/ (git-ignored): keys, a policy with
# one vendor and one asset, a real OpenSSH sshd on 127.0.0.2 playing the asset
# (login = you, key only), and otgated -D on 127.0.0.1:2222. Prints the ssh
# command that reaches the asset through the broker. Ctrl-C stops both.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$TOP/demo
PORT=${DEMO_PORT:-2222}
LOGIN=$(id -un)

[ -x "$BUILD/otgated" ] || { echo "demo: $BUILD/otgated is missing (run make)" >&2; exit 1; }
rm -rf "$DEMO"
mkdir -p -m 0700 "$DEMO" "$DEMO/vault" "$DEMO/state" "$DEMO/asset"
cd "$DEMO"
ssh-keygen -q -t ed25519 -N '' -C vendor@demo -f vendor_key
ssh-keygen -q -t ed25519 -N '' -C otgate-demo -f broker_hostkey
ssh-keygen -q -t ed25519 -N '' -C plc-demo -f asset/hostkey
ssh-keygen -q -t ed25519 -N '' -C vault -f vault/plc-demo.key
mv vault/plc-demo.key.pub asset/authorized_keys
ASSET_PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1])')

cat >asset/sshd_config <<EOT
Port $ASSET_PORT
ListenAddress 127.0.0.2
HostKey $DEMO/asset/hostkey
PidFile $DEMO/asset/sshd.pid
AuthorizedKeysFile $DEMO/asset/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv SHLVL=1
EOT
cat >policy.conf <<EOT
# The demo's policy: one vendor, one asset, always open.
[asset plc-demo]
address = 127.0.0.2
port = $ASSET_PORT
login = $LOGIN
hostkey = $(cut -d' ' -f1,2 asset/hostkey.pub)
tags = zone:demo

[role demo-maintenance]
assets = zone:demo
allow = shell exec

[user vendor]
name = Demo Vendor
company = Example Automation GmbH
roles = demo-maintenance
auth = publickey
pubkey = $(cat vendor_key.pub)
EOT
cat >otgated.conf <<EOT
listen = 127.0.0.1:$PORT
hostkey = broker_hostkey
policy = policy.conf
vault = vault
state = state
audit-log = audit.log
control = control.sock
egress = 127.0.0.0/8
banner = banner
EOT
# Started as root, otgated drops to an unprivileged user, and refuses to start
# without one: the demo uses the packaged service account `otgate` (created if
# missing, as the Debian package does), owning the demo's state.
if [ "$(id -u)" -eq 0 ]; then
	id otgate >/dev/null 2>&1 || useradd --system --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin otgate
	echo "user = otgate" >>otgated.conf
	chown otgate "$DEMO"
	chown -R otgate state vault
fi
echo "otgate demo broker: authorised use only, sessions are audited." >banner

[ "$(id -u)" -ne 0 ] || [ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
pids=()
stop() {
	trap - INT TERM EXIT
	kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	echo
	echo "demo stopped; its files stay in $DEMO until the next make demo"
}
trap stop INT TERM EXIT
/usr/sbin/sshd -D -e -f "$DEMO/asset/sshd_config" 2>"$DEMO/asset/sshd.log" &
pids+=($!)
"$BUILD/otgated" -D -f "$DEMO/otgated.conf" 2>"$DEMO/otgated.log" &
pids+=($!)
for i in $(seq 1 50); do
	python3 -c 'import socket,sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$PORT" 2>/dev/null && break
	sleep 0.1
done
kill -0 "${pids[1]}" 2>/dev/null || { cat "$DEMO/otgated.log"; exit 1; }
cat <<EOT

otgate demo running: broker 127.0.0.1:$PORT, asset plc-demo = sshd on 127.0.0.2:$ASSET_PORT
(logs: demo/otgated.log, demo/audit.log; admin: $BUILD/otgate -f demo/otgated.conf status)

Reach the asset through the broker:

  ssh -i $DEMO/vendor_key -o IdentitiesOnly=yes -o UserKnownHostsFile=$DEMO/known_hosts -p $PORT vendor+plc-demo@127.0.0.1

or get the asset menu:

  ssh -i $DEMO/vendor_key -o IdentitiesOnly=yes -o UserKnownHostsFile=$DEMO/known_hosts -p $PORT vendor@127.0.0.1

Ctrl-C stops the demo.
EOT
wait "${pids[1]}"
