"""Compares a MARC file Shelfmark exported with the file it imported, as pymarc reads them.

usage: compare_with_pymarc.py INPUT EXPORTED [--xml] [--items TAG]

INPUT is read with pymarc (MARC-8 converted by pymarc itself), EXPORTED too (as MARCXML with
--xml). Records must pair up in order and be equal field by field: same tags in the same order,
same indicators, same subfields; text compared in NFC. With --items TAG, the TAG fields (the
items) are compared as a multiset of the subfields Shelfmark keeps for an item, since Shelfmark
stores items as rows and writes them back at the end of the record.
Prints "N records equal" (and "M items equal") or the first differences, exiting 1.
"""
import sys
import unicodedata
from decimal import Decimal, InvalidOperation

import pymarc

ITEM_CODES = set("abcdopyvgzx3" "8" "1" "4" "0" "7")


# MARC-8's double diacritics (ligature, double tilde) come in two halves. LC's code table maps
# the first half to the combining double mark (U+0361, U+0360) and gives U+FE20-FE23 only as
# alternates; Shelfmark follows the main mapping, as YAZ does, and pymarc the alternates.
DOUBLE_DIACRITIC_HALVES = str.maketrans({"\ufe20": "\u0361", "\ufe21": None, "\ufe22": "\u0360", "\ufe23": None})


def nfc(s):
    return unicodedata.normalize("NFC", s.translate(DOUBLE_DIACRITIC_HALVES))


def read(path, xml):
    if xml:
        return pymarc.parse_xml_to_array(path)
    out = []
    with open(path, "rb") as fh:
        reader = pymarc.MARCReader(fh, to_unicode=True, permissive=True)
        for rec in reader:
            if rec is None:
                raise SystemExit(f"{path}: pymarc could not read a record: {reader.current_exception!r}")
            out.append(rec)
    return out


def field_key(f):
    if f.is_control_field():
        # A subfield delimiter just before a control field's end carries nothing; Shelfmark's
        # reader drops it (LC's record 16763 of the sample has an 001 ending so). pymarc keeps it.
        return (f.tag, nfc(f.data.removesuffix("\x1f")))
    return (f.tag, f.indicators[0], f.indicators[1], tuple((s.code, nfc(s.value)) for s in f.subfields))


def money(v):
    try:
        return str(Decimal(v.strip().lstrip("$")).quantize(Decimal("0.01")))
    except InvalidOperation:
        return v


def item_key(f):
    subs = {}
    for s in f.subfields:
        if s.code in ITEM_CODES and s.code not in subs and s.value.strip():
            subs[s.code] = nfc(s.value.strip())
    price = subs.pop("v", None) or subs.pop("g", None)
    subs.pop("g", None)
    if price is not None:
        subs["price"] = money(price)
    for flag in "140":
        if subs.get(flag) == "0":
            del subs[flag]
    if "7" in subs and not subs["7"].startswith("-"):
        del subs["7"]  # a positive not-for-loan value is a property of the item type in Shelfmark
    subs.setdefault("b", subs.get("a"))  # holding branch defaults to home branch
    return tuple(sorted(subs.items()))


def leader_key(rec):
    ldr = str(rec.leader)
    return ldr[5:9] + ldr[17:20]


def main():
    args = sys.argv[1:]
    xml = "--xml" in args
    items_tag = None
    if "--items" in args:
        items_tag = args[args.index("--items") + 1]
    inp, exp = read(args[0], args[0].endswith((".xml", ".marcxml"))), read(args[1], xml)
    problems = []
    if len(inp) != len(exp):
        problems.append(f"{len(inp)} records in, {len(exp)} out")
    items_equal = 0
    for n, (a, b) in enumerate(zip(inp, exp), 1):
        if leader_key(a) != leader_key(b):
            problems.append(f"record {n}: leader {str(a.leader)!r} != {str(b.leader)!r}")
        fa = [field_key(f) for f in a.fields if f.tag != items_tag]
        fb = [field_key(f) for f in b.fields if f.tag != items_tag]
        if fa != fb:
            for x, y in zip(fa, fb):
                if x != y:
                    problems.append(f"record {n}: {x!r} != {y!r}")
                    break
            else:
                problems.append(f"record {n}: {len(fa)} fields in, {len(fb)} out")
        if items_tag:
            ia = sorted(item_key(f) for f in a.get_fields(items_tag))
            ib = sorted(item_key(f) for f in b.get_fields(items_tag))
            if ia != ib:
                problems.append(f"record {n}: items differ:\n  in  {ia}\n  out {ib}")
            else:
                items_equal += len(ia)
        if len(problems) > 10:
            break
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{len(inp)} records equal")
    if items_tag:
        print(f"{items_equal} items equal")


if __name__ == "__main__":
    main()
