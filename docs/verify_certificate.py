#!/usr/bin/env python3
"""Verify a oneforone certificate yourself, with the Python standard library alone.

    python verify_certificate.py https://host/verify/C-XXXXXXXXXX
    python verify_certificate.py saved-certificate.json --roots roots.json

It reads the certificate's JSON (/verify/<code>.json) and the published daily ledger roots
(/ledger/roots.json of the same host, or --roots), then checks that the snapshot hashes to its
snapshot_sha256, that the ledger entry records this certificate's issue with that hash, that the
entry's fields hash to its entry hash, that the sibling path leads to the Merkle root published
for the entry's day, and that the certificate was not withdrawn. Exit status 0 if all pass.
Rules as in src/oneforone/core/ledger.py: SHA-256 of canonical JSON (sorted keys, no spaces,
ASCII only); Merkle leaf = SHA-256(0x00 || entry hash), node = SHA-256(0x01 || left || right).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.parse
import urllib.request

WEB = ("http://", "https://")


def digest(value: object) -> str:
    """SHA-256 (hex) of the canonical JSON of a value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def load(source: str) -> dict:
    if source.startswith(WEB):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) only
            return json.load(response)
    with open(source, encoding="utf-8") as file:
        return json.load(file)


def root_from_proof(entry_hash: str, path: list[dict]) -> str:
    node = hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()
    for step in path:
        sibling = bytes.fromhex(step["hash"])
        pair = sibling + node if step["side"] == "left" else node + sibling
        node = hashlib.sha256(b"\x01" + pair).digest()
    return node.hex()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a oneforone certificate.")
    parser.add_argument("certificate", help="https://host/verify/C-..., or a saved JSON file")
    parser.add_argument("--roots", help="the roots feed, URL or file (default: the host's)")
    args = parser.parse_args(argv)
    source = args.certificate
    if source.startswith(WEB) and not source.endswith(".json"):
        source = source.rstrip("/") + ".json"
    roots_source = args.roots
    if roots_source is None:
        if not source.startswith(WEB):
            parser.error("a saved certificate needs --roots (a URL or a saved roots.json)")
        parts = urllib.parse.urlsplit(source)
        roots_source = f"{parts.scheme}://{parts.netloc}/ledger/roots.json"

    results = []

    def check(ok: bool, what: str) -> None:
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'}  {what}")

    certificate = load(source)
    code = certificate["code"]
    print(f"certificate {code}, version {certificate['version']}")
    snapshot_hash = digest(certificate["snapshot"])
    check(snapshot_hash == certificate["snapshot_sha256"], f"snapshot SHA-256 {snapshot_hash}")

    entry = certificate.get("ledger_entry") or {}
    fields = entry.get("fields") or {}
    data = fields.get("data") or {}
    supersedes = (certificate.get("supersedes") or {}).get("code")
    check(
        fields.get("kind") == "certificate.issued"
        and fields.get("reference") == f"certificate:{code}"
        and data.get("code") == code
        and data.get("version") == certificate["version"]
        and data.get("supersedes") == supersedes
        and data.get("snapshot_sha256") == snapshot_hash,
        f"ledger entry #{entry.get('id')} records the issue of {code} with that snapshot hash",
    )
    entry_hash = digest(fields)
    check(entry_hash == entry.get("entry_hash"), f"entry hash {entry_hash}")

    proof = entry.get("proof")
    if proof is None:
        check(False, f"sealed: not until the root of {entry.get('sealed_in_root_of')} is out")
    else:
        root = root_from_proof(entry_hash, proof["proof"])
        check(root == proof["root"], f"path from leaf {proof['leaf_index']} leads to root {root}")
        published = {r["day"]: r["root"] for r in load(roots_source)["roots"]}
        check(published.get(proof["day"]) == root, f"{roots_source} has it for {proof['day']}")

    withdrawal = certificate.get("withdrawal")
    newer = (certificate.get("superseded_by") or {}).get("url")
    if withdrawal:
        reason = f"withdrawn {withdrawal['withdrawn_at'][:10]} because {withdrawal['reason']}"
        check(False, f"in force: no, {reason}" + (f"; superseded by {newer}" if newer else ""))
    else:
        check(True, "in force: not withdrawn")

    print("VERIFIED" if all(results) else "NOT VERIFIED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
