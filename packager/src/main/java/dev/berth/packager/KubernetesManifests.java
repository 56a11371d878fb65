package dev.berth.packager;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Deployment artifacts for a packaged image: a Kubernetes Deployment, Service
 * and HorizontalPodAutoscaler ({@code autoscaling/v2}), and a KServe {@code InferenceService}
 * ({@code serving.kserve.io/v1beta1}) that runs the image as a custom predictor.
 *
 * <p>The Deployment's pods serve REST on {@code http} (8080) and gRPC on {@code grpc} (8081), both
 * in the Service. Readiness is Kubernetes' native gRPC probe ({@code grpc.health.v1.Health} with the
 * empty service name, which follows the server's readiness and turns NOT_SERVING when it drains);
 * liveness and start-up stay on {@code GET /v2/health/live}, since the health protocol has no
 * liveness of its own and a probe on readiness would restart a pod that is only loading models.
 * The pods carry the {@code prometheus.io/*} annotations that Prometheus' Kubernetes service
 * discovery examples use to find {@code /metrics}.
 *
 * <p>The image is referenced by digest when it was pushed to a registry (the digest the registry
 * holds), and by the reference the user gave when it went to a tarball or a Docker daemon: the
 * digest of a local build is not the one a registry will hold after {@code podman load} and a
 * push, so pinning it would reference an image no registry has.
 *
 * <p>The KServe InferenceService passes Knative Serving's validation (KServe's default,
 * serverless mode): one container port, named {@code http1} (Knative allows only {@code h2c},
 * {@code http1} or none), no {@code PORT} variable (Knative reserves it and sets it to that port,
 * which the image reads), probes on that port, no startup probe and only the security-context fields Knative's field masks keep.
 *
 * <p>Both run with a read-only root filesystem; {@code /tmp} (ONNX Runtime's native library) and
 * {@value ImagePackager#REPORTS_DIR} (the monitoring reports) are {@code emptyDir} volumes.
 */
public final class KubernetesManifests {
    /** Files written by {@link #write(Path)}, in order. */
    public static final List<String> FILES = List.of("deployment.yaml", "service.yaml", "hpa.yaml", "inferenceservice.yaml");

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .build());

    private final String image;
    private final String modelName;
    private final int modelVersion;
    private final String name;
    private final int port;
    private final int grpcPort;
    private final int minReplicas;
    private final int maxReplicas;
    private final int cpuUtilization;

    private KubernetesManifests(Builder b) {
        image = b.image;
        modelName = b.modelName;
        modelVersion = b.modelVersion;
        name = resourceName(b.modelName);
        port = b.port;
        grpcPort = b.grpcPort;
        minReplicas = b.minReplicas;
        maxReplicas = b.maxReplicas;
        cpuUtilization = b.cpuUtilization;
    }

    /** Options for the manifests; image by digest and model are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The manifests for a packaging result: the image by digest when it was pushed to a registry,
     * else by the reference given (see the class comment).
     */
    public static KubernetesManifests of(PackageResult result) {
        String ref = result.target() instanceof ImageTarget.Registry ? result.imageByDigest() : result.image();
        return builder().image(ref).model(result.modelName(), result.modelVersion()).build();
    }

    /** The image reference the manifests use. */
    public String image() {
        return image;
    }

    /**
     * A Kubernetes object name from a model name: lower case, letters, digits and '-', starting
     * with a letter and at most 63 characters (an RFC 1035 label, which Services require).
     */
    static String resourceName(String modelName) {
        String s = modelName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("-{2,}", "-");
        s = s.replaceAll("^-+", "").replaceAll("-+$", "");
        if (s.isEmpty() || !Character.isLetter(s.charAt(0))) {
            s = "model-" + s;
        }
        if (s.length() > 63) {
            s = s.substring(0, 63).replaceAll("-+$", "");
        }
        return s;
    }

    /** The Kubernetes name of the deployment, service and autoscaler. */
    public String name() {
        return name;
    }

    /** Writes {@link #FILES} into {@code dir} (created if missing) and returns their paths. */
    public List<Path> write(Path dir) {
        try {
            Files.createDirectories(dir);
            List<Path> written = new ArrayList<>();
            List<Map<String, Object>> docs = List.of(deployment(), service(), autoscaler(), inferenceService());
            for (int i = 0; i < docs.size(); i++) {
                Path file = dir.resolve(FILES.get(i));
                Files.writeString(file, "# written by berth package for " + modelName + ":" + modelVersion + "\n"
                        + YAML.writeValueAsString(docs.get(i)));
                written.add(file);
            }
            return written;
        } catch (IOException e) {
            throw new PackagingException("cannot write Kubernetes manifests to " + dir + ": " + e.getMessage(), e);
        }
    }

    Map<String, Object> deployment() {
        Map<String, Object> podMeta = map("labels", selectorLabels(), "annotations", scrapeAnnotations());
        Map<String, Object> pod = map(
                "securityContext", map("runAsNonRoot", true, "runAsUser", 65532, "runAsGroup", 65532),
                "terminationGracePeriodSeconds", TERMINATION_GRACE_SECONDS,
                "containers", List.of(container("server")),
                "volumes", volumes());
        Map<String, Object> spec = map(
                "replicas", minReplicas,
                "selector", map("matchLabels", selectorLabels()),
                "template", map("metadata", podMeta, "spec", pod));
        return object("apps/v1", "Deployment", metadata(name, Map.of()), spec);
    }

    Map<String, Object> service() {
        Map<String, Object> spec = map(
                "type", "ClusterIP",
                "selector", selectorLabels(),
                "ports", List.of(map("name", "http", "port", port, "targetPort", "http", "protocol", "TCP"),
                        map("name", "grpc", "port", grpcPort, "targetPort", "grpc", "protocol", "TCP")));
        return object("v1", "Service", metadata(name, scrapeAnnotations()), spec);
    }

    Map<String, Object> autoscaler() {
        Map<String, Object> cpu = map("type", "Resource", "resource", map("name", "cpu",
                "target", map("type", "Utilization", "averageUtilization", cpuUtilization)));
        Map<String, Object> spec = map(
                "scaleTargetRef", map("apiVersion", "apps/v1", "kind", "Deployment", "name", name),
                "minReplicas", minReplicas,
                "maxReplicas", maxReplicas,
                "metrics", List.of(cpu));
        return object("autoscaling/v2", "HorizontalPodAutoscaler", metadata(name, Map.of()), spec);
    }

    Map<String, Object> inferenceService() {
        Map<String, String> annotations = new LinkedHashMap<>(scrapeAnnotations());
        // KServe's own switch for scraping its pods; the prometheus.io ones are for plain Prometheus
        annotations.put("serving.kserve.io/enable-prometheus-scraping", "true");
        // KServe's custom-container convention is a container named kserve-container listening on 8080
        Map<String, Object> predictor = map(
                "minReplicas", minReplicas,
                "maxReplicas", maxReplicas,
                "containers", List.of(knativeContainer()),
                "volumes", volumes());
        return object("serving.kserve.io/v1beta1", "InferenceService", metadata(name, annotations), map("predictor", predictor));
    }

    /**
     * berth's drain in the pod (docs/reliability.md): after SIGTERM the server stays up, not ready, for
     * {@value #DRAIN_GRACE_SECONDS} s (Kubernetes takes a terminating pod out of its endpoints at once,
     * but kube-proxies and ingress controllers learn it a few seconds later: their new connections
     * get a 503 with Connection: close, not a refused connection), finishes what is in flight and
     * exits within {@value #DRAIN_TIMEOUT_SECONDS} s. The kubelet's SIGKILL comes after
     * {@value #TERMINATION_GRACE_SECONDS} s, so it never cuts a drain short. No preStop hook: the
     * grace does what a preStop {@code sleep} would, and the image has no shell to run one in.
     */
    static final int DRAIN_GRACE_SECONDS = 5;
    static final int DRAIN_TIMEOUT_SECONDS = 30;
    static final int TERMINATION_GRACE_SECONDS = DRAIN_TIMEOUT_SECONDS + 5;

    /** The Deployment's server container: REST and gRPC ports, gRPC's native readiness probe. */
    private Map<String, Object> container(String containerName) {
        Map<String, Object> live = map("httpGet", map("path", "/v2/health/live", "port", port), "periodSeconds", 10,
                "failureThreshold", 3);
        // the empty service name is the server as a whole: SERVING once ready, NOT_SERVING while draining
        Map<String, Object> ready = map("grpc", map("port", grpcPort, "service", ""), "periodSeconds", 5, "failureThreshold", 2);
        // loading and warming up a model takes a while; the startup probe keeps liveness from killing it meanwhile
        Map<String, Object> startup = map("httpGet", map("path", "/v2/health/live", "port", port), "periodSeconds", 2,
                "failureThreshold", 60);
        return map(
                "name", containerName,
                "image", image,
                "imagePullPolicy", "IfNotPresent",
                "ports", List.of(map("name", "http", "containerPort", port, "protocol", "TCP"),
                        map("name", "grpc", "containerPort", grpcPort, "protocol", "TCP")),
                "env", List.of(map("name", "PORT", "value", Integer.toString(port)),
                        map("name", "BERTH_GRPC_PORT", "value", Integer.toString(grpcPort)),
                        map("name", "BERTH_DRAIN_GRACE_SECONDS", "value", Integer.toString(DRAIN_GRACE_SECONDS)),
                        map("name", "BERTH_DRAIN_TIMEOUT_SECONDS", "value", Integer.toString(DRAIN_TIMEOUT_SECONDS))),
                "startupProbe", startup,
                "livenessProbe", live,
                "readinessProbe", ready,
                "resources", resources(),
                "volumeMounts", volumeMounts(),
                // the image is only read; ONNX Runtime unpacks its native library into /tmp, an emptyDir
                "securityContext", map("allowPrivilegeEscalation", false, "readOnlyRootFilesystem", true,
                        "capabilities", map("drop", List.of("ALL"))));
    }

    /**
     * KServe's predictor container, within Knative's rules (k8s_validation.go and fieldmask.go of
     * knative/serving): KServe's custom-container convention is a container named kserve-container.
     */
    private Map<String, Object> knativeContainer() {
        // the probes' port is the one container port, by number: Knative refuses any other, and by name only 'user-port'
        Map<String, Object> live = map("httpGet", map("path", "/v2/health/live", "port", port), "periodSeconds", 10,
                "failureThreshold", 3);
        Map<String, Object> ready = map("httpGet", map("path", "/v2/health/ready", "port", port), "periodSeconds", 5, "failureThreshold", 2,
                "timeoutSeconds", 1, "successThreshold", 1);
        return map(
                "name", "kserve-container",
                "image", image,
                "imagePullPolicy", "IfNotPresent",
                // http1: the REST API; Knative sets PORT to this port, and the image listens on PORT
                "ports", List.of(map("name", "http1", "containerPort", port, "protocol", "TCP")),
                "livenessProbe", live,
                "readinessProbe", ready,
                "resources", resources(),
                "volumeMounts", volumeMounts(),
                "securityContext", map("readOnlyRootFilesystem", true, "capabilities", map("drop", List.of("ALL"))));
    }

    private static Map<String, Object> resources() {
        return map("requests", map("cpu", "500m", "memory", "512Mi"), "limits", map("memory", "1Gi"));
    }

    private static List<Map<String, Object>> volumeMounts() {
        return List.of(map("name", "tmp", "mountPath", "/tmp"), map("name", "reports", "mountPath", ImagePackager.REPORTS_DIR));
    }

    private static List<Map<String, Object>> volumes() {
        // reports: the monitoring reports a running server writes; they live as long as the pod
        return List.of(map("name", "tmp", "emptyDir", map("sizeLimit", "256Mi")),
                map("name", "reports", "emptyDir", map("sizeLimit", "64Mi")));
    }

    private Map<String, Object> metadata(String objectName, Map<String, String> annotations) {
        Map<String, Object> labels = new LinkedHashMap<>(selectorLabels());
        labels.put("app.kubernetes.io/version", Integer.toString(modelVersion));
        labels.put("app.kubernetes.io/component", "model-server");
        labels.put("app.kubernetes.io/part-of", "berth");
        labels.put("app.kubernetes.io/managed-by", "berth");
        Map<String, Object> meta = map("name", objectName, "labels", labels);
        if (!annotations.isEmpty()) {
            meta.put("annotations", annotations);
        }
        return meta;
    }

    private Map<String, String> selectorLabels() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", name);
        labels.put("app.kubernetes.io/instance", name);
        return labels;
    }

    private Map<String, String> scrapeAnnotations() {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("prometheus.io/scrape", "true");
        a.put("prometheus.io/port", Integer.toString(port));
        a.put("prometheus.io/path", "/metrics");
        return a;
    }

    private static Map<String, Object> object(String apiVersion, String kind, Map<String, Object> metadata, Map<String, Object> spec) {
        return map("apiVersion", apiVersion, "kind", kind, "metadata", metadata, "spec", spec);
    }

    private static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /** Options of the generated manifests; image and model are required. */
    public static final class Builder {
        private String image;
        private String modelName;
        private int modelVersion;
        private int port = ImagePackager.DEFAULT_PORT;
        private int grpcPort = ImagePackager.DEFAULT_GRPC_PORT;
        private int minReplicas = 1;
        private int maxReplicas = 5;
        private int cpuUtilization = 70;

        private Builder() {
        }

        /** The image as {@code repository@sha256:...} (pushed) or {@code repository:tag} (a tarball or daemon image). */
        public Builder image(String value) {
            image = value;
            return this;
        }

        /** The image as {@code repository@sha256:...}; the same as {@link #image(String)}. */
        public Builder imageByDigest(String value) {
            return image(value);
        }

        /** The packaged model version; the name becomes the objects' name, the version a label. */
        public Builder model(String name, int version) {
            modelName = name;
            modelVersion = version;
            return this;
        }

        /** The container port, {@value ImagePackager#DEFAULT_PORT} by default. */
        public Builder port(int value) {
            port = value;
            return this;
        }

        /** The container's gRPC port, {@value ImagePackager#DEFAULT_GRPC_PORT} by default. */
        public Builder grpcPort(int value) {
            grpcPort = value;
            return this;
        }

        /** The autoscaler's (and KServe's) replica range, 1 to 5 by default. */
        public Builder replicas(int min, int max) {
            minReplicas = min;
            maxReplicas = max;
            return this;
        }

        /** The average CPU use, in percent of requests, the autoscaler aims at. */
        public Builder cpuUtilization(int value) {
            cpuUtilization = value;
            return this;
        }

        /** Checks every option at once and returns the manifests. */
        public KubernetesManifests build() {
            List<String> problems = new ArrayList<>();
            if (image == null || image.isBlank() || image.chars().anyMatch(Character::isWhitespace)) {
                problems.add("an image reference (repository@sha256:... or repository:tag)");
            }
            if (modelName == null || modelName.isBlank()) {
                problems.add("a model name");
            }
            if (port == grpcPort) {
                problems.add("different HTTP and gRPC ports");
            }
            if (minReplicas < 1 || maxReplicas < minReplicas) {
                problems.add("1 <= minReplicas <= maxReplicas");
            }
            if (!problems.isEmpty()) {
                throw new IllegalStateException("KubernetesManifests needs " + String.join(", ", problems));
            }
            return new KubernetesManifests(this);
        }
    }
}
