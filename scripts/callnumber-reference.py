#!/usr/bin/env python3
"""Compare our LC shelf order with three reference implementations nobody here wrote.

The references are Library::CallNumber::LC and Biblio::LCC (Perl, Debian packages
liblibrary-callnumber-lc-perl and libbiblio-lcc-perl) and pycallnumber (PyPI). Each turns a
call number into a string whose plain string order is its shelf order.

We take the LC call numbers (tag 050, `display` column) of the sample TSV, key them with
`crates/callnumber/examples/shelf_order.rs`, sort them by our key, and look at pairs of call
numbers: every pair of neighbours in our order, and a fixed-seed sample of random pairs. Where
all three references normalise both call numbers and agree on a strict order, we must agree
too. A disagreement fails the run unless the pair is listed in the exceptions file, under a
comment that says what we do and why (LC's own shelflisting rules decide).

Run through scripts/callnumber-reference.sh, which installs the references when missing and
builds the example; or directly, with pycallnumber importable:
    python3 scripts/callnumber-reference.py --keys-cmd 'path/to/shelf_order --scheme lc'
"""

import argparse
import os
import random
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TSV = os.path.join(ROOT, "..", "shared", "data", "marc", "callnumbers", "lc-sample-callnumbers.tsv")
# The first byte of our key for an LC call number without a prefix (see shelf_order.rs).
LC_KIND = b"\x04"
DEFAULT_EXCEPTIONS = os.path.join(ROOT, "crates", "callnumber", "tests", "reference-exceptions.txt")

PERL_LCLC = r"""
use Library::CallNumber::LC;
while (<STDIN>) {
    chomp;
    my $n = Library::CallNumber::LC->new($_)->normalize;
    print defined $n ? $n : "", "\n";
}
"""

PERL_BIBLIO = r"""
use Biblio::LCC;
while (<STDIN>) {
    chomp;
    my $n = eval { Biblio::LCC->normalize($_) };
    print defined $n ? $n : "", "\n";
}
"""


def read_lc_values(path):
    values = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        tag_col, display_col = header.index("tag"), header.index("display")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > display_col and cols[tag_col] == "050":
                values.append(cols[display_col])
    return values


def run_lines(cmd, values):
    """Feeds values one a line to cmd, returns its output lines (one per value)."""
    out = subprocess.run(cmd, input="\n".join(values) + "\n", capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")[: len(values)]
    if len(lines) != len(values):
        sys.exit(f"{cmd[0]}: expected {len(values)} lines, got {len(lines)}")
    return lines


def perl_norms(program, values):
    return [n if n.strip() else None for n in run_lines(["perl", "-e", program], values)]


def pycallnumber_norms(values):
    import pycallnumber
    from pycallnumber.units import LC

    norms = []
    for v in values:
        try:
            norms.append(pycallnumber.callnumber(v, unittypes=[LC]).for_sort())
        except Exception:  # noqa: BLE001 - any failure means "no opinion"
            norms.append(None)
    return norms


def our_keys(cmd, values):
    keys = []
    for line, value in zip(run_lines(cmd, values), values):
        hex_key, _, text = line.partition("\t")
        if text != value:
            sys.exit(f"shelf_order printed {text!r} for {value!r}")
        # The shelf part: everything before the 0x00 that precedes the text as written.
        keys.append(bytes.fromhex(hex_key).split(b"\x00", 1)[0])
    return keys


def read_exceptions(path):
    """Pairs (unordered) listed in the exceptions file, each with the comment above it."""
    exceptions = {}
    comment = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                if not comment or comment[-1] is not None:
                    comment.append(line.lstrip("# "))
                else:
                    comment = [line.lstrip("# ")]
                continue
            if not line.strip():
                if comment and comment[-1] is not None:
                    comment.append(None)  # a blank line ends the comment block's text
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                sys.exit(f"{path}:{lineno}: expected two call numbers separated by a tab")
            reason = " ".join(c for c in comment if c)
            if not reason:
                sys.exit(f"{path}:{lineno}: an exception needs a comment above it saying why")
            exceptions[frozenset(parts)] = reason
    return exceptions


def sign(a, b):
    return (a > b) - (a < b)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tsv", default=DEFAULT_TSV)
    p.add_argument("--exceptions", default=DEFAULT_EXCEPTIONS)
    p.add_argument("--keys-cmd", required=True, help="command printing 'hexkey<TAB>line' for stdin lines")
    p.add_argument("--random-pairs", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--show", type=int, default=40, help="how many unexplained disagreements to print")
    args = p.parse_args()

    values = read_lc_values(args.tsv)
    print(f"{len(values)} LC call numbers from {os.path.relpath(args.tsv)}")
    ours = our_keys(shlex.split(args.keys_cmd), values)
    refs = {
        "Library::CallNumber::LC": perl_norms(PERL_LCLC, values),
        "Biblio::LCC": perl_norms(PERL_BIBLIO, values),
        "pycallnumber": pycallnumber_norms(values),
    }
    for name, norms in refs.items():
        print(f"  {name}: normalises {sum(n is not None for n in norms)}")

    order = sorted(range(len(values)), key=lambda i: (ours[i], values[i]))
    pairs = [(order[k], order[k + 1]) for k in range(len(order) - 1)]
    rng = random.Random(args.seed)
    pairs += [(rng.randrange(len(values)), rng.randrange(len(values))) for _ in range(args.random_pairs)]

    exceptions = read_exceptions(args.exceptions)
    used = set()
    seen = set()
    agreed = compared = excused = 0
    # [pairs we read as LC that the reference orders strictly, of which we agree]
    per_ref = {name: [0, 0] for name in refs}
    unexplained = []
    for i, j in pairs:
        a, b = values[i], values[j]
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        mine = sign(ours[i], ours[j])
        both_lc = ours[i][:1] == LC_KIND and ours[j][:1] == LC_KIND
        verdicts = []
        for name, norms in refs.items():
            if norms[i] is None or norms[j] is None:
                verdicts.append(None)
                continue
            v = sign(norms[i], norms[j])
            verdicts.append(v)
            if v != 0 and both_lc:
                per_ref[name][0] += 1
                per_ref[name][1] += v == mine
        if None in verdicts or verdicts[0] == 0 or len(set(verdicts)) != 1:
            continue
        compared += 1
        if mine == verdicts[0]:
            agreed += 1
            continue
        key = frozenset((a, b))
        if key in exceptions:
            excused += 1
            used.add(key)
            continue
        first, second = (a, b) if verdicts[0] < 0 else (b, a)
        unexplained.append((first, second))

    print(f"pairs looked at: {len(seen)} ({len(order) - 1} neighbours in our order, {args.random_pairs} random, seed {args.seed})")
    for name, (n, ok) in per_ref.items():
        print(f"  on pairs we read as LC, we agree with {name} alone on {ok} of {n} ({100.0 * ok / max(n, 1):.2f}%)")
    print(
        f"agreement where all three references agree: {agreed} of {compared} pairs "
        f"({100.0 * agreed / max(compared, 1):.3f}%); {excused} listed exceptions, {len(unexplained)} unexplained"
    )
    stale = set(exceptions) - used
    if stale:
        print(f"note: {len(stale)} listed exceptions did not come up in this run")
    if unexplained:
        print("unexplained disagreements (the references put the first before the second; we do not):")
        for first, second in unexplained[: args.show]:
            print(f"  {first}\t{second}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
