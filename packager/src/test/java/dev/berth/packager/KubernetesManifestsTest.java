package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.berth.server.BerthServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KubernetesManifestsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String IMAGE = "127.0.0.1:5000/team/churn@sha256:" + "ab".repeat(32);

    private static Map<String, JsonNode> written(Path dir, String model) throws IOException {
        List<Path> files = KubernetesManifests.builder().imageByDigest(IMAGE).model(model, 3).build().write(dir);
        assertEquals(KubernetesManifests.FILES.size(), files.size());
        Map<String, JsonNode> byKind = new java.util.LinkedHashMap<>();
        for (Path f : files) {
            JsonNode doc = YAML.readTree(f.toFile());
            byKind.put(doc.path("kind").asText(), doc);
        }
        return byKind;
    }

    @Test
    void everyObjectHasTheSchemasRequiredFields(@TempDir Path dir) throws IOException {
        Map<String, JsonNode> docs = written(dir, "churn");
        JsonNode required;
        try (InputStream in = getClass().getResourceAsStream("/k8s/required-fields.json")) {
            required = new ObjectMapper().readTree(in);
        }
        List<String> missing = new ArrayList<>();
        for (String kind : List.of("Deployment", "Service", "HorizontalPodAutoscaler", "InferenceService")) {
            JsonNode doc = docs.get(kind);
            assertTrue(doc != null, kind + " written");
            for (JsonNode path : required.path(kind)) {
                collectMissing(doc, path.asText().split("\\."), 0, kind + ":", missing);
            }
        }
        assertEquals(List.of(), missing);
    }

    /** Walks a dotted path; a segment ending in [] must be a non-empty list and the rest applies to each element. */
    private static void collectMissing(JsonNode node, String[] path, int i, String at, List<String> missing) {
        if (i == path.length) {
            return;
        }
        String segment = path[i];
        boolean list = segment.endsWith("[]");
        String key = list ? segment.substring(0, segment.length() - 2) : segment;
        JsonNode child = node.get(key);
        if (child == null || child.isNull() || (child.isTextual() && child.asText().isEmpty())) {
            missing.add(at + String.join(".", path));
            return;
        }
        if (list) {
            if (!child.isArray() || child.isEmpty()) {
                missing.add(at + String.join(".", path) + " (not a non-empty list)");
                return;
            }
            for (JsonNode element : child) {
                collectMissing(element, path, i + 1, at, missing);
            }
        } else {
            collectMissing(child, path, i + 1, at, missing);
        }
    }

    @Test
    void apiVersionsProbesScrapingAndImageByDigest(@TempDir Path dir) throws IOException {
        Map<String, JsonNode> docs = written(dir, "churn");
        assertEquals("apps/v1", docs.get("Deployment").path("apiVersion").asText());
        assertEquals("v1", docs.get("Service").path("apiVersion").asText());
        assertEquals("autoscaling/v2", docs.get("HorizontalPodAutoscaler").path("apiVersion").asText());
        assertEquals("serving.kserve.io/v1beta1", docs.get("InferenceService").path("apiVersion").asText());

        JsonNode deployment = docs.get("Deployment");
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        assertEquals(IMAGE, container.path("image").asText());
        assertEquals("/v2/health/live", container.at("/livenessProbe/httpGet/path").asText());
        // Kubernetes' native gRPC probe: grpc.health.v1 on the gRPC port, the empty service being the server's readiness
        assertEquals(8081, container.at("/readinessProbe/grpc/port").asInt());
        assertTrue(container.at("/readinessProbe/grpc/port").isInt(), "a port is a number, not a string");
        assertEquals("", container.at("/readinessProbe/grpc/service").asText());
        assertTrue(container.at("/readinessProbe/httpGet").isMissingNode(), "one handler per probe");
        assertEquals("/v2/health/live", container.at("/startupProbe/httpGet/path").asText());
        // the kubelet's SIGKILL must come after berth's own drain has ended (grace + in flight, bounded by the timeout)
        int terminationGrace = deployment.at("/spec/template/spec/terminationGracePeriodSeconds").asInt();
        int drainTimeout = -1;
        int drainGrace = -1;
        for (JsonNode env : container.path("env")) {
            if (env.path("name").asText().equals("BERTH_DRAIN_TIMEOUT_SECONDS")) {
                drainTimeout = Integer.parseInt(env.path("value").asText());
            }
            if (env.path("name").asText().equals("BERTH_DRAIN_GRACE_SECONDS")) {
                drainGrace = Integer.parseInt(env.path("value").asText());
            }
        }
        assertTrue(drainGrace > 0 && drainGrace < drainTimeout && drainTimeout < terminationGrace,
                "grace " + drainGrace + " < drain timeout " + drainTimeout + " < termination grace " + terminationGrace);
        // Knative's pod spec field mask has no terminationGracePeriodSeconds: there the queue-proxy drains
        assertTrue(docs.get("InferenceService").at("/spec/predictor/terminationGracePeriodSeconds").isMissingNode());
        assertEquals(8080, container.at("/ports/0/containerPort").asInt());
        assertTrue(container.at("/ports/0/containerPort").isInt(), "a port is a number, not a string");
        assertEquals("grpc", container.at("/ports/1/name").asText());
        assertEquals(8081, container.at("/ports/1/containerPort").asInt());
        assertEquals("BERTH_GRPC_PORT", container.at("/env/1/name").asText());
        assertEquals("8081", container.at("/env/1/value").asText(), "env values are strings");
        JsonNode servicePorts = docs.get("Service").at("/spec/ports");
        assertEquals("grpc", servicePorts.get(1).path("name").asText());
        assertEquals(8081, servicePorts.get(1).path("port").asInt());
        assertEquals("grpc", servicePorts.get(1).path("targetPort").asText(), "targets the container port by name");
        JsonNode annotations = deployment.at("/spec/template/metadata/annotations");
        // annotation values must be strings or the API server rejects the object
        assertTrue(annotations.path("prometheus.io/scrape").isTextual(), annotations.toString());
        assertEquals("true", annotations.path("prometheus.io/scrape").asText());
        assertTrue(annotations.path("prometheus.io/port").isTextual());
        assertEquals("/metrics", annotations.path("prometheus.io/path").asText());
        assertTrue(deployment.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean());
        assertEquals(65532, deployment.at("/spec/template/spec/securityContext/runAsUser").asInt());
        // a read-only root needs a writable /tmp, where ONNX Runtime unpacks its native library
        assertTrue(container.at("/securityContext/readOnlyRootFilesystem").asBoolean());
        String mounted = container.at("/volumeMounts/0/name").asText();
        assertEquals("/tmp", container.at("/volumeMounts/0/mountPath").asText());
        assertEquals(mounted, deployment.at("/spec/template/spec/volumes/0/name").asText());
        assertTrue(deployment.at("/spec/template/spec/volumes/0/emptyDir").isObject());
        // the monitoring reports go to a writable emptyDir where the image's server writes them
        assertEquals(ImagePackager.REPORTS_DIR, container.at("/volumeMounts/1/mountPath").asText());
        assertEquals(container.at("/volumeMounts/1/name").asText(), deployment.at("/spec/template/spec/volumes/1/name").asText());
        assertTrue(deployment.at("/spec/template/spec/volumes/1/emptyDir").isObject());

        // the selector must select the pod template's labels, or the API server refuses the Deployment
        deployment.at("/spec/selector/matchLabels").fields().forEachRemaining(e ->
                assertEquals(e.getValue().asText(), deployment.at("/spec/template/metadata/labels").path(e.getKey()).asText()));
        docs.get("Service").at("/spec/selector").fields().forEachRemaining(e ->
                assertEquals(e.getValue().asText(), deployment.at("/spec/template/metadata/labels").path(e.getKey()).asText()));
        assertEquals("churn", docs.get("HorizontalPodAutoscaler").at("/spec/scaleTargetRef/name").asText());
        assertEquals("Deployment", docs.get("HorizontalPodAutoscaler").at("/spec/scaleTargetRef/kind").asText());

        JsonNode predictor = docs.get("InferenceService").at("/spec/predictor/containers/0");
        assertEquals("kserve-container", predictor.path("name").asText());
        // KServe (Knative) takes one container port, which its probes must use
        assertEquals(1, predictor.path("ports").size());
        assertEquals("http1", predictor.at("/ports/0/name").asText());
        assertEquals("/v2/health/ready", predictor.at("/readinessProbe/httpGet/path").asText());
        assertEquals(IMAGE, predictor.path("image").asText());
        assertEquals("3", deployment.at("/metadata/labels/app.kubernetes.io~1version").asText());
    }

    @Test
    void namesAreValidKubernetesNames() {
        assertEquals("churn", KubernetesManifests.resourceName("churn"));
        assertEquals("customer-churn-v2", KubernetesManifests.resourceName("Customer_Churn.v2"));
        assertEquals("model-3d-digits", KubernetesManifests.resourceName("3d-digits"));
        String longName = KubernetesManifests.resourceName("a".repeat(80));
        assertTrue(longName.length() <= 63 && longName.matches("[a-z]([-a-z0-9]*[a-z0-9])?"), longName);
    }

    @Test
    void otherPortsAreCarriedEverywhere(@TempDir Path dir) throws IOException {
        KubernetesManifests.builder().imageByDigest(IMAGE).model("churn", 3).port(9000).grpcPort(9001).build().write(dir);
        JsonNode deployment = YAML.readTree(dir.resolve("deployment.yaml").toFile());
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        assertEquals(9001, container.at("/readinessProbe/grpc/port").asInt());
        assertEquals(9000, container.at("/livenessProbe/httpGet/port").asInt());
        assertEquals("9001", container.at("/env/1/value").asText());
        assertThrows(IllegalStateException.class,
                () -> KubernetesManifests.builder().imageByDigest(IMAGE).model("churn", 3).port(9000).grpcPort(9000).build());
    }

    @Test
    void imageAndServerAgreeOnTheGrpcPort() {
        assertEquals(BerthServer.DEFAULT_GRPC_PORT, ImagePackager.DEFAULT_GRPC_PORT);
    }

    @Test
    void takesATagForImagesNoRegistryHoldsYet(@TempDir Path dir) throws IOException {
        KubernetesManifests.builder().image("churn:3").model("churn", 3).build().write(dir);
        assertEquals("churn:3", YAML.readTree(dir.resolve("deployment.yaml").toFile()).at("/spec/template/spec/containers/0/image").asText());
        assertThrows(IllegalStateException.class, () -> KubernetesManifests.builder().image(" ").model("churn", 3).build());
    }

    /**
     * The InferenceService's pod spec against Knative Serving's admission rules (knative/serving
     * pkg/apis/serving/k8s_validation.go and fieldmask.go), which KServe's default serverless mode
     * applies: a violation makes the API server refuse the object.
     */
    @Test
    void inferenceServicePassesKnativeValidation(@TempDir Path dir) throws IOException {
        JsonNode predictor = written(dir, "churn").get("InferenceService").at("/spec/predictor");
        assertEquals(List.of(), KnativeRules.violations(predictor));
        // the rules themselves catch what the issue found: PORT set, a port named http, two ports
        JsonNode deploymentPod = YAML.readTree(dir.resolve("deployment.yaml").toFile()).at("/spec/template/spec");
        List<String> found = KnativeRules.violations(deploymentPod);
        assertTrue(found.stream().anyMatch(v -> v.contains("reserved environment variable PORT")), found.toString());
        assertTrue(found.stream().anyMatch(v -> v.contains("port name 'http'")), found.toString());
        assertTrue(found.stream().anyMatch(v -> v.contains("more than one container port")), found.toString());
    }
}
