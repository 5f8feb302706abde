#!/usr/bin/env bash
# What someone building on regain gets: package_test.sh BUILD_DIR CORPUS_DIR TMP_DIR
#  1. `cmake --install` into a fresh prefix: binaries, man pages, public headers only, the
#     shared library (SONAME, versioned symbols, internal symbols hidden), CMake package, .pc;
#  2. a consumer project (tests/consumer) built against it with find_package, running the
#     README's C++ example on the corpus edited pair (bytes equal to the CLI's output);
#  3. the same example built with pkg-config;
#  4. the .deb packages from CPack, unpacked with dpkg -x into a throw-away root and used
#     from there: `regain inspect`, `import regain`, and a pkg-config build.
set -euo pipefail
build=$(cd "$1" && pwd) corpus=$2 tmp=$3
src="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$tmp"
mkdir -p "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "--- $*"; }

edited=$corpus/edited-pair/edited_by_ai_editor.jpg
original=$corpus/edited-pair/original_iphone15promax.jpg
pixel=$corpus/jpeg/pixel6pro_ultrahdr_01.jpg
for f in "$edited" "$original" "$pixel"; do [ -f "$f" ] || fail "corpus file missing: $f"; done

# The README's "Use it from C++" example, as written.
awk '/^## Use it from C\+\+/{s=1} s && /^```cpp/{c=1; next} c && /^```/{exit} c{print}' "$src/README.md" >"$tmp/restore.cpp"
[ -s "$tmp/restore.cpp" ] || fail "README has no C++ example under '## Use it from C++'"
"$build/regain" process --img "$edited" --ref "$original" --out "$tmp/restored_cli.jpg" >/dev/null

step "1. cmake --install"
cmake --install "$build" --prefix "$tmp/inst" >"$tmp/install.log"
inst=$tmp/inst
for f in bin/regain bin/hdr-process share/man/man1/regain.1 share/man/man1/hdr-process.1 share/doc/regain/README.md \
         include/regain/process.h include/regain/export.h; do
  [ -f "$inst/$f" ] || fail "not installed: $f"
done
so=$( (ls "$inst"/lib*/libregain.so.0.1 2>/dev/null || true) | head -1)
[ -n "$so" ] || fail "libregain.so.0.1 not installed"
libdir=$(dirname "$so")
[ -L "$libdir/libregain.so" ] || fail "no libregain.so development link"
[ -f "$libdir/cmake/regain/regainConfig.cmake" ] && [ -f "$libdir/cmake/regain/regainConfigVersion.cmake" ] ||
  fail "CMake package files missing"
[ -f "$libdir/pkgconfig/regain.pc" ] || fail "regain.pc missing"
[ "$(find "$inst/include" -type f | grep -vc '/include/regain/')" = 0 ] || fail "files outside include/regain installed"
readelf -d "$so" | grep -q 'SONAME.*\[libregain.so.0.1\]' || fail "SONAME is not libregain.so.0.1"
nm -D --defined-only "$so" | c++filt >"$tmp/symbols.txt"
objdump -T "$so" >"$tmp/versions.txt"
grep -q 'regain::process_image' "$tmp/symbols.txt" || fail "process_image is not exported"
grep -q 'regain::read_jpegr' "$tmp/symbols.txt" || fail "read_jpegr is not exported"
if grep -qE 'regain::(parse_xmp|parse_mpf|isobmff::|heif::|service::UploadForm|cli::)' "$tmp/symbols.txt"; then
  fail "internal symbols exported: $(grep -E 'regain::(parse_xmp|parse_mpf|isobmff::|heif::|service::UploadForm|cli::)' "$tmp/symbols.txt" | head -3)"
fi
exported=$(grep -c ' regain::' "$tmp/symbols.txt" || true)
grep -q 'REGAIN_0_1' "$tmp/versions.txt" || fail "symbols are not versioned REGAIN_0_1"
echo "libregain.so.0.1: $exported regain:: symbols exported, version REGAIN_0_1"

step "2. consumer through find_package"
cmake -S "$src/tests/consumer" -B "$tmp/c1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$inst" \
  -DRESTORE_SOURCE="$tmp/restore.cpp" >"$tmp/c1.log" || { cat "$tmp/c1.log"; fail "consumer configure"; }
cmake --build "$tmp/c1" >>"$tmp/c1.log" 2>&1 || { tail -40 "$tmp/c1.log"; fail "consumer build (a public header including an internal one, or a hidden symbol?)"; }
"$tmp/c1/restore" "$edited" "$original" "$tmp/restored_cmake.jpg"
cmp "$tmp/restored_cmake.jpg" "$tmp/restored_cli.jpg" || fail "README example's output differs from the CLI's"
"$tmp/c1/check" "$pixel" | tee "$tmp/check.txt"
grep -q '^4080x3072 ' "$tmp/check.txt" || fail "check: unexpected decode size"

step "3. consumer through pkg-config"
flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs regain)
echo "pkg-config: $flags"
c++ -std=c++20 -O1 "$tmp/restore.cpp" $flags -o "$tmp/restore_pc"
LD_LIBRARY_PATH="$libdir" "$tmp/restore_pc" "$edited" "$original" "$tmp/restored_pc.jpg"
cmp "$tmp/restored_pc.jpg" "$tmp/restored_cli.jpg" || fail "pkg-config build's output differs"

step "4. .deb packages"
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) || { tail -30 "$tmp/cpack.log"; fail "cpack"; }
root=$tmp/root
for p in regain libregain-dev python3-regain; do
  deb=$( (ls "$tmp/deb/${p}_"*.deb 2>/dev/null || true) | head -1)
  [ -n "$deb" ] || fail "no $p package"
  echo "$(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
  dpkg -x "$deb" "$root"
done
"$root/usr/bin/regain" inspect "$pixel" >"$tmp/inspect_deb.txt" || fail "regain from the .deb failed"
grep -q '^gain-map image: 1020x768' "$tmp/inspect_deb.txt" || fail "regain inspect from the .deb shows no gain map"
"$root/usr/bin/hdr-process" --help >/dev/null || fail "hdr-process from the .deb failed"
PYTHONPATH="$root/usr/lib/python3/dist-packages" /usr/bin/python3 -c \
  'import regain, sys; i = regain.inspect(sys.argv[1]); assert i["gain_map"], i; print("python3-regain: gain map", i["gain_map"]["width"], "x", i["gain_map"]["height"])' \
  "$pixel" || fail "import regain from the .deb failed"
debpc=$( (ls "$root"/usr/lib*/pkgconfig/regain.pc "$root"/usr/lib/*/pkgconfig/regain.pc 2>/dev/null || true) | head -1)
[ -n "$debpc" ] || fail "regain.pc not in libregain-dev"
c++ -std=c++20 -O1 "$src/tests/consumer/check.cpp" $(PKG_CONFIG_PATH=$(dirname "$debpc") pkg-config --cflags --libs regain) \
  -o "$tmp/check_deb"
LD_LIBRARY_PATH=$(dirname "$(dirname "$debpc")") "$tmp/check_deb" "$pixel" >/dev/null || fail "check built against the .deb failed"
echo "package: all checks passed"
