"""Writes Trip Desk's Kubernetes base (base/services.yaml) for the five services: `python deploy/k8s/build_base.py`.

Kept as code, like the Grafana dashboards, so every service has the same shape — Deployment, Service,
PodDisruptionBudget, HorizontalPodAutoscaler — and a difference between them is a line here, not a drift between five
copies. A test checks that the file is what this writes and that every rendered overlay passes Kubernetes' schemas.
"""
from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PORTS = {"customers": 8101, "itinerary": 8102, "booking": 8103, "notify": 8104, "feedback": 8105}
# Every pod is an API replica and a member of its consumer group: past the topics' partitions a replica would get
# none to consume (deploy/kafka-topics.sh: PARTITIONS=6), so the autoscaler stops there.
TOPIC_PARTITIONS = 6
SECRET = "trip-desk-secrets"
CONSOLE, CONSOLE_PORT = "ops-console", 8100
PART_OF = {"app.kubernetes.io/part-of": "trip-desk"}


def labels(name: str) -> dict:
    return {"app.kubernetes.io/name": name, **PART_OF}


def deployment(name: str, port: int) -> dict:
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 3}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels(name)},
            # One new pod at a time, none taken away before its replacement is ready.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(name), "annotations": {
                    "prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                        "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    # A rolling update or a drained node stops a pod with SIGTERM: the service finishes its requests
                    # and its consumer's batch, commits, and leaves the group within this.
                    "terminationGracePeriodSeconds": 30,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": labels(name)}}],
                    "containers": [{
                        "name": name, "image": "trip-desk", "args": [name],
                        "ports": [{"name": "http", "containerPort": port}],
                        "envFrom": [{"configMapRef": {"name": "trip-desk-config"}}],
                        "env": [
                            {"name": "SERVICE_PORT", "value": str(port)},
                            {"name": "MONGODB_DATABASE", "value": name},
                            {"name": "PUBLIC_BASE_URL", "valueFrom": {"configMapKeyRef": {
                                "name": "trip-desk-config", "key": f"{name.upper()}_PUBLIC_URL"}}},
                            {"name": "MONGODB_URL", "valueFrom": {"secretKeyRef": {"name": SECRET,
                                                                                   "key": "mongodb-url"}}},
                            {"name": "OTEL_SERVICE_NAME", "value": name},
                        ],
                        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
                        "livenessProbe": {**probe, "failureThreshold": 3},
                        # Ready only with MongoDB and Kafka reachable and the outbox draining: no traffic before.
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5,
                                           "timeoutSeconds": 3, "failureThreshold": 2},
                        # The load balancer stops sending before the process stops taking.
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                      "limits": {"cpu": "1", "memory": "512Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [
                            {"name": "secrets", "mountPath": "/run/secrets", "readOnly": True},
                            {"name": "agency", "mountPath": "/etc/trip-desk/agency", "readOnly": True},
                            {"name": "tmp", "mountPath": "/tmp"},
                        ],
                    }],
                    "volumes": [
                        {"name": "secrets", "secret": {"secretName": SECRET, "defaultMode": 0o440, "items": [
                            {"key": "link-signing-secret", "path": "link_signing_secret"},
                            {"key": "supplier-secret-key", "path": "supplier_secret_key"},
                            {"key": "api-keys.json", "path": "api-keys.json"}]}},
                        {"name": "agency", "configMap": {"name": "trip-desk-agency-profiles"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }


def service(name: str, port: int) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels(name)},
            "spec": {"selector": labels(name), "ports": [{"name": "http", "port": port, "targetPort": "http"}]}}


def disruption_budget(name: str) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "labels": labels(name)},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(name)}}}


def autoscaler(name: str) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "labels": labels(name)},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                     "minReplicas": 2, "maxReplicas": TOPIC_PARTITIONS,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
                     # Up at once under load; down slowly, since every change rebalances the consumer group.
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                                                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]}}}}


def console() -> list[dict]:
    """The ops console: a page over the services' own APIs (it holds no data; each operator signs in with their
    agency's key), so one replica, nothing mounted, and no database or Kafka to reach."""
    name, port = CONSOLE, CONSOLE_PORT
    document = deployment(name, port)
    spec = document["spec"]
    spec["replicas"] = 1
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    container["args"] = ["trip_shared.ops_console"]
    container["envFrom"] = []
    container["env"] = [{"name": "OPS_CONSOLE_HOST", "value": "0.0.0.0"},
                        {"name": "OPS_CONSOLE_PORT", "value": str(port)},
                        {"name": "TRACE_UI_URL", "valueFrom": {"configMapKeyRef": {
                            "name": "trip-desk-config", "key": "TRACE_UI_URL"}}},
                        *({"name": f"{service_name.upper()}_URL", "value": f"http://{service_name}:{service_port}"}
                          for service_name, service_port in PORTS.items())]
    container["readinessProbe"] = {**container["livenessProbe"], "periodSeconds": 5}
    container["resources"] = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m",
                                                                                       "memory": "256Mi"}}
    container["volumeMounts"] = [mount for mount in container["volumeMounts"] if mount["name"] == "tmp"]
    pod["volumes"] = [volume for volume in pod["volumes"] if volume["name"] == "tmp"]
    del document["spec"]["template"]["metadata"]["annotations"]  # it has no /metrics
    return [document, service(name, port)]


def rendered() -> str:
    documents = []
    for name, port in PORTS.items():
        documents += [deployment(name, port), service(name, port), disruption_budget(name), autoscaler(name)]
    documents += console()
    header = "# Written by deploy/k8s/build_base.py: edit that, then run it.\n"
    return header + yaml.safe_dump_all(documents, sort_keys=False, width=120)


if __name__ == "__main__":
    (HERE / "base" / "services.yaml").write_text(rendered())
    print("wrote deploy/k8s/base/services.yaml")
