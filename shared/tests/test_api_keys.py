"""API keys are created, rotated and revoked with a command, and running services follow the file."""
import subprocess
import sys
from datetime import timedelta

from opentelemetry.sdk.trace import TracerProvider

from trip_shared import api_keys
from trip_shared.devstack import ensure_dev_api_keys
from trip_shared.runtime import ServiceRuntime
from trip_shared.testing.service import component_settings, running_service
from trip_shared.web.auth import ApiKeyRegistry


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_created_rotated_and_revoked_keys_take_effect_without_a_restart(tmp_path):
    path = tmp_path / "api-keys.json"
    entry, key = api_keys.create(path, "acme", "planner-app", ["customers:*"])
    assert key not in path.read_text(), "the file holds digests only"
    clock = Clock()
    registry = ApiKeyRegistry([], path=path, clock=clock)
    assert registry.lookup(key).tenant_id == "acme" and registry.lookup(key).scopes == {"customers:*"}
    rotated, new_key = api_keys.rotate(path, entry["id"], timedelta(hours=1))
    clock.now += 2
    assert registry.lookup(new_key).name == "planner-app", "the new key works at once"
    assert registry.lookup(key) is not None, "the old one for the grace period"
    api_keys.revoke(path, rotated["id"])
    api_keys.revoke(path, entry["id"])
    clock.now += 2
    assert registry.lookup(new_key) is None and registry.lookup(key) is None
    assert registry.knows_tenant("acme"), "an agency whose keys were revoked is still an agency"


def test_a_key_past_its_grace_period_stops_working_and_a_broken_file_keeps_the_keys_loaded(tmp_path):
    path = tmp_path / "api-keys.json"
    entry, key = api_keys.create(path, "acme", "app", ["*"])
    _, new_key = api_keys.rotate(path, entry["id"], timedelta(seconds=1))
    clock = Clock()
    registry = ApiKeyRegistry([], path=path, clock=clock)
    entries = api_keys.read_entries(path)
    entries[0]["expires_at"] = "2020-01-01T00:00:00+00:00"
    api_keys.write_entries(path, entries)
    clock.now += 2
    assert registry.lookup(key) is None and registry.lookup(new_key) is not None
    path.write_text("[{not json")
    clock.now += 2
    assert registry.lookup(new_key) is not None


def test_the_command_prints_a_key_once_and_lists_without_it(tmp_path):
    path = tmp_path / "keys.json"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "trip_shared.api_keys", "--file", str(path), *args],
                              capture_output=True, text=True, timeout=60)

    made = run("create", "--tenant", "acme", "--name", "planner-app", "--scopes", "customers:read")
    assert made.returncode == 0, made.stderr
    key = made.stdout.split("store it now): ")[1].strip()
    key_id = made.stdout.split()[0]
    listed = run("list")
    assert key_id in listed.stdout and "planner-app" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout
    assert run("revoke", key_id).returncode == 0 and "revoked" in run("list").stdout
    missing = run("revoke", "key_nope")
    assert missing.returncode == 1 and "no key key_nope" in missing.stderr


async def test_a_running_service_accepts_a_key_created_after_it_started(tmp_path, mongodb_url, mongo_database_name):
    path = tmp_path / "api-keys.json"
    api_keys.write_entries(path, [])
    runtime = ServiceRuntime(component_settings("keys", mongodb_url, mongo_database_name, api_keys="",
                                                api_keys_file=str(path)), tracer_provider=TracerProvider())
    app = runtime.create_app(title="keys test", description="", routers=[])
    async with running_service(app) as service:
        _, key = api_keys.create(path, "tenant-a", "late-app", ["ops:read"])
        runtime.api_keys.RELOAD_CHECK_S = 0  # the service looks at the file at most once a second
        response = await service.client.get("/v1/ops/outbox", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text


def test_the_local_stack_gives_each_agency_a_key_and_keeps_keys_made_with_the_command(tmp_path):
    first = ensure_dev_api_keys(tmp_path, ["dev-agency", "second-agency"])
    assert set(first) == {"dev-agency", "second-agency"} and first["dev-agency"] != first["second-agency"]
    _, made = api_keys.create(tmp_path / "api-keys.json", "dev-agency", "my-script", ["*"])
    again = ensure_dev_api_keys(tmp_path, ["dev-agency", "second-agency"])
    assert again == first, "development keys are kept across runs"
    registry = ApiKeyRegistry([], path=tmp_path / "api-keys.json")
    assert registry.lookup(made).name == "my-script"
    assert registry.lookup(first["second-agency"]).tenant_id == "second-agency"
    assert (tmp_path / "dev-api-key.txt").read_text().strip() == first["dev-agency"]
