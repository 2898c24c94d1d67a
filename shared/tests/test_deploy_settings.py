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
