package dev.berth.server;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of {@code berth serve}, declared once: its key (the YAML name under {@code berth:}
 * and, with {@code --}, the flag), the environment variable ({@code BERTH_} and the key in capitals),
 * the syntax, the default and what it does. {@link ServeSettings} reads the environment from this
 * list, {@code berth serve} builds its flags and help from it, and docs/server.md's settings table
 * is generated from it (a test keeps the three in step).
 */
public enum ServeOption {
    MODELS("models", "DIR", "./models", "Registry folder to serve, or oci://REGISTRY/REPOSITORY[,...] (mirrored into --cache)."),
    HOST("host", "HOST", "127.0.0.1", "Address to listen on."),
    PORT("port", "PORT", "8080", "REST port, 0 for a free one; also $PORT."),
    GRPC_PORT("grpc-port", "PORT", "8081", "gRPC port, 0 for a free one (a free one when --port is 0)."),
    METRICS_PORT("metrics-port", "PORT", "none", "Serve /metrics on this port of its own (plain HTTP, no token) instead of the REST port."),
    MAX_REQUEST_BYTES("max-request-bytes", "N", "67108864", "Largest request body accepted (REST and gRPC); larger ones get 413 / RESOURCE_EXHAUSTED."),
    MAX_REQUEST_TIME("max-request-time", "DURATION", "30s",
            "Longest an inference request may take in the server, queue and run; a client's shorter timeout wins; 0 for none."),
    MAX_QUEUE_SIZE("max-queue-size", "N", "1024",
            "Requests that may wait per model version where its serving config sets no max_queue_size; more get 429."),
    MAX_TENSOR_BYTES("max-tensor-bytes", "N", "268435456", "Most bytes one request's decoded inputs, and its outputs, may take; more get 413."),
    MAX_CONNECTIONS("max-connections", "N", "1000", "Most connections open at once on each listener (REST, gRPC); more get 503 / UNAVAILABLE."),
    REPOSITORY_TOKEN("repository-token", "TOKEN", "none", "Bearer token the repository API (index, load, unload) requires."),
    OPEN_REPOSITORY_API("open-repository-api", "BOOL", "false",
            "Let anyone who reaches the port load and unload models when no repository token is set."),
    INFERENCE_TOKEN_FILE("inference-token-file", "FILE", "none",
            "Bearer tokens (one per line) that inference and /metrics need; health stays open."),
    INFERENCE_TOKENS("inference-tokens", "LIST", "none", "Bearer tokens, comma-separated (environment or YAML only: no flag, so not in ps).", false),
    TLS_CERT("tls-cert", "FILE", "none", "PEM certificate chain: with --tls-key, REST (https) and gRPC are served over TLS."),
    TLS_KEY("tls-key", "FILE", "none", "PEM private key of --tls-cert (PKCS#8 or PKCS#1, unencrypted)."),
    TLS_CLIENT_CA("tls-client-ca", "FILE", "none", "Require client certificates signed by this PEM CA (mutual TLS; needs --tls-cert)."),
    CORS_ORIGINS("cors-origins", "ORIGINS", "none",
            "Comma-separated origins (https://host[:port]) whose browser pages may call the REST API, or * for any."),
    COMPRESSION_MIN_BYTES("compression-min-bytes", "N", "1024", "Smallest answer compressed for a client that accepts gzip or deflate; -1 never."),
    LENIENT_READINESS("lenient-readiness", "BOOL", "false",
            "Report ready once every model was tried, even when some failed to load (strict, as Triton, by default)."),
    ALLOW_EMPTY("allow-empty", "BOOL", "false", "Serve a registry that holds no model (refused by default)."),
    POLL_INTERVAL("poll-interval", "DURATION", "2s (folder), 30s (oci://)",
            "Time between two reads of the registry (a folder's files, or the OCI repositories' tags) for hot reload."),
    CACHE("cache", "DIR", "$XDG_CACHE_HOME/berth/oci", "With --models oci://...: the local content-addressed cache."),
    REPORT_INTERVAL("report-interval", "DURATION", "5m", "Time between monitoring reports written beside each served version; at least 1s."),
    REPORTS_DIR("reports-dir", "DIR", "none", "Folder for the monitoring reports instead of each served version's monitoring/ folder."),
    DRAIN_GRACE("drain-grace", "DURATION", "5s", "After SIGTERM, keep answering (not ready, new requests 503) this long before closing.",
            true, "drain-grace-seconds"),
    DRAIN_TIMEOUT("drain-timeout", "DURATION", "30s", "After SIGTERM, exit within this long whatever is left in flight (the whole stop).",
            true, "drain-timeout-seconds"),
    GRPC_KEEPALIVE_TIME("grpc-keepalive-time", "DURATION", "2h", "Ping a gRPC client after this long without traffic."),
    GRPC_KEEPALIVE_TIMEOUT("grpc-keepalive-timeout", "DURATION", "20s", "Close a gRPC connection whose ping is not answered within this."),
    GRPC_PERMIT_KEEPALIVE_TIME("grpc-permit-keepalive-time", "DURATION", "5m",
            "Shortest ping interval allowed to gRPC clients; faster pings close the connection."),
    GRPC_PERMIT_KEEPALIVE_WITHOUT_CALLS("grpc-permit-keepalive-without-calls", "BOOL", "false",
            "Allow gRPC clients to ping while they have no call open.");

    private final String key;
    private final String syntax;
    private final String defaultValue;
    private final String description;
    private final boolean flag;
    private final List<String> aliases;

    ServeOption(String key, String syntax, String defaultValue, String description) {
        this(key, syntax, defaultValue, description, true);
    }

    ServeOption(String key, String syntax, String defaultValue, String description, boolean flag, String... aliases) {
        this.key = key;
        this.syntax = syntax;
        this.defaultValue = defaultValue;
        this.description = description;
        this.flag = flag;
        this.aliases = List.of(aliases);
    }

    /** The YAML key under {@code berth:}. */
    public String key() {
        return key;
    }

    /** The environment variable. */
    public String env() {
        return env(key);
    }

    private static String env(String key) {
        return "BERTH_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** The flag, or empty for a setting with none ({@link #INFERENCE_TOKENS}: secrets stay out of command lines). */
    public Optional<String> flag() {
        return flag ? Optional.of("--" + key) : Optional.empty();
    }

    /** Older spellings still read (YAML keys and, with {@code --}, flags), e.g. {@code drain-timeout-seconds}. */
    public List<String> aliases() {
        return aliases;
    }

    /** What the value looks like: {@code PORT}, {@code DURATION}, {@code BOOL} ... */
    public String syntax() {
        return syntax;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** Whether the value is true/false (a flag given alone means true). */
    public boolean isBoolean() {
        return syntax.equals("BOOL");
    }

    /** Environment variables and the keys they set, {@code PORT} (what platforms set) first so that {@code BERTH_PORT} wins. */
    static Map<String, String> environment() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("PORT", PORT.key);
        for (ServeOption o : values()) {
            for (String alias : o.aliases) {
                m.put(env(alias), alias);
            }
            m.put(o.env(), o.key);
        }
        return m;
    }

    /** The settings table of docs/server.md. */
    public static String markdownTable() {
        StringBuilder t = new StringBuilder("| YAML key | flag | environment | value | default | what it does |\n|---|---|---|---|---|---|\n");
        for (ServeOption o : values()) {
            t.append("| `").append(o.key).append('`');
            for (String a : o.aliases) {
                t.append(" (or `").append(a).append("`)");
            }
            t.append(" | ").append(o.flag().map(f -> "`" + f + "`").orElse("-"))
                    .append(" | `").append(o.env()).append(o == PORT ? "`, `PORT`" : "`")
                    .append(" | ").append(o.syntax)
                    .append(" | ").append(o.defaultValue)
                    .append(" | ").append(o.description.replace("|", "\\|")).append(" |\n");
        }
        return t.toString();
    }
}
