"""Hashing for append-only ledgers: canonical JSON, chained entry hashes and Merkle trees.

Kept free of Django and of domain imports so that the same rules can be restated in a short
standalone script (docs/verify_certificate.py) with the Python standard library alone.

- canonical JSON: keys sorted, no spaces, ASCII only;
- entry hash: SHA-256 of the canonical JSON of the entry's fields, which include the hash of the
  account's previous entry (a chain per account);
- Merkle tree: leaf = SHA-256(0x00 || entry hash), node = SHA-256(0x01 || left || right); an odd
  node at the end of a level is carried up unchanged (the 0x00/0x01 prefixes keep a leaf from
  posing as a node).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(fields: Mapping[str, Any]) -> str:
    """The hash of one entry; `fields` must include `prev_hash`."""
    return sha256_hex(canonical_json(dict(fields)))


def _leaf(entry_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(entry_hashes: Sequence[str]) -> list[list[bytes]]:
    if not entry_hashes:
        raise ValueError("a Merkle tree needs at least one leaf")
    levels = [[_leaf(h) for h in entry_hashes]]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(parents)
    return levels


def merkle_root(entry_hashes: Sequence[str]) -> str:
    return _levels(entry_hashes)[-1][0].hex()


def merkle_proof(entry_hashes: Sequence[str], index: int) -> list[dict[str, str]]:
    """Sibling hashes from leaf `index` up to the root, each with the side it sits on."""
    proof = []
    for level in _levels(entry_hashes)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(
                {"side": "left" if sibling < index else "right", "hash": level[sibling].hex()}
            )
        index //= 2
    return proof


def root_from_proof(entry_hash_hex: str, proof: Sequence[Mapping[str, str]]) -> str:
    node = _leaf(entry_hash_hex)
    for step in proof:
        sibling = bytes.fromhex(step["hash"])
        node = _node(sibling, node) if step["side"] == "left" else _node(node, sibling)
    return node.hex()
