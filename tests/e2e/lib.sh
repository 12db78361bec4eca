# lib.sh: shared by the broker's end-to-end tests (source it). Each test gets a
# private work dir with a cleanup trap that stops what it started, real OpenSSH
# sshd assets on 127.0.0.2 and up (on ports from a block the script holds
# alone, so scripts may run side by side), keys made with ssh-keygen, an
# otgated.conf and a policy, a running `otgated -D`, and `vssh` to reach it
# with the real ssh client.
#
#   e2e_init                       work dir, keys, trap; sets WORK
#   asset_start NAME ADDR          an sshd for asset NAME on ADDR; sets ASSET_PORT_<NAME>
#   policy_write [EXTRA_FILE]      policy.conf for user alice and every started asset
#   broker_start                   otgated -D on 127.0.0.1:$BROKER_PORT
#   vssh USER [ssh args...]        ssh -p $BROKER_PORT USER@127.0.0.1 ...
#   check WHAT CMD...              run CMD; on failure print WHAT and fail
#   audit_has EVENT [TEXT]         the audit log has EVENT (with TEXT on that line)
#   audit_wait EVENT [TEXT]        audit_has, for an event written after the client left
#   session_live ASSET             the ID of a session on ASSET once it relays
set -u
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "skip: lib.sh is sourced by the e2e tests, not one itself"
	exit 77
fi
BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OTGATED=${OTGATED:-$BUILD/otgated}
OTGATE=${OTGATE:-$BUILD/otgate}
# the system's python: a pyenv shim can stall for a minute on its rehash lock
E2E_PY=python3
[ -x /usr/bin/python3 ] && E2E_PY=/usr/bin/python3
# locks and claims shared by the scripts running at the same time
E2E_SHARED=${TMPDIR:-/tmp}/otgate-e2e-shared
E2E_PIDS=()
E2E_ASSETS=()
FAILS=0

e2e_cleanup() {
	local p
	for p in "${E2E_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${E2E_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -n "${WORK:-}" ] && [ -z "${E2E_KEEP:-}" ] && rm -rf "$WORK"
}

e2e_skip() {
	echo "skip: $*"
	exit 77
}

e2e_init() {
	command -v ssh >/dev/null || e2e_skip "no ssh client"
	[ -x /usr/sbin/sshd ] || e2e_skip "no /usr/sbin/sshd"
	[ -x "$OTGATED" ] || { echo "FAIL: $OTGATED was not built"; exit 1; }
	WORK=$(mktemp -d /tmp/otgate-e2e.XXXXXX)
	chmod 0755 "$WORK"
	trap e2e_cleanup EXIT
	mkdir -p -m 0700 "$WORK/vault" "$WORK/state"
	ssh-keygen -q -t ed25519 -N '' -C alice@test -f "$WORK/alice_key"
	ssh-keygen -q -t ed25519 -N '' -C mallory@test -f "$WORK/mallory_key"
	ssh-keygen -q -t ed25519 -N '' -C broker -f "$WORK/broker_hostkey"
	# the key the broker logs in to assets with (vaulted)
	ssh-keygen -q -t ed25519 -N '' -C vault -f "$WORK/asset_login_key"
	LOGIN=$(id -un)
	BROKER_PORT=$(free_port 127.0.0.1)
	# as root the broker must drop to a `user`: a throwaway one owning the state
	E2E_USER=
	[ "$(id -u)" -eq 0 ] && e2e_user

	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd 2>/dev/null || true
}

# The unprivileged account a root-started broker drops to (created once, by
# one script at a time; a useradd outside the tests may still hold the lock
# on /etc/passwd, hence the retries).
e2e_user() {
	local i
	mkdir -p -m 1777 "$E2E_SHARED"
	for ((i = 0; i < 50; i++)); do
		id otgtest >/dev/null 2>&1 && { E2E_USER=otgtest; return 0; }
		flock "$E2E_SHARED/user.lock" sh -c 'id otgtest >/dev/null 2>&1 ||
			useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin otgtest' 2>/dev/null || sleep 0.2
	done
	e2e_skip "cannot create the throwaway user otgtest for the broker to drop to"
}

# What the broker writes after dropping to E2E_USER must be that user's.
# Only before the first start: later files are the broker's own (or root's).
e2e_own() {
	[ -n "${E2E_USER:-}" ] && [ -z "${E2E_OWNED:-}" ] || return 0
	E2E_OWNED=1
	chown "$E2E_USER" "$WORK"
	chown -R "$E2E_USER" "$WORK/state" "$WORK/vault"
}

# A port ADDR can bind now, never the same twice in one script, from a block
# of ports this script holds alone while scripts run side by side (ports.py).
free_port() {
	"$E2E_PY" "$TOP/tests/e2e/ports.py" "$E2E_SHARED" "$$" "$1"
}

wait_port() {	# ADDR PORT [SECONDS]
	local end=$((SECONDS + ${3:-30}))
	while [ $SECONDS -lt $end ]; do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

asset_start() {	# NAME ADDR
	local name=$1 addr=$2 port dir
	port=$(free_port "$addr")
	dir=$WORK/asset-$name
	mkdir -p "$dir"
	[ -f "$dir/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/hostkey"
	cp "$WORK/asset_login_key.pub" "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<EOT
Port $port
ListenAddress $addr
HostKey $dir/hostkey
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AcceptEnv LANG LC_* OTG_*
# bash run by sshd with SHLVL < 2 sources ~/.bashrc, whose tools (pyenv's
# rehash) can stall or fail a test's command on a shared machine
SetEnv SHLVL=1
LogLevel VERBOSE
MaxStartups 100:30:200
MaxSessions 100
EOT
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
	E2E_PIDS+=($!)
	eval "ASSET_PID_${name//-/_}=$!"
	eval "ASSET_PORT_${name//-/_}=$port"
	eval "ASSET_ADDR_${name//-/_}=$addr"
	E2E_ASSETS+=("$name")
	wait_port "$addr" "$port" || { echo "FAIL: sshd for $name did not start:"; cat "$dir/sshd.log"; exit 1; }
	cp "$WORK/asset_login_key" "$WORK/vault/$name.key"
	chmod 0600 "$WORK/vault/$name.key"
}

asset_stop() {	# NAME
	local v="ASSET_PID_${1//-/_}"
	kill "${!v}" 2>/dev/null
	wait "${!v}" 2>/dev/null
}

# The pinned "type base64" of an asset's host key.
asset_hostkey() {
	cut -d' ' -f1,2 "$WORK/asset-$1/hostkey.pub"
}

policy_write() {	# [EXTRA_FILE appended]
	local name p a
	{
		echo "[role maint]"
		echo "assets = ${MAINT_ASSETS:-*}"
		echo "allow = shell exec"
		echo
		echo "[user alice]"
		echo "company = Test Automation"
		echo "roles = maint"
		echo "auth = publickey"
		echo "pubkey = $(cat "$WORK/alice_key.pub")"
		for name in "${E2E_ASSETS[@]}"; do
			p="ASSET_PORT_${name//-/_}"
			a="ASSET_ADDR_${name//-/_}"
			echo
			echo "[asset $name]"
			echo "address = ${!a}"
			echo "port = ${!p}"
			echo "login = $LOGIN"
			echo "hostkey = $(asset_hostkey "$name")"
		done
		[ $# -gt 0 ] && cat "$1"
	} >"$WORK/policy.conf"
}

conf_write() {	# knobs: LISTEN_V6 (a port for [::1]), LOGIN_GRACE, PER_SOURCE, CONNECT_TIMEOUT, SECCOMP
	cat >"$WORK/otgated.conf" <<EOT
listen = 127.0.0.1:$BROKER_PORT ${LISTEN_V6:+[::1]:$LISTEN_V6}
hostkey = broker_hostkey
policy = policy.conf
vault = vault
state = state
audit-log = audit.log
control = control.sock
egress = 127.0.0.0/8 ::1/128
banner = banner
login-grace = ${LOGIN_GRACE:-10s}
connect-timeout = ${CONNECT_TIMEOUT:-10s}
keepalive = 30s
max-startups = 200:30:400
max-startups-per-source = ${PER_SOURCE:-200}
${E2E_USER:+user = $E2E_USER}
${SECCOMP:+seccomp = $SECCOMP}
EOT
	echo "Authorised use only. Sessions are recorded." >"$WORK/banner"
}

broker_start() {
	[ -f "$WORK/otgated.conf" ] || conf_write
	e2e_own
	"$OTGATED" -D -f "$WORK/otgated.conf" >>"$WORK/otgated.log" 2>&1 &
	BROKER_PID=$!
	E2E_PIDS+=($BROKER_PID)
	wait_port 127.0.0.1 "$BROKER_PORT" || {
		echo "FAIL: otgated did not start:"; cat "$WORK/otgated.log"; exit 1; }
}

vssh() {	# USER [ssh args...]
	local user=$1
	shift
	timeout "${VSSH_TIMEOUT:-60}" ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile="$WORK/known_hosts" \
		-o LogLevel="${VSSH_LOGLEVEL:-ERROR}" -o ConnectTimeout=10 \
		${VSSH_OPTS:-} -i "${VKEY:-$WORK/alice_key}" -p "$BROKER_PORT" \
		"$user@127.0.0.1" "$@"
}

check() {	# WHAT CMD...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		FAILS=$((FAILS + 1))
	fi
}

audit_has() {	# EVENT [TEXT]
	grep "\"event\":\"$1\"" "$WORK/audit.log" | grep -q -- "${2:-}"
}

# audit_has, allowing 5 s for an event written after the client has gone: a
# login refused without a TOTP verdict (wrong key, unknown user, bad user name)
# is audited as auth.failure only when otgated sees the connection close
# (auth_finish). A TOTP or password failure is audited before the client gets
# its answer, a lockout with it, a grace expiry before the disconnect: those
# need no wait.
audit_wait() {	# EVENT [TEXT]
	local i
	for ((i = 0; i < 50; i++)); do
		audit_has "$@" && return 0
		sleep 0.1
	done
	return 1
}

e2e_finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "--- otgated.log (tail)"
		tail -n 40 "$WORK/otgated.log"
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# Drive an interactive ssh session through the broker on a pty with a
# tests/e2e/ptydrive.py script: pty_drive SCRIPTFILE KEY USER+ASSET [SSH OPTION...]
pty_drive() {
	local script=$1 key=$2 user=$3
	shift 3
	timeout 60 "$E2E_PY" "$TOP/tests/e2e/ptydrive.py" "$script" -- ssh -tt -F /dev/null \
		-o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR -i "$key" \
		"$@" -p "$BROKER_PORT" "$user@127.0.0.1"
}

# The ID of a session on ASSET once it relays (the first listed), within 10 s.
session_live() {	# ASSET
	local _ id
	for _ in $(seq 1 100); do
		id=$("$OTGATE" -f "$WORK/otgated.conf" sessions --active |
			awk -v a="$1" '$3 == a && $6 != "-" {print $1; exit}')
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.1
	done
	return 1
}
