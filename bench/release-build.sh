# Sourced by the bench/*.sh wrappers, with $here set to bench/: builds
# yubin in build-release/ (release mode, configured the first time) unless
# YUBIN_BIN names the binary to measure.
repo="$(dirname "$here")"
if [ -z "${YUBIN_BIN:-}" ]; then
	[ -f "$repo/build-release/build.ninja" ] ||
		meson setup "$repo/build-release" "$repo" --buildtype=release >/dev/null
	ninja -C "$repo/build-release" >/dev/null
fi
