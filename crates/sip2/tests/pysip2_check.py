"""Decodes SIP2 frames with pysip2 (0.1.0), the strict SIP2 2.00 codec, and reports every complaint.

Input file: one frame per line, `ENCODING<TAB>COMMAND<TAB>SEQUENCE<TAB>HEX`. A frame passes when
pysip2.decode_message accepts it, the decoded message is of the expected command, and the
sequence number pysip2 reads is the one we wrote. Prints "ok N" or the failures and exits 1.
"""
import sys

import pysip2
from pysip2.models import spec_for_type

failures = []
count = 0
with open(sys.argv[1], encoding="ascii") as fh:
    for line in fh:
        encoding, command, sequence, frame_hex = line.rstrip("\n").split("\t")
        frame = bytes.fromhex(frame_hex)
        count += 1
        try:
            decoded = pysip2.decode_message(frame, encoding=encoding)
        except Exception as exc:  # every pysip2 error is a failure of ours
            failures.append(f"{type(exc).__name__}: {exc}: {frame!r}")
            continue
        got = spec_for_type(type(decoded.message)).command_id
        if got != command:
            failures.append(f"decoded as {got}, expected {command}: {frame!r}")
        want_seq = None if sequence == "-" else int(sequence)
        if decoded.sequence_number != want_seq:
            failures.append(f"sequence {decoded.sequence_number}, expected {want_seq}: {frame!r}")

if failures:
    print("\n".join(failures))
    print(f"{len(failures)} of {count} frames refused by pysip2")
    sys.exit(1)
print(f"ok {count}")
