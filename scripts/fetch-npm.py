#!/usr/bin/env python3
"""Fetches one file out of an npm package's tarball from the npm registry, after checking the
tarball against the pinned integrity (the registry's `dist.integrity`, sha512).

    fetch-npm.py NAME VERSION INTEGRITY FILE DEST_DIR

Used by scripts/test for axe-core; nothing downloads at test time.
"""
import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request

name, version, integrity, member, dest = sys.argv[1:6]
algorithm, _, expected = integrity.partition("-")
if algorithm != "sha512":
    sys.exit(f"fetch-npm.py: integrity must be sha512-..., got {integrity!r}")
url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
with urllib.request.urlopen(url, timeout=60) as response:
    tarball = response.read()
actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
if actual != expected:
    sys.exit(f"fetch-npm.py: {url} does not match the pinned integrity (got sha512-{actual})")
with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
    data = archive.extractfile(f"package/{member}").read()
os.makedirs(dest, exist_ok=True)
tmp = os.path.join(dest, member + ".part")
with open(tmp, "wb") as out:
    out.write(data)
os.replace(tmp, os.path.join(dest, member))
print(f"{name} {version}: {member} -> {dest}")
