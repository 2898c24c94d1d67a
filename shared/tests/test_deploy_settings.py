"""deploy/compose.yaml runs every service in production mode, with its secret and public address from outside."""
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")


def test_every_service_runs_in_production_mode_with_a_mounted_secret_and_a_required_public_address():
    compose = yaml.safe_load(COMPOSE.read_text())
    assert compose["secrets"]["link_signing_secret"]["file"] == "./secrets/link-signing-secret"
    assert compose["secrets"]["supplier_secret_key"]["file"] == "./secrets/supplier-secret-key"
    for name in SERVICES:
        service = compose["services"][name]
        environment = service["environment"]
        assert environment["TRIP_DESK_ENV"] == "production", name
        assert "LINK_SIGNING_SECRET" not in environment, "the secret is mounted, never written in the file"
        assert environment["LINK_SIGNING_SECRET_FILE"] == "/run/secrets/link_signing_secret"
        assert "link_signing_secret" in service["secrets"]
        assert environment["SUPPLIER_SECRET_KEY_FILE"] == "/run/secrets/supplier_secret_key"
        assert "supplier_secret_key" in service["secrets"]
        assert environment["PUBLIC_BASE_URL"].startswith(f"${{{name.upper()}_PUBLIC_URL:?"), \
            "compose refuses to start without the address (no default that would e-mail links to 0.0.0.0)"


def test_the_compose_file_follows_the_compose_specification_and_refers_only_to_what_exists():
    from compose_spec import PyOptions

    # Parsed as Docker Compose does, with the YAML merge keys (<<: *service) applied; unknown keys, wrong types and
    # unknown conditions are refused.
    spec = PyOptions(apply_merge=True).from_yaml(COMPOSE.read_text()).to_dict()
    compose = yaml.safe_load(COMPOSE.read_text())
    assert set(spec["services"]) == set(compose["services"])
    secrets, deploy = set(compose["secrets"]), COMPOSE.parent
    for name, service in spec["services"].items():
        for secret in service.get("secrets") or []:
            assert (secret if isinstance(secret, str) else secret["source"]) in secrets, (name, secret)
        for needed in service.get("depends_on") or {}:
            assert needed in compose["services"], (name, needed)
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("./"):
                assert (deploy / source).exists(), f"{name} mounts {source}, which deploy/ does not have"


def test_the_image_is_built_from_the_packages_alone():
    root = COMPOSE.parents[1]
    ignored = (root / ".dockerignore").read_text().split()
    for private in (".venv", "var", ".git", "deploy/secrets"):
        assert private in ignored, f"{private} would be sent to the image build"
    for line in (root / "deploy" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            source = line.split()[1]
            assert (root / source).exists() and source.rstrip("/") not in ignored, line
