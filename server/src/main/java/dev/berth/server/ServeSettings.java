package dev.berth.server;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Layered configuration of {@code berth serve} through Helidon config, all under the {@code berth}
 * node: command-line flags win over environment variables, which win over the YAML file.
 *
 * <pre>
 * berth:
 *   models: ./models            # BERTH_MODELS,  --models
 *   host: 127.0.0.1             # BERTH_HOST,    --host
 *   port: 8080                  # BERTH_PORT or PORT, --port
 *   grpc-port: 8081             # BERTH_GRPC_PORT, --grpc-port (unset: 8081, or a free port when port is 0)
 *   max-request-bytes: 67108864 # BERTH_MAX_REQUEST_BYTES, --max-request-bytes
 *   repository-token: secret    # BERTH_REPOSITORY_TOKEN, --repository-token
 *   open-repository-api: false  # BERTH_OPEN_REPOSITORY_API, --open-repository-api (load/unload without a token)
 *   lenient-readiness: false    # BERTH_LENIENT_READINESS, --lenient-readiness (ready despite failed models)
 *   allow-empty: false          # BERTH_ALLOW_EMPTY, --allow-empty (serve an empty registry)
 *   drain-timeout-seconds: 30   # BERTH_DRAIN_TIMEOUT_SECONDS, --drain-timeout-seconds (all of a stop)
 *   drain-grace-seconds: 5      # BERTH_DRAIN_GRACE_SECONDS, --drain-grace-seconds (berth serve's default: 5)
 *   report-interval: 5m         # BERTH_REPORT_INTERVAL, --report-interval (monitoring reports)
 *   reports-dir: /var/reports   # BERTH_REPORTS_DIR, --reports-dir (default: each version's monitoring/ folder)
 *   cors-origins: [https://a]   # BERTH_CORS_ORIGINS (comma-separated), --cors-origins; or "*"
 *   compression-min-bytes: 1024 # BERTH_COMPRESSION_MIN_BYTES; -1 never compresses answers
 *   grpc-keepalive-time: 2h                   # BERTH_GRPC_KEEPALIVE_TIME, --grpc-keepalive-time
 *   grpc-keepalive-timeout: 20s               # BERTH_GRPC_KEEPALIVE_TIMEOUT, --grpc-keepalive-timeout
 *   grpc-permit-keepalive-time: 5m            # BERTH_GRPC_PERMIT_KEEPALIVE_TIME, --grpc-permit-keepalive-time
 *   grpc-permit-keepalive-without-calls: false # BERTH_GRPC_PERMIT_KEEPALIVE_WITHOUT_CALLS, --grpc-permit-keepalive-without-calls
 *   max-request-time: 30s       # BERTH_MAX_REQUEST_TIME, --max-request-time (0: none)
 *   max-queue-size: 1024        # BERTH_MAX_QUEUE_SIZE, --max-queue-size (per version, unless its serving config says)
 *   max-tensor-bytes: 268435456 # BERTH_MAX_TENSOR_BYTES, --max-tensor-bytes (one request's inputs; its outputs)
 *   max-connections: 1000       # BERTH_MAX_CONNECTIONS, --max-connections (per listener, REST and gRPC)
 *   tls-cert: /tls/tls.crt      # BERTH_TLS_CERT, --tls-cert (PEM chain; with tls-key: REST and gRPC over TLS)
 *   tls-key: /tls/tls.key       # BERTH_TLS_KEY, --tls-key (PEM private key, PKCS#8 or PKCS#1, unencrypted)
 *   tls-client-ca: /tls/ca.crt  # BERTH_TLS_CLIENT_CA, --tls-client-ca (require client certificates from this CA)
 *   inference-tokens: a,b       # BERTH_INFERENCE_TOKENS (comma-separated): bearer tokens inference needs
 *   inference-token-file: /run/secrets/tokens # BERTH_INFERENCE_TOKEN_FILE, --inference-token-file (one per line)
 *   metrics-port: 9090          # BERTH_METRICS_PORT, --metrics-port (/metrics on its own plain-HTTP port)
 * </pre>
 */
public final class ServeSettings {
    /** The root node of berth's keys. */
    public static final String ROOT = "berth";

    /** Environment variables and the keys they set; later entries win over earlier ones. */
    private static final Map<String, String> ENV = orderedEnv();

    private ServeSettings() {
    }

    private static Map<String, String> orderedEnv() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("BERTH_MODELS", "models");
        m.put("BERTH_HOST", "host");
        m.put("PORT", "port");
        m.put("BERTH_PORT", "port");
        m.put("BERTH_GRPC_PORT", "grpc-port");
        m.put("BERTH_MAX_REQUEST_BYTES", "max-request-bytes");
        m.put("BERTH_REPOSITORY_TOKEN", "repository-token");
        m.put("BERTH_OPEN_REPOSITORY_API", "open-repository-api");
        m.put("BERTH_LENIENT_READINESS", "lenient-readiness");
        m.put("BERTH_ALLOW_EMPTY", "allow-empty");
        m.put("BERTH_DRAIN_TIMEOUT_SECONDS", "drain-timeout-seconds");
        m.put("BERTH_DRAIN_GRACE_SECONDS", "drain-grace-seconds");
        m.put("BERTH_REPORT_INTERVAL", "report-interval");
        m.put("BERTH_REPORTS_DIR", "reports-dir");
        m.put("BERTH_CORS_ORIGINS", "cors-origins");
        m.put("BERTH_COMPRESSION_MIN_BYTES", "compression-min-bytes");
        m.put("BERTH_GRPC_KEEPALIVE_TIME", "grpc-keepalive-time");
        m.put("BERTH_GRPC_KEEPALIVE_TIMEOUT", "grpc-keepalive-timeout");
        m.put("BERTH_GRPC_PERMIT_KEEPALIVE_TIME", "grpc-permit-keepalive-time");
        m.put("BERTH_GRPC_PERMIT_KEEPALIVE_WITHOUT_CALLS", "grpc-permit-keepalive-without-calls");
        m.put("BERTH_MAX_REQUEST_TIME", "max-request-time");
        m.put("BERTH_MAX_QUEUE_SIZE", "max-queue-size");
        m.put("BERTH_MAX_TENSOR_BYTES", "max-tensor-bytes");
        m.put("BERTH_MAX_CONNECTIONS", "max-connections");
        m.put("BERTH_TLS_CERT", "tls-cert");
        m.put("BERTH_TLS_KEY", "tls-key");
        m.put("BERTH_TLS_CLIENT_CA", "tls-client-ca");
        m.put("BERTH_INFERENCE_TOKENS", "inference-tokens");
        m.put("BERTH_INFERENCE_TOKEN_FILE", "inference-token-file");
        m.put("BERTH_METRICS_PORT", "metrics-port");
        return m;
    }

    /**
     * Builds the configuration.
     *
     * @param yamlFile a YAML file, or null for none
     * @param env      the environment (usually {@link System#getenv()})
     * @param flags    keys (relative to {@code berth}, e.g. {@code port}) given on the command line
     * @return the {@code berth} node
     */
    public static Config load(Path yamlFile, Map<String, String> env, Map<String, String> flags) {
        Map<String, String> fromEnv = new LinkedHashMap<>();
        ENV.forEach((var, key) -> {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                fromEnv.put(ROOT + "." + key, v.trim());
            }
        });
        Map<String, String> fromFlags = new LinkedHashMap<>();
        flags.forEach((k, v) -> fromFlags.put(ROOT + "." + k, v));
        Config.Builder b = Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                // Helidon gives earlier sources precedence
                .addSource(ConfigSources.create(fromFlags, "command line"))
                .addSource(ConfigSources.create(fromEnv, "environment"));
        if (yamlFile != null) {
            if (!Files.isRegularFile(yamlFile)) {
                throw new IllegalArgumentException("config file " + yamlFile + " does not exist");
            }
            b.addSource(ConfigSources.file(yamlFile).mediaType(MediaTypes.APPLICATION_X_YAML));
        }
        return b.build().get(ROOT);
    }
}
