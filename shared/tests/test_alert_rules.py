"""deploy/prometheus and deploy/grafana: the platform's alert and recording rules pass promtool's checks and their own
unit tests, every alert is tested and tells ops what to do, Prometheus scrapes each service where compose runs it, and
Grafana is provisioned with the dashboards their generator writes."""
import re
import shutil
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "trip-desk.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "rules" / "trip-desk.rules.test.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")


def promtool(*args: str) -> subprocess.CompletedProcess:
    # Debian's prometheus package, installed by `make test` (scripts/system-packages.sh).
    executable = shutil.which("promtool")
    assert executable, "promtool is missing: `make test` installs Debian's prometheus package"
    return subprocess.run([executable, *args], capture_output=True, text=True, timeout=120)


def alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_the_rules_are_valid_and_pass_their_unit_tests():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_severity_says_what_to_do_and_is_unit_tested():
    tested = {case["alertname"] for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
              for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    for alert in alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in ("critical", "warning", "info"), name
        assert alert["annotations"]["summary"] and alert["annotations"]["description"], name
        assert name in tested, f"{name} has no unit test in which it fires"


def test_prometheus_scrapes_every_service_at_the_port_compose_gives_it_and_loads_the_rules():
    checked = promtool("check", "config", "--syntax-only", str(PROMETHEUS_CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert set(jobs) == set(SERVICES), "the rules group by job: one job per service, named after it"
    for name in SERVICES:
        port = compose["services"][name]["environment"]["SERVICE_PORT"]
        assert jobs[name] == [f"{name}:{port}"], name
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert any(re.fullmatch(r"/etc/prometheus/rules/\*\.rules\.yml", path) for path in config["rule_files"])
    assert RULES.name.endswith(".rules.yml") and not RULE_TESTS.name.endswith(".rules.yml"), \
        "the unit tests are not loaded as rules"


def test_the_dashboards_are_what_their_generator_writes_and_grafana_is_provisioned_with_them():
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("build_dashboards", DEPLOY / "grafana" / "build_dashboards.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    written = {path.name: path.read_text() for path in (DEPLOY / "grafana" / "dashboards").glob("*.json")}
    assert written == generator.rendered(), "run python deploy/grafana/build_dashboards.py"
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [prometheus] = datasource["datasources"]
    assert prometheus["url"] == "http://prometheus:9090"
    for name, text in written.items():
        dashboard = json.loads(text)
        assert dashboard["panels"], name
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == prometheus["uid"] and panel["targets"], (name, panel["title"])
    provider = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "trip-desk.yml").read_text())
    grafana = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["grafana"]
    assert f"./grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in grafana["volumes"]
    assert "GF_SECURITY_ADMIN_PASSWORD" not in grafana["environment"], "the password comes from a secret file"
