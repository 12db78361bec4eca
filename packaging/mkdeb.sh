#!/bin/sh
# Build the otgate Debian package out of the tree (`make deb`): stage a copy of
# the sources under build/deb/ with packaging/debian as debian/ and the unit,
# sysusers, tmpfiles and logrotate files from packaging/ beside it, run
# dpkg-buildpackage there, check the result with lintian (errors fail the
# build) and leave the .deb in build/. The top of the tree stays clean.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
code=$(sed -n 's/^#define OTGATE_VERSION "\(.*\)"$/\1/p' common/common.h)
if [ "$version" != "$code" ]; then
	echo "mkdeb: packaging/debian/changelog says $version, common/common.h says $code" >&2
	exit 1
fi

stage=build/deb
src=$stage/otgate-$version
rm -rf "$stage"
mkdir -p "$src"
tar --exclude=./build --exclude=./.git --exclude=./demo -cf - . | tar -xf - -C "$src"
rm -rf "$src/debian"
cp -r packaging/debian "$src/debian"
for f in service sysusers tmpfiles logrotate; do
	cp "packaging/otgate.$f" "$src/debian/otgate.$f"
done

(cd "$src" && dpkg-buildpackage -b -us -uc) >"$stage/build.log" 2>&1 || {
	echo "mkdeb: dpkg-buildpackage failed; the end of $stage/build.log:" >&2
	tail -n 40 "$stage/build.log" >&2
	exit 1
}
deb=$(ls "$stage"/otgate_"$version"_*.deb)
lintian --fail-on error --tag-display-limit 0 "$deb" >"$stage/lintian.log" 2>&1 || {
	echo "mkdeb: lintian reports errors in $deb:" >&2
	cat "$stage/lintian.log" >&2
	exit 1
}
mv "$deb" build/
echo "mkdeb: $top/build/$(basename "$deb") (lintian: no errors, $(grep -c '^W:' "$stage/lintian.log" || true) warnings in $stage/lintian.log)"
