package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The part of Knative Serving's pod-spec validation that a generated manifest can break, written
 * from its rules (knative/serving pkg/apis/serving/k8s_validation.go and fieldmask.go): reserved
 * environment variables and ports, one container port named h2c, http1 or nothing, probes on that
 * port only, the container and security-context fields the masks keep, and volumes that are mounted.
 */
final class KnativeRules {
    private static final Set<String> RESERVED_ENV = Set.of("PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION");
    private static final Set<Integer> RESERVED_PORTS = Set.of(8012, 8013, 8022, 9090, 9091, 8008);
    private static final Set<String> PORT_NAMES = Set.of("h2c", "http1", "");
    private static final Set<String> CONTAINER_FIELDS = Set.of("name", "args", "command", "env", "workingDir", "envFrom", "image",
            "imagePullPolicy", "livenessProbe", "ports", "readinessProbe", "resources", "securityContext",
            "terminationMessagePath", "terminationMessagePolicy", "volumeMounts");
    // what every Knative release's mask keeps without a feature flag
    private static final Set<String> SECURITY_FIELDS = Set.of("runAsUser", "readOnlyRootFilesystem", "capabilities");
    private static final Set<String> HTTP_GET_FIELDS = Set.of("host", "path", "scheme", "httpHeaders", "port");

    private KnativeRules() {
    }

    /** Every rule a pod spec (an InferenceService predictor, or a Deployment's template spec) breaks. */
    static List<String> violations(JsonNode pod) {
        List<String> v = new ArrayList<>();
        JsonNode containers = pod.path("containers");
        int ports = 0;
        Set<String> mounted = new HashSet<>();
        for (JsonNode c : containers) {
            c.fieldNames().forEachRemaining(f -> {
                if (!CONTAINER_FIELDS.contains(f)) {
                    v.add("container field '" + f + "' is not allowed");
                }
            });
            for (JsonNode env : c.path("env")) {
                if (RESERVED_ENV.contains(env.path("name").asText())) {
                    v.add("reserved environment variable " + env.path("name").asText());
                }
            }
            ports += c.path("ports").size();
            JsonNode first = c.path("ports").path(0);
            if (!first.isMissingNode()) {
                if (!PORT_NAMES.contains(first.path("name").asText(""))) {
                    v.add("port name '" + first.path("name").asText() + "' is not allowed (h2c, http1 or none)");
                }
                if (RESERVED_PORTS.contains(first.path("containerPort").asInt())) {
                    v.add(first.path("containerPort").asInt() + " is a reserved port");
                }
            }
            int containerPort = first.path("containerPort").asInt(8080);
            for (String probe : List.of("livenessProbe", "readinessProbe")) {
                JsonNode p = c.path(probe);
                if (p.isMissingNode()) {
                    continue;
                }
                if (p.has("grpc") || p.has("exec") && p.has("httpGet")) {
                    v.add(probe + " uses a handler Knative does not route");
                }
                JsonNode get = p.path("httpGet");
                get.fieldNames().forEachRemaining(f -> {
                    if (!HTTP_GET_FIELDS.contains(f)) {
                        v.add(probe + ".httpGet." + f + " is not allowed");
                    }
                });
                JsonNode port = get.path("port");
                if (port.isTextual() || (port.isInt() && port.asInt() != containerPort)) {
                    v.add(probe + " port must match the container port");
                }
            }
            c.path("securityContext").fieldNames().forEachRemaining(f -> {
                if (!SECURITY_FIELDS.contains(f)) {
                    v.add("securityContext." + f + " is not allowed");
                }
            });
            for (JsonNode m : c.path("volumeMounts")) {
                mounted.add(m.path("name").asText());
            }
        }
        if (ports > 1) {
            v.add("more than one container port is set");
        }
        for (JsonNode volume : pod.path("volumes")) {
            if (!mounted.contains(volume.path("name").asText())) {
                v.add("volume " + volume.path("name").asText() + " is not mounted");
            }
            if (!volume.has("emptyDir") && !volume.has("secret") && !volume.has("configMap") && !volume.has("projected")) {
                v.add("volume " + volume.path("name").asText() + " is of a kind Knative refuses by default");
            }
        }
        return v;
    }
}
