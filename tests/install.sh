#!/usr/bin/env bash
# install.sh - what `make install` delivers, used as a user would: installs
# into a scratch DESTDIR, then builds the embedding example of docs/udf.md
# (embed.c) with `pkg-config --cflags --libs sluice` against the installed
# libsluice and runs it (SQL, a C function of the program, a file source, an
# extension loaded into the library's engine, an error); builds the how-to's
# extension against the installed header and loads it into the installed
# program; checks that the library exports exactly the functions sluice.h
# declares, that every version number agrees (AC_INIT's), that the same
# example builds against the build tree (sluice-uninstalled.pc), and that
# `make uninstall` leaves nothing behind.
#
# Environment (make check sets it): MAKE, SANITIZE_FLAGS (the sanitizers the
# library was built with: a program linking it needs them too),
# PACKAGE_VERSION, CC.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top_srcdir=${top_srcdir:-$here/..}
top_builddir=${top_builddir:-$here/..}
make=${MAKE:-make}
cc="${CC:-cc} ${SANITIZE_FLAGS:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
cd "$top_builddir" || exit 1

# ---- make install ----------------------------------------------------------------
if ! $make install DESTDIR="$root" > "$work/install.log" 2>&1; then
  bad "make install DESTDIR=$root failed:"$'\n'"$(tail -n 30 "$work/install.log")"
  finish install
fi
ok
pcs=$(find "$root" -name sluice.pc)
check "one sluice.pc installed" 1 "$(printf '%s\n' "$pcs" | grep -c .)"
pcdir=$(dirname "$(printf '%s\n' "$pcs" | head -n 1)")
libdir=$(dirname "$pcdir")
sluice_bin=$(find "$root" -path '*/bin/sluice' -type f | head -n 1)
[ -x "$sluice_bin" ] && ok || bad "no bin/sluice installed"
# The installed .pc names the configured prefix; PKG_CONFIG_SYSROOT_DIR maps
# it into DESTDIR (-I and -L flags get $root in front).
pc() { PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$pcdir pkg-config "$@"; }
cflags=$(pc --cflags sluice) && libs=$(pc --libs sluice) || bad "pkg-config on the installed sluice.pc failed"
check "Libs" "-L$libdir -lsluice" "$(echo $libs)"
incdir=$(echo $cflags)
incdir=${incdir#-I}
[ -f "$incdir/sluice.h" ] && ok || bad "pkg-config --cflags sluice: no sluice.h in '$cflags'"
soname=$(readelf -d "$libdir/libsluice.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case "$soname" in libsluice.so.[0-9]*) [ -e "$libdir/$soname" ] && ok || bad "$libdir/$soname missing" ;; *) bad "libsluice.so soname: '$soname'" ;; esac

# ---- the library's interface: exactly the functions of sluice.h -----------------------
# shellcheck disable=SC2086
declared=$(printf '#include <sluice.h>\n' | $cc -E -P $cflags - 2> "$work/cpp.err" | grep -v '^ *typedef' |
  grep -o '[ *]sluice_[a-z0-9_]*(' | tr -d ' *(' | sort -u)
exported=$(nm -D --defined-only "$libdir/libsluice.so" | awk '$3 !~ /^_/ { print $3 }' | sort -u)
[ "$(printf '%s\n' "$declared" | grep -c .)" -ge 30 ] && ok || bad "sluice.h declares too few functions: $declared $(cat "$work/cpp.err")"
check "exported = declared" "$declared" "$exported"

# ---- one version: AC_INIT's -----------------------------------------------------------
version=$(pc --modversion sluice)
[ -z "${PACKAGE_VERSION:-}" ] || check "sluice.pc version" "$PACKAGE_VERSION" "$version"
printf '#include <stdio.h>\n#include <sluice.h>\nint main(void) { printf("%%s %%d\\n", SLUICE_VERSION, SLUICE_VERSION_NUMBER); return 0; }\n' > "$work/version.c"
# shellcheck disable=SC2086
$cc $cflags -o "$work/version" "$work/version.c" 2>&1 && ok || bad "version.c does not compile"
IFS=. read -r major minor patch <<< "$version"
check "SLUICE_VERSION" "$version $((major * 1000000 + minor * 1000 + patch))" "$("$work/version")"
check "sluice --version" "sluice $version" "$("$sluice_bin" --version)"

# ---- the embedding example of docs/udf.md, against the installed library ---------------
awk '/`embed.c`/ { want = 1 } want && /^```c$/ { on = 1; next } on && /^```$/ { exit } on' \
  "$top_srcdir/docs/udf.md" > "$work/embed.c"
grep -q sluice_open "$work/embed.c" && ok || bad "no embed.c in docs/udf.md"
# shellcheck disable=SC2086
if $cc -o "$work/embed" "$work/embed.c" $cflags $libs 2> "$work/cc.err"; then
  ok
  readelf -d "$work/embed" | grep -q "NEEDED.*\[$soname\]" && ok || bad "embed is not linked with $soname"
  embed() { LD_LIBRARY_PATH=$libdir "$work/embed" "$@" 2>&1; }
  check "embed: a query" "answer=42 name=SLUICE" "$(embed "SELECT twice(21) AS answer, upper('sluice') AS name")"
  printf '{"x":1}\n{"x":2}\n{"x":3}\n' > "$work/in.jsonl"
  check "embed: a file source" $'x=2 y=4\nx=3 y=6' \
    "$(embed "SELECT x, twice(x) AS y FROM file('$work/in.jsonl') WHERE x > 1")"
  check "embed: an extension" "km=5833.5" \
    "$(embed "LOAD '$top_builddir/udf/libgeo.so'; SELECT round(haversine(49.0097, 2.5479, 40.6413, -73.7781), 1) AS km")"
  out=$(LD_LIBRARY_PATH=$libdir "$work/embed" "SELECT 1 AS one" "SELECT nosuch(1)" 2> "$work/embed.err")
  check "embed: an error (exit)" 1 $?
  check "embed: rows before the error" "one=1" "$out"
  check "embed: the error" "embed: 1:8: no such function: nosuch" "$(cat "$work/embed.err")"
else
  bad "embed.c does not build against the installed sluice: $(cat "$work/cc.err")"
fi

# ---- the how-to's extension, against the installed header, in the installed program ------
awk '/^```c$/ && !done { on = 1; next } /^```$/ && on { on = 0; done = 1 } on' "$top_srcdir/docs/udf.md" > "$work/hello.c"
# shellcheck disable=SC2086
if $cc -shared -fPIC $cflags -o "$work/libhello.so" "$work/hello.c" 2> "$work/cc.err"; then
  ok
  check "how-to in the installed sluice" '{"g":"hello, world"}' \
    "$("$sluice_bin" -e "LOAD '$work/libhello.so'; SELECT greet('world') AS g;" 2>&1)"
else
  bad "hello.c does not build against the installed sluice.h: $(cat "$work/cc.err")"
fi

# ---- the same example against the build tree ---------------------------------------------
ucflags=$(PKG_CONFIG_PATH=$top_builddir pkg-config --cflags --libs sluice)
# shellcheck disable=SC2086
if $cc -o "$work/embed-uninstalled" "$work/embed.c" $ucflags 2> "$work/cc.err"; then
  ok
  check "embed against the build tree" "answer=42" \
    "$(LD_LIBRARY_PATH=$top_builddir/.libs "$work/embed-uninstalled" "SELECT twice(21) AS answer" 2>&1)"
else
  bad "embed.c does not build with sluice-uninstalled.pc ($ucflags): $(cat "$work/cc.err")"
fi

# ---- make uninstall ------------------------------------------------------------------------
$make uninstall DESTDIR="$root" > "$work/uninstall.log" 2>&1 && ok || bad "make uninstall failed: $(tail -n 20 "$work/uninstall.log")"
check "nothing left after uninstall" "" "$(find "$root" ! -type d)"

finish install
