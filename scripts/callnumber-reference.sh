#!/usr/bin/env bash
# Compares our LC shelf order with Library::CallNumber::LC, Biblio::LCC and pycallnumber on the
# 20,771 LC call numbers of the sample TSV; prints the agreement figure; fails on a disagreement
# that crates/callnumber/tests/reference-exceptions.txt does not explain.
# See scripts/callnumber-reference.py for the method.
#
# Installs what is missing: the two Perl modules from Debian (needs root and apt), pycallnumber
# into a virtualenv ($CALLNUMBER_VENV, default /tmp/cnvenv). Extra arguments go to the .py script
# (e.g. --random-pairs 0, --show 100).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CALLNUMBER_VENV:-/tmp/cnvenv}"

if ! perl -MLibrary::CallNumber::LC -MBiblio::LCC -e 1 2>/dev/null; then
    echo "installing the Perl references (liblibrary-callnumber-lc-perl, libbiblio-lcc-perl)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblibrary-callnumber-lc-perl libbiblio-lcc-perl >&2
fi

if ! "$venv/bin/python" -c 'import pycallnumber' 2>/dev/null; then
    echo "installing pycallnumber 0.2.0 into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q pycallnumber==0.2.0 >&2
fi

cd "$root"
cargo build -q --release -p callnumber --example shelf_order
target_dir="${CARGO_TARGET_DIR:-$root/target}"
exec "$venv/bin/python" scripts/callnumber-reference.py \
    --keys-cmd "$target_dir/release/examples/shelf_order --scheme lc" "$@"
