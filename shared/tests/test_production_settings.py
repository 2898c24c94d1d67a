"""A service in production mode refuses settings that are only safe on a developer's machine."""
import subprocess
import sys

import pytest

from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime, UnsafeSettings

GOOD = dict(environment="production", link_signing_secret="s" * 40, supplier_secret_key="k" * 40,
            public_base_url="https://trips.acme-travel.com")


@pytest.mark.parametrize(("change", "complaint"), [
    ({"link_signing_secret": ServiceSettings.link_signing_secret}, "LINK_SIGNING_SECRET"),
    ({"link_signing_secret": "short-but-not-default"}, "at least 32"),
    ({"supplier_secret_key": ServiceSettings.supplier_secret_key}, "SUPPLIER_SECRET_KEY"),
    ({"supplier_secret_key": "short"}, "SUPPLIER_SECRET_KEY"),
    ({"public_base_url": ""}, "PUBLIC_BASE_URL must be set"),
    ({"public_base_url": "http://0.0.0.0:8101"}, "https://"),
    ({"public_base_url": "https://localhost"}, "not a local one"),
    ({"public_base_url": "http://trips.acme-travel.com"}, "https://"),
    ({"public_base_url": "https://itinerary.trips.example"}, "reserved example name"),
    ({"public_base_url": "https://trips.example.com"}, "reserved example name"),
])
def test_production_mode_refuses_unsafe_settings(change, complaint):
    settings = ServiceSettings(service_name="customers", **{**GOOD, **change})
    with pytest.raises(UnsafeSettings) as refused:
        ServiceRuntime(settings)
    assert complaint in str(refused.value)


def test_development_mode_keeps_its_convenient_defaults_and_production_accepts_real_ones():
    assert ServiceSettings(service_name="customers").production_problems()  # unsafe, but not refused in dev
    ServiceRuntime(ServiceSettings(service_name="customers"))
    assert ServiceSettings(service_name="customers", **GOOD).production_problems() == []


def test_a_service_started_in_production_with_the_development_secret_exits_with_why():
    env = {"TRIP_DESK_ENV": "production", "PUBLIC_BASE_URL": "https://trips.acme-travel.com",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "customers"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "Refusing to start in production mode" in result.stderr and "LINK_SIGNING_SECRET" in result.stderr


def test_the_secret_can_come_from_a_mounted_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("x" * 48 + "\n")
    monkeypatch.setenv("LINK_SIGNING_SECRET_FILE", str(secret))
    monkeypatch.setenv("TRIP_DESK_ENV", "Production")
    settings = ServiceSettings.from_env("customers")
    assert settings.link_signing_secret == "x" * 48 and settings.environment == "production"
