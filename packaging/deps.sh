#!/bin/sh
# Install the Debian 12 packages that otgate's build, tests and demo need, when
# missing. Uses sudo when not root. Quiet when everything is there.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libssh-dev libssl-dev liboath-dev libevent-dev libcmocka-dev libpam0g-dev
libsodium-dev libsqlite3-dev libqrencode-dev libseccomp-dev libvterm-dev tzdata
openssh-client openssh-server oathtool sshpass pamtester python3 python3-paramiko logrotate
asciinema strace"
# `deps.sh deb`: also what `make deb` needs to build and check the package
[ "${1:-}" = deb ] && PKGS="$PKGS dpkg-dev debhelper lintian devscripts"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing (run as root: apt-get install$missing)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
