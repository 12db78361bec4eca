# lib.sh: the setups bench/run compares, started side by side in one work dir
# (source it after tests/e2e/lib.sh, whose asset_start/policy_write/
# broker_start it reuses):
#
#   bastion_start NAME [FORCECMD]  an OpenSSH sshd on 127.0.0.1 that alice's key
#                                  logs in to; sets BASTION_PORT_<NAME>, BASTION_PID_<NAME>
#   hop_script_write               the recorded hop's ForceCommand (script around ssh)
#   asset_quiet NAME               its sshd runs commands without ~/.bashrc
#   simasset_start NAME ADDR       bench/simasset as an asset the broker knows
#   norec_start BIN                a second broker, BIN (otgated-norec), with the
#                                  broker's config and policy but its own port and
#                                  state; sets NOREC_PORT, NOREC_PID
#   sshcfg_write                   $WORK/ssh_config: Host asset, jump, viajump, hop, otg,
#                                  otgwarm, otgnorec
#   now_us                         microseconds since the epoch (no fork)
#   tree_pids PID                  PID and all its descendants
#   kill_sessions PID              stop every descendant of PID (not PID itself)
#   pss_kib PID...                 sum of Pss over those processes (smaps_rollup)
#   stats N...                     "median min max" of the numbers given
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bastion_start() {	# NAME [FORCECMD]
	local name=$1 force=${2:-} port dir
	port=$(free_port 127.0.0.1)
	dir=$WORK/bastion-$name
	mkdir -p "$dir"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/hostkey"
	cp "$WORK/alice_key.pub" "$dir/authorized_keys"
	# MaxStartups is raised only as far as the broker's bench config is, so the
	# flood figure compares like with like; everything else is sshd's default.
	cat >"$dir/sshd_config" <<EOT
Port $port
ListenAddress 127.0.0.1
HostKey $dir/hostkey
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
MaxStartups 200:30:400
PerSourceMaxStartups none
SetEnv SHLVL=1
${force:+ForceCommand $force}
EOT
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
	E2E_PIDS+=($!)
	eval "BASTION_PID_$name=$!"
	eval "BASTION_PORT_$name=$port"
	wait_port 127.0.0.1 "$port" || { echo "FAIL: bastion sshd $name did not start:"; cat "$dir/sshd.log"; exit 1; }
}

# bash sources ~/.bashrc for commands run by sshd unless SHLVL says it is
# nested; a heavy .bashrc (pyenv here) would otherwise dominate every figure
# and, under load, leave stale rehash locks behind.
asset_quiet() {	# NAME
	local dir=$WORK/asset-$1 pid="ASSET_PID_${1//-/_}" port="ASSET_PORT_${1//-/_}"
	echo "SetEnv SHLVL=1" >>"$dir/sshd_config"
	kill -HUP "${!pid}"	# sshd -D re-executes itself with the new config
	sleep 0.3
	wait_port 127.0.0.2 "${!port}" || { echo "FAIL: sshd for $1 did not restart"; exit 1; }
}

# The do-it-yourself recorded hop: every session runs `script` (a typescript
# per session, as admins do it) around a second ssh to the asset.
hop_script_write() {
	mkdir -p "$WORK/hoprec"
	cat >"$WORK/hop.sh" <<EOT
#!/bin/sh
f=$WORK/hoprec/\$(date +%s%N).\$\$
if [ -n "\${SSH_ORIGINAL_COMMAND:-}" ]; then
	exec script -q -e -c 'exec ssh -F $WORK/ssh_config -i $WORK/asset_login_key asset "\$SSH_ORIGINAL_COMMAND"' "\$f"
fi
exec script -q -e -c 'exec ssh -F $WORK/ssh_config -i $WORK/asset_login_key -tt asset' "\$f"
EOT
	chmod 0755 "$WORK/hop.sh"
}

simasset_start() {	# NAME ADDR
	local name=$1 addr=$2 port dir
	port=$(free_port "$addr")
	dir=$WORK/asset-$name
	mkdir -p "$dir"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/hostkey"
	"$BENCH_BIN/simasset" -a "$addr" -p "$port" -k "$dir/hostkey" 2>"$dir/simasset.log" &
	E2E_PIDS+=($!)
	eval "ASSET_PID_$name=$!"
	eval "ASSET_PORT_$name=$port"
	eval "ASSET_ADDR_$name=$addr"
	E2E_ASSETS+=("$name")
	wait_port "$addr" "$port" || { echo "FAIL: simasset did not start:"; cat "$dir/simasset.log"; exit 1; }
	cp "$WORK/asset_login_key" "$WORK/vault/$name.key"
	chmod 0600 "$WORK/vault/$name.key"
}

# otgated-norec records nothing (bench/norec.c): everything else as the
# broker of broker_start (same host key, policy, vault, knobs), beside it.
norec_start() {	# BIN
	local dir=$WORK/norec
	NOREC_PORT=$(free_port 127.0.0.1)
	mkdir -p -m 0700 "$dir/state"
	sed -e "s|^listen = .*|listen = 127.0.0.1:$NOREC_PORT|" \
		-e "s#^\(hostkey\|policy\|vault\|banner\) = #\1 = $WORK/#" \
		-e "s#^\(state\|audit-log\|control\) = #\1 = $dir/#" \
		"$WORK/otgated.conf" >"$dir/otgated.conf"
	[ -n "${E2E_USER:-}" ] && chown -R "$E2E_USER" "$dir"
	"$1" -D -f "$dir/otgated.conf" >>"$dir/otgated.log" 2>&1 &
	NOREC_PID=$!
	E2E_PIDS+=($NOREC_PID)
	wait_port 127.0.0.1 "$NOREC_PORT" || { echo "FAIL: otgated-norec did not start:"; cat "$dir/otgated.log"; exit 1; }
}

sshcfg_write() {
	cat >"$WORK/ssh_config" <<EOT
Host *
	BatchMode yes
	IdentitiesOnly yes
	IdentityFile $WORK/alice_key
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	LogLevel ERROR
	ConnectTimeout 10
	ControlMaster no
Host asset
	HostName 127.0.0.2
	Port $ASSET_PORT_plc1
	User $LOGIN
Host jump
	HostName 127.0.0.1
	Port $BASTION_PORT_jump
	User $LOGIN
Host viajump
	HostName 127.0.0.2
	Port $ASSET_PORT_plc1
	User $LOGIN
	ProxyJump jump
Host hop
	HostName 127.0.0.1
	Port $BASTION_PORT_hop
	User $LOGIN
Host otg
	HostName 127.0.0.1
	Port $BROKER_PORT
	User alice+plc1
Host otgwarm
	HostName 127.0.0.1
	Port $BROKER_PORT
	User alice+plc1w
Host otgnorec
	HostName 127.0.0.1
	Port ${NOREC_PORT:-0}
	User alice+plc1
EOT
}

now_us() {
	local t=$EPOCHREALTIME
	echo $((10#${t/./}))
}

tree_pids() {	# PID
	local p c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		tree_pids "$c"
	done
}

kill_sessions() {	# PID
	local p
	for p in $(tree_pids "$1"); do
		[ "$p" = "$1" ] || kill "$p" 2>/dev/null
	done
}

pss_kib() {	# PID...
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo $sum
}

stats() {	# N...
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan nan nan"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}
