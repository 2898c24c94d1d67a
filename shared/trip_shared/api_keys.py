"""Manage an agency's API keys in the key file every service reads (``API_KEYS_FILE``).

    python -m trip_shared.api_keys create --tenant acme-travel --name planner-app --scopes 'customers:*' 'itineraries:*'
    python -m trip_shared.api_keys list [--tenant acme-travel]
    python -m trip_shared.api_keys rotate <key id> [--grace-hours 24]
    python -m trip_shared.api_keys revoke <key id>

The file holds only SHA-256 digests; a key is printed once, when it is created or rotated, and never stored.
Running services re-read the file within a second or two of a change: no restart. Rotating issues a new key for the
same name, agency and scopes and lets the old one work for ``--grace-hours`` more (0: revoked at once), so clients
can move over. Revoked keys stay in the file, so the record shows who had access when. ``--file`` defaults to
``$API_KEYS_FILE``, else ``var/api-keys.json`` (the file ``make up`` gives its services).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trip_shared.web.auth import hash_key


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def read_entries(path: Path) -> list[dict]:
    return json.loads(path.read_text()) if path.exists() else []


def write_entries(path: Path, entries: list[dict] | dict) -> None:
    """As JSON, atomically: a service reading it mid-write sees the old file or the new one, never half of one;
    readable by its owner only (it says who may do what)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as out:
        out.write(json.dumps(entries, indent=2) + "\n")
    with contextlib.suppress(OSError):
        os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def new_key(tenant_id: str) -> str:
    return f"td_{tenant_id[:12]}_{secrets.token_urlsafe(32)}"


def create(path: Path, tenant_id: str, name: str, scopes: list[str]) -> tuple[dict, str]:
    if not tenant_id or not name:
        raise ValueError("a key needs a tenant and a name")
    key = new_key(tenant_id)
    entry = {"id": f"key_{secrets.token_hex(6)}", "name": name, "tenant_id": tenant_id, "scopes": scopes,
             "key_sha256": hash_key(key), "created_at": _now().isoformat()}
    write_entries(path, [*read_entries(path), entry])
    return entry, key


def _find(entries: list[dict], key_id: str) -> dict:
    for entry in entries:
        if entry.get("id") == key_id:
            return entry
    raise KeyError(f"no key {key_id} in the file")


def revoke(path: Path, key_id: str) -> dict:
    entries = read_entries(path)
    entry = _find(entries, key_id)
    entry.setdefault("revoked_at", _now().isoformat())
    write_entries(path, entries)
    return entry


def rotate(path: Path, key_id: str, grace: timedelta) -> tuple[dict, str]:
    entries = read_entries(path)
    old = _find(entries, key_id)
    if old.get("revoked_at"):
        raise ValueError(f"key {key_id} is revoked; create a new one instead")
    key = new_key(old["tenant_id"])
    entry = {"id": f"key_{secrets.token_hex(6)}", "name": old["name"], "tenant_id": old["tenant_id"],
             "scopes": old.get("scopes", []), "key_sha256": hash_key(key), "created_at": _now().isoformat(),
             "rotated_from": key_id}
    if grace > timedelta(0):
        old["expires_at"] = (_now() + grace).isoformat()
    else:
        old["revoked_at"] = _now().isoformat()
    write_entries(path, [*entries, entry])
    return entry, key


def _state(entry: dict) -> str:
    if entry.get("revoked_at"):
        return f"revoked {entry['revoked_at']}"
    if entry.get("expires_at"):
        expired = datetime.fromisoformat(entry["expires_at"]) <= datetime.now(UTC)
        return f"{'expired' if expired else 'expires'} {entry['expires_at']}"
    return "active"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trip_shared.api_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path,
                        default=Path(os.environ.get("API_KEYS_FILE") or "var/api-keys.json"),
                        help="the key file the services read (default: $API_KEYS_FILE, else var/api-keys.json)")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="a new key for an agency; printed once")
    made.add_argument("--tenant", required=True)
    made.add_argument("--name", required=True, help="who uses it, e.g. planner-app")
    made.add_argument("--scopes", nargs="+", default=["*"], help="e.g. customers:read 'itineraries:*' (default *)")
    listed = commands.add_parser("list", help="the keys in the file (never the keys themselves)")
    listed.add_argument("--tenant")
    rotated = commands.add_parser("rotate", help="a new key in place of an old one")
    rotated.add_argument("key_id")
    rotated.add_argument("--grace-hours", type=float, default=24.0,
                         help="how long the old key keeps working (default 24; 0 revokes it at once)")
    revoked = commands.add_parser("revoke", help="stop a key working, at once")
    revoked.add_argument("key_id")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            entry, key = create(args.file, args.tenant, args.name, args.scopes)
            print(f"{entry['id']}  tenant {entry['tenant_id']}  name {entry['name']}  "
                  f"scopes {' '.join(entry['scopes'])}")
            print(f"API key (shown once, store it now): {key}")
        elif args.command == "list":
            for entry in read_entries(args.file):
                if args.tenant and entry["tenant_id"] != args.tenant:
                    continue
                print(f"{entry.get('id', '-'):<18} {entry['tenant_id']:<20} {entry.get('name', ''):<20} "
                      f"{' '.join(entry.get('scopes', [])):<30} {_state(entry)}")
        elif args.command == "rotate":
            entry, key = rotate(args.file, args.key_id, timedelta(hours=args.grace_hours))
            print(f"{entry['id']} replaces {args.key_id} (the old key "
                  f"{'stops now' if args.grace_hours <= 0 else f'works {args.grace_hours:g} h more'})")
            print(f"API key (shown once, store it now): {key}")
        elif args.command == "revoke":
            entry = revoke(args.file, args.key_id)
            print(f"{entry['id']} revoked at {entry['revoked_at']}")
    except (KeyError, ValueError) as problem:
        print(f"api_keys: {problem.args[0] if problem.args else problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
