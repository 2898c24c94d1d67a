"""JSON Schema snapshots of every contract, and the compatibility rule they are held to.

A snapshot is the schema consumers were built against. A new schema is compatible when every message valid under
the old one still parses and means the same: no property removed or re-typed, no new required property, no
narrowed enum. Breaking changes need a new ``event_version`` (a new snapshot file), never an edit in place.

Refresh after a compatible change:  ``python -m trip_shared.contracts.snapshots --write``
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from trip_shared.contracts.registry import TOPICS

SNAPSHOT_DIR = Path(__file__).parent / "schemas"


def snapshot_name(contract) -> str:
    version = contract.model_fields["event_version"].default
    return f"{contract.TOPIC}.v{version}.json"


def current_schemas() -> dict[str, dict]:
    return {snapshot_name(spec.contract): spec.contract.model_json_schema() for spec in TOPICS}


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = root.get("$defs", {})[name]
    return schema


def _types(schema: dict, root: dict) -> set[str]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return set().union(*(_types(option, root) for option in schema["anyOf"]))
    if "const" in schema:
        return {f"const:{schema['const']}"}
    if "enum" in schema:
        return {f"enum:{value}" for value in schema["enum"]}
    kind = schema.get("type", "any")
    if kind == "string" and "format" in schema:
        return {f"string:{schema['format']}"}
    return {kind}


def incompatibilities(old: dict, new: dict, path: str = "", old_root: dict | None = None,
                      new_root: dict | None = None) -> list[str]:
    """Why a consumer built on ``old`` could break on messages of ``new`` (empty when compatible)."""
    old_root, new_root = old_root or old, new_root or new
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if not new_types <= old_types and "any" not in old_types:
        problems.append(f"{path or '<root>'}: type changed from {sorted(old_types)} to {sorted(new_types)}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{where}: property removed")
            continue
        if name in old.get("required", []) and name not in new.get("required", []):
            problems.append(f"{where}: no longer required, but consumers rely on it")
        problems += incompatibilities(old_prop, new_props[name], where, old_root, new_root)
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        if name not in old_props:
            problems.append(f"{path + '.' if path else ''}{name}: new required property")
    if "items" in old and "items" in new:
        problems += incompatibilities(old["items"], new["items"], f"{path}[]", old_root, new_root)
    return problems


def write_snapshots() -> list[Path]:
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        target = SNAPSHOT_DIR / name
        target.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(target)
    return written


def load_snapshot(name: str) -> dict | None:
    target = SNAPSHOT_DIR / name
    return json.loads(target.read_text()) if target.exists() else None


if __name__ == "__main__":
    if "--write" in sys.argv:
        for path in write_snapshots():
            print(f"wrote {path}")
    else:
        print(__doc__)
