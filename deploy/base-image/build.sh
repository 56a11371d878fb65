#!/usr/bin/env bash
# Builds a small Java base image for `berth package --base-image` offline, from this machine's own
# parts: a jlink'ed runtime of a local JDK plus the host libraries that ldd lists for it and for
# ONNX Runtime's native library, packed with umoci. Nothing is downloaded (no Docker Hub).
#
#   deploy/base-image/build.sh [OUT_DIR]        # default OUT_DIR: ./base-image
#
# Writes OUT_DIR/oci (an OCI layout, tag "base") and OUT_DIR/base.tar (a docker-archive, which
# `berth package --base-image tar:OUT_DIR/base.tar` reads). Needs a JDK 21+ with jlink (one with
# jmods, or 24+), ldd, umoci and skopeo (Debian: apt-get install umoci skopeo). Settings by environment:
#   BERTH_JDK        the JDK to link from (default: $JAVA_HOME, else the newest under /usr/lib/jvm)
#   BERTH_ORT_JAR    the onnxruntime jar whose native library the image must run
#                    (default: cli/target/lib/onnxruntime-*.jar of this checkout)
#   BERTH_IMAGE_NAME the name inside base.tar (default: berth/base:latest)
set -euo pipefail

out=$(realpath -m "${1:-base-image}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
modules="java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.unsupported,jdk.management,jdk.zipfs,java.instrument,jdk.crypto.ec,java.desktop"

fail() { echo "build.sh: $*" >&2; exit 1; }
for tool in umoci skopeo ldd; do
  command -v "$tool" >/dev/null || fail "needs $tool (Debian: apt-get install umoci skopeo)"
done

# the JDK's feature version from its release file (berth needs 21+; jlink links without jmods from 24 on)
feature() { sed -nE 's/^JAVA_VERSION="?([0-9]+).*/\1/p' "$1/release" 2>/dev/null | head -1; }
linkable() { local v; v=$(feature "$1"); [ -x "$1/bin/jlink" ] && [ "${v:-0}" -ge 21 ] && { [ -d "$1/jmods" ] || [ "$v" -ge 24 ]; }; }
jdk="${BERTH_JDK:-${JAVA_HOME:-}}"
if [ -z "$jdk" ] || ! linkable "$jdk"; then
  jdk=""
  for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -r); do
    if linkable "${candidate%/}"; then jdk="${candidate%/}"; break; fi
  done
fi
[ -n "$jdk" ] || fail "no JDK 21+ whose jlink can link (jmods, or JDK 24+); set BERTH_JDK"

ort_jar="${BERTH_ORT_JAR:-$(ls "$root"/cli/target/lib/onnxruntime-[0-9]*.jar 2>/dev/null | head -1 || true)}"
[ -f "$ort_jar" ] || fail "no onnxruntime jar: build berth once (./berth --help) or set BERTH_ORT_JAR"

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-base-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs/opt" "$work/ort"
echo "build.sh: linking a runtime from $jdk"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --output "$rootfs/opt/java"

(cd "$work/ort" && "$jdk/bin/jar" xf "$ort_jar" ai/onnxruntime/native/linux-x64/libonnxruntime.so)
# the libraries the runtime and ONNX Runtime load, copied from this machine (ldd exits non-zero
# for a library that lists "not found"; its output is complete all the same)
libs=$( { ldd "$rootfs/opt/java/bin/java" "$rootfs/opt/java/lib/server/libjvm.so" "$rootfs"/opt/java/lib/*.so \
            "$work/ort/ai/onnxruntime/native/linux-x64/libonnxruntime.so" || true; } \
        | awk -v work="$work" '$2 == "=>" && $3 ~ /^\// && index($3, work) != 1 { print $3 } $1 ~ /^\/lib/ && $1 !~ /:$/ { print $1 }' | sort -u)
for lib in $libs /lib/x86_64-linux-gnu/libnss_files.so.2; do
  [ -e "$lib" ] || continue
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
mkdir -p "$rootfs/etc" "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"

rm -rf "$work/out" && mkdir -p "$work/out"
image="$work/out/oci:base"
umoci init --layout "$work/out/oci"
umoci new --image "$image"
umoci unpack --image "$image" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$image" "$work/bundle"
umoci config --image "$image" --config.env PATH=/opt/java/bin:/usr/bin:/bin --config.env JAVA_HOME=/opt/java \
    --config.workingdir / --author "berth deploy/base-image/build.sh"
umoci gc --layout "$work/out/oci"
skopeo copy -q "oci:$image" "docker-archive:$work/out/base.tar:${BERTH_IMAGE_NAME:-berth/base:latest}"

mkdir -p "$(dirname "$out")"
rm -rf "$out"
mv "$work/out" "$out"
echo "build.sh: wrote $out/base.tar (berth package ... --base-image tar:$out/base.tar) and the OCI layout $out/oci"
