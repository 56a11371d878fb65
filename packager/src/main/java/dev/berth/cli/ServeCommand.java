package dev.berth.cli;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.onnx.OrtNatives;
import dev.berth.server.BerthServer;
import dev.berth.server.ServeSettings;
import io.helidon.config.Config;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code berth serve}: the Open Inference Protocol over REST and gRPC for every model in the
 * registry, until SIGTERM or Ctrl-C, which stop it gracefully (stop admitting, finish what is in
 * flight, close the sessions).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves every model of the registry over the Open Inference Protocol (REST and gRPC).",
                "Settings come from flags, then BERTH_* environment variables (and PORT), then --config FILE (YAML)."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Option(names = "--host", paramLabel = "HOST", description = "Address to listen on (default: 127.0.0.1).")
    String host;
    @Option(names = "--port", paramLabel = "PORT", description = "HTTP port, 0 for a free one (default: $PORT, else 8080).")
    Integer port;
    @Option(names = "--grpc-port", paramLabel = "PORT",
            description = "gRPC port, 0 for a free one (default: 8081; a free one when --port is 0).")
    Integer grpcPort;
    @Option(names = "--grpc-keepalive-time", paramLabel = "DURATION",
            description = "Ping a gRPC client after this long without traffic (default: 2h).")
    String grpcKeepaliveTime;
    @Option(names = "--grpc-keepalive-timeout", paramLabel = "DURATION",
            description = "Close a gRPC connection whose ping is not answered within this (default: 20s).")
    String grpcKeepaliveTimeout;
    @Option(names = "--grpc-permit-keepalive-time", paramLabel = "DURATION",
            description = "Shortest ping interval allowed to gRPC clients; faster pings close the connection (default: 5m).")
    String grpcPermitKeepaliveTime;
    @Option(names = "--grpc-permit-keepalive-without-calls", paramLabel = "BOOL", arity = "0..1", fallbackValue = "true",
            description = "Allow gRPC clients to ping while they have no call open (default: false).")
    Boolean grpcPermitKeepaliveWithoutCalls;
    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (keys under 'berth:').")
    Path config;
    @Option(names = "--repository-token", paramLabel = "TOKEN",
            description = "Bearer token required by the repository API (index, load, unload).")
    String repositoryToken;
    @Option(names = "--open-repository-api",
            description = "Let anyone who reaches the port load and unload models when no --repository-token is set (default: refused).")
    Boolean openRepositoryApi;
    @Option(names = "--lenient-readiness",
            description = "Report ready once every model was tried, even when some failed to load (default: strict, as Triton).")
    Boolean lenientReadiness;
    @Option(names = "--allow-empty", description = "Serve a registry that holds no model (default: refused).")
    Boolean allowEmpty;
    @Option(names = "--max-request-bytes", paramLabel = "N", description = "Largest request body accepted (default: 64 MiB).")
    Long maxRequestBytes;
    @Option(names = "--max-request-time", paramLabel = "DURATION",
            description = "Longest an inference request may take in the server, queue and run; a client's shorter timeout wins; 0 for none (default: 30s).")
    String maxRequestTime;
    @Option(names = "--max-queue-size", paramLabel = "N",
            description = "Requests that may wait per model version where its serving config sets no max_queue_size; more get 429 (default: 1024).")
    Integer maxQueueSize;
    @Option(names = "--max-tensor-bytes", paramLabel = "N",
            description = "Most bytes one request's decoded inputs, and its outputs, may take; more get 413 (default: 256 MiB).")
    Long maxTensorBytes;
    @Option(names = "--max-connections", paramLabel = "N",
            description = "Most connections open at once on each listener (REST, gRPC); more are answered 503 / UNAVAILABLE (default: 1000).")
    Integer maxConnections;
    @Option(names = "--cors-origins", paramLabel = "ORIGINS",
            description = "Comma-separated origins (https://host[:port]) whose browser pages may call the REST API, or * for any (default: none, CORS off).")
    String corsOrigins;
    @Option(names = "--poll-interval", paramLabel = "DURATION",
            description = "With --models oci://...: time between two reads of the repositories' tags (default: 30s).")
    String pollInterval;
    @Option(names = "--cache", paramLabel = "DIR",
            description = "With --models oci://...: the local cache (default: $XDG_CACHE_HOME/berth/oci, else ~/.cache/berth/oci).")
    Path cache;
    @picocli.CommandLine.Mixin
    RegistryOptions registryOptions;
    @Option(names = "--reports-dir", paramLabel = "DIR",
            description = "Folder for the monitoring reports (default: each served version's monitoring/ folder).")
    String reportsDir;
    @Option(names = "--report-interval", paramLabel = "DURATION",
            description = "Time between monitoring reports written into each served version (default: 5m; e.g. 30s, 5m, 1h).")
    String reportInterval;

    @Option(names = "--drain-grace-seconds", paramLabel = "N",
            description = "After SIGTERM, keep answering (not ready, new requests 503) this long before closing (default: 5).")
    Long drainGraceSeconds;
    @Option(names = "--drain-timeout-seconds", paramLabel = "N",
            description = "After SIGTERM, exit within this many seconds whatever is left in flight (default: 30).")
    Long drainTimeoutSeconds;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain: with --tls-key, REST (https) and gRPC are served over TLS.")
    String tlsCert;
    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert (PKCS#8 or PKCS#1, unencrypted).")
    String tlsKey;
    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "Require client certificates signed by this PEM CA (mutual TLS; needs --tls-cert).")
    String tlsClientCa;
    @Option(names = "--inference-token-file", paramLabel = "FILE",
            description = "Bearer tokens (one per line) that inference and /metrics need; health stays open. Also BERTH_INFERENCE_TOKENS.")
    String inferenceTokenFile;
    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve /metrics on this port of its own (plain HTTP, no token) instead of the REST port.")
    Integer metricsPort;

    /** {@code berth serve}'s grace: long enough for a load balancer polling readiness every few seconds. */
    static final Duration DEFAULT_DRAIN_GRACE = Duration.ofSeconds(5);

    @Override
    public Integer call() throws InterruptedException {
        Map<String, String> flags = new LinkedHashMap<>();
        if (models.models != null) {
            flags.put("models", models.models.toString());
        }
        put(flags, "host", host);
        put(flags, "port", port);
        put(flags, "grpc-port", grpcPort);
        put(flags, "repository-token", repositoryToken);
        put(flags, "open-repository-api", openRepositoryApi);
        put(flags, "lenient-readiness", lenientReadiness);
        put(flags, "allow-empty", allowEmpty);
        put(flags, "max-request-bytes", maxRequestBytes);
        put(flags, "report-interval", reportInterval);
        put(flags, "poll-interval", pollInterval);
        put(flags, "cache", cache);
        put(flags, "drain-grace-seconds", drainGraceSeconds);
        put(flags, "drain-timeout-seconds", drainTimeoutSeconds);
        put(flags, "reports-dir", reportsDir);
        put(flags, "cors-origins", corsOrigins);
        put(flags, "max-request-time", maxRequestTime);
        put(flags, "max-queue-size", maxQueueSize);
        put(flags, "max-tensor-bytes", maxTensorBytes);
        put(flags, "max-connections", maxConnections);
        put(flags, "grpc-keepalive-time", grpcKeepaliveTime);
        put(flags, "grpc-keepalive-timeout", grpcKeepaliveTimeout);
        put(flags, "grpc-permit-keepalive-time", grpcPermitKeepaliveTime);
        put(flags, "grpc-permit-keepalive-without-calls", grpcPermitKeepaliveWithoutCalls);
        put(flags, "tls-cert", tlsCert);
        put(flags, "tls-key", tlsKey);
        put(flags, "tls-client-ca", tlsClientCa);
        put(flags, "inference-token-file", inferenceTokenFile);
        put(flags, "metrics-port", metricsPort);
        Config settings;
        try {
            settings = ServeSettings.load(config, System.getenv(), flags);
        } catch (IllegalArgumentException | io.helidon.config.ConfigException e) {
            throw new InvalidArgumentException(e.getMessage());
        }
        String modelsSetting = settings.get("models").asString().orElse(null);
        dev.berth.oci.OciMirror mirror = dev.berth.oci.MirrorSource.isOci(modelsSetting)
                ? OciServing.start(modelsSetting, settings, registryOptions, spec.commandLine().getOut()) : null;
        Path root = mirror != null ? mirror.modelsRoot()
                : settings.get("models").asString().map(Path::of).orElse(LocalRegistry.defaultRoot(null));
        if (mirror == null && !Files.isDirectory(root)) {
            throw new InvalidArgumentException("no registry folder at " + root.toAbsolutePath()
                    + " (give --models DIR or set BERTH_MODELS)");
        }
        if (!settings.get("allow-empty").asBoolean().orElse(false)) {
            EmptyRegistry.check(root);
        }
        ModelConfigs.check(LocalRegistry.open(root), spec.commandLine().getErr());
        BerthServer server;
        BerthMetrics metrics = null;
        try {
            metrics = metrics(root, settings);
            server = BerthServer.builder().drainGrace(DEFAULT_DRAIN_GRACE).config(settings).models(root).monitoring(metrics).build();
        } catch (IllegalArgumentException e) {
            if (metrics != null) {
                metrics.close();
            }
            throw new InvalidArgumentException(e.getMessage());
        }
        BerthMetrics monitoring = metrics;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("berth-shutdown").unstarted(() -> {
            try {
                if (mirror != null) {
                    mirror.close(); // no poll while the server goes down
                }
                server.stop();
            } finally {
                try {
                    monitoring.close(); // writes the last monitoring reports
                    if (mirror != null) {
                        mirror.pushReports(); // ...which then reach the shared registry too
                    }
                } finally {
                    // every session is closed now: ONNX Runtime's environment may go (never before, see OrtNatives)
                    OrtNatives.releaseAtShutdown();
                    stopped.countDown();
                }
            }
        }));
        server.start();
        PrintWriter out = spec.commandLine().getOut();
        awaitLoads(server, out);
        server.inferenceService().notReadyReason().ifPresent(reason -> {
            PrintWriter err = spec.commandLine().getErr();
            err.println("berth: warning: not ready (/v2/health/ready answers 503): " + reason);
            err.flush();
        });
        out.println("berth serving " + root.toAbsolutePath().normalize() + " on " + (server.tls() ? "https" : "http") + "://"
                + server.host() + ":" + server.port() + " (REST), gRPC on port " + server.grpcPort()
                + (server.metricsPort() >= 0 ? ", metrics on port " + server.metricsPort() : ""));
        out.flush();
        stopped.await();
        return 0;
    }

    /**
     * Holds the "berth serving" line back until every model's first load was tried, so that it is the
     * last thing a start prints and means what it says; a slow load says so instead of staying silent,
     * and a server whose loads are still running after {@link #READY_PATIENCE} announces itself anyway
     * (it serves what loaded).
     */
    /**
     * The monitoring of {@code berth serve}: meters, and reports into the registry at {@code models} (or
     * the {@code reports-dir} of the settings, for a read-only registry such as an image's) every
     * {@code report-interval} (default 5 minutes).
     *
     * @throws IllegalArgumentException when the interval is not a duration
     */
    static BerthMetrics metrics(Path models, Config settings) {
        Duration interval = settings.get("report-interval").asString().map(BerthMetrics::parseInterval)
                .orElse(BerthMetrics.DEFAULT_REPORT_INTERVAL);
        LocalRegistry registry = LocalRegistry.open(models);
        registry = settings.get("reports-dir").asString().filter(s -> !s.isBlank())
                .map(dir -> LocalRegistry.open(models).withReportsDir(Path.of(dir))).orElse(registry);
        return BerthMetrics.builder().registry(registry).reportInterval(interval).build();
    }

    private static void awaitLoads(BerthServer server, PrintWriter out) throws InterruptedException {
        long start = System.nanoTime();
        long nextNotice = start + SLOW_LOAD_NOTICE.toNanos();
        while (!server.inferenceService().loadsTried() && System.nanoTime() - start < READY_PATIENCE.toNanos()) {
            if (System.nanoTime() > nextNotice) {
                out.println("berth: listening on http://" + server.host() + ":" + server.port() + ", models still loading...");
                out.flush();
                nextNotice = Long.MAX_VALUE;
            }
            Thread.sleep(20);
        }
    }

    private static final Duration SLOW_LOAD_NOTICE = Duration.ofSeconds(3);
    private static final Duration READY_PATIENCE = Duration.ofMinutes(5);

    private static void put(Map<String, String> flags, String key, Object value) {
        if (value != null) {
            flags.put(key, value.toString());
        }
    }
}
