package dev.berth.server;

import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.onnx.OnnxInferenceService;
import dev.berth.server.codec.AliasingInferMarshaller;
import dev.berth.server.spi.RequestMetrics;
import dev.berth.server.spi.ServerMonitoring;
import io.grpc.ServerInterceptor;
import io.helidon.config.Config;
import io.helidon.config.ConfigException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.http2.Http2Config;
import io.helidon.webserver.http2.Http2ConnectionSelector;
import io.helidon.webserver.http2.Http2Upgrader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * berth's Open Inference Protocol server: REST and gRPC front ends over one {@link InferenceService},
 * REST on Helidon's WebServer, gRPC on grpc-java's Netty server on a port of its own (8081 by
 * default, KServe's convention; see {@link GrpcServer} for why not Helidon's gRPC).
 *
 * <pre>{@code
 * BerthServer server = BerthServer.builder().models(Path.of("models")).port(8080).build().start();
 * }</pre>
 *
 * The server owns its core: {@link #stop()} stops admitting requests, lets those in flight finish,
 * stops the listeners and closes the core.
 *
 * <p>Over 450 lines because its {@link Builder} is the public list of serving options, one
 * documented typed setter each, plus {@code config(Config)} reading them ({@link ServeOption}
 * declares each key once; the setters stay as the typed API); routing setup and life cycle are
 * short beside it, so no seam would take the length out.
 */
public final class BerthServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BerthServer.class.getName());

    /** Default request size limit: 64 MiB. */
    public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 20;
    /** Default listen address: loopback only, so a development server is not exposed by accident. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    /** The gRPC port unless configured (or unless the HTTP port is 0, see {@link Builder#grpcPort}). */
    public static final int DEFAULT_GRPC_PORT = 8081;
    /**
     * Default ceiling on one inference request's time in the server (queue and run): 30 s, the default
     * drain timeout, so that a drain can always finish what it admitted.
     */
    public static final Duration DEFAULT_MAX_REQUEST_TIME = Duration.ofSeconds(30);
    /** Default cap on open connections, per listener (REST, gRPC). */
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;
    /** Helidon's name for the listener of {@link Builder#metricsPort}. */
    private static final String METRICS_SOCKET = "metrics";

    private final Builder settings;
    private final InferenceService core;
    private final InFlight inFlight = new InFlight();
    private final WebServer webServer;
    private final GrpcHealth health;
    private final GrpcServer grpcServer;
    private final Object lifecycle = new Object();
    private boolean stopped;

    private BerthServer(Builder b, InferenceService core) {
        this.settings = b;
        this.core = core;
        ServerInfo info = new ServerInfo(ServerInfo.NAME, ServerInfo.berthVersion(), b.extensions);
        RepositoryAccess repository = RepositoryAccess.of(Optional.ofNullable(b.repositoryToken), b.openRepositoryApi);
        // REST's exchanges enter the drain in Replies' filter, from their first byte; gRPC's calls in the exchange
        OipRestService rest = new OipRestService(core, info, new InferenceExchange(core, b.requestMetrics,
                RequestMetrics.Protocol.REST, inFlight, InferenceExchange.Admission.ofExchange(Replies::admitted),
                b.maxRequestTime), b.maxRequestBytes, repository);
        OipGrpcService grpc = new OipGrpcService(core, info, new InferenceExchange(core, b.requestMetrics,
                RequestMetrics.Protocol.GRPC, inFlight, InferenceExchange.Admission.ofCalls(inFlight), b.maxRequestTime),
                repository, Optional.ofNullable(b.monitoring));

        ConnectionCap connections = new ConnectionCap(b.maxConnections);
        HttpRouting.Builder http = HttpRouting.builder();
        // every answer leaves through Replies (compression, HEAD, Connection: close), CORS headers come first
        http.addFilter(Replies.filter(b.compressionMinBytes, inFlight));
        // requests on an HTTP/2 connection over max-connections get a 503 before anything else runs
        http.addFilter(connections.filter());
        Cors.of(b.corsOrigins).ifPresent(cors -> http.addFilter(cors.filter()));
        // after CORS: a browser's preflight carries no credentials
        Optional<InferenceAuthentication> auth = InferenceAuthentication.of(b.inferenceTokens, Optional.ofNullable(b.repositoryToken));
        auth.ifPresent(a -> http.addFilter(a.restFilter()));
        // extra services first, then monitoring's: their routes must win over the inference routes and the
        // catch-all 404 (/v2/models/stats is not a model named "stats")
        for (HttpService s : b.services) {
            http.register(s);
        }
        // the inference routes next: tried first for every request after the extra services' (see inferRoutes)
        rest.inferRoutes(http);
        boolean metricsApart = b.metricsPort >= 0;
        http.register(new MonitoringRoutes(Optional.ofNullable(b.monitoring), metricsApart ? MonitoringRoutes.Metrics.ELSEWHERE
                : MonitoringRoutes.Metrics.HERE));
        http.register(rest);
        RestRoutes.install(http);
        this.health = new GrpcHealth(core, inFlight);
        // ModelInfer and ModelStreamInfer parse with aliasing: raw tensors stay views of the received message
        this.grpcServer = GrpcServer.create(b.host, b.resolvedGrpcPort(), b.maxRequestBytes, b.grpcKeepalive,
                AliasingInferMarshaller.aliasingInfer(grpc), health, grpcInterceptors(auth),
                new GrpcConnectionCap(b.maxConnections), Optional.ofNullable(b.tls).map(TransportSecurity::grpc));

        // one set of HTTP/1 limits for Helidon's selector and berth's (which takes HTTP/1.0 and over-long lines)
        Http1Config http1 = Http1Config.builder()
                .maxPrologueLength(DirectAnswers.MAX_REQUEST_LINE_BYTES)
                .maxHeadersSize(DirectAnswers.MAX_HEADER_BYTES)
                .build();
        // REST over h2c, by upgrade and by prior knowledge (sidecar proxies use the latter)
        Http2Config http2 = Http2Config.create();
        WebServerConfig.Builder web = WebServer.builder()
                .host(b.host)
                .port(b.port)
                .shutdownHook(false)
                .addProtocol(http1)
                // every kind of connection the REST port takes, each counted against max-connections; listed
                // before the selectors Helidon adds itself, which so never see a connection (first match wins)
                .addConnectionSelector(connections.wrap(new LegacyHttpSelector(http1)))
                .addConnectionSelector(connections.wrap(Http1ConnectionSelector.builder().config(http1)
                        .addUpgrader(Http2Upgrader.create(http2)).build()))
                .addConnectionSelector(connections.wrapHttp2(Http2ConnectionSelector.builder().http2Config(http2).build()))
                // gzip and deflate request bodies decoded; responses are compressed by Replies, not Helidon
                .contentEncoding(ContentCodings.requestDecoding())
                // hands Helidon's own error messages to the direct handlers, which tell 431 from 400 by them
                .errorHandling(e -> e.includeEntity(true))
                .maxPayloadSize(b.maxRequestBytes)
                .directHandlers(DirectAnswers.create(b.maxRequestBytes, b.maxConnections))
                .shutdownGracePeriod(b.drainTimeout)
                // Responses leave in several writes (headers, JSON, binary tensors); with Nagle's
                // algorithm on, each write after the first waits for the client's delayed ACK.
                .connectionOptions(o -> o.tcpNoDelay(true))
                .addRouting(http);
        if (b.tls != null) {
            web.tls(b.tls.rest());
        }
        if (metricsApart) {
            web.putSocket(METRICS_SOCKET, s -> s.host(b.host).port(b.metricsPort));
            HttpRouting.Builder metrics = HttpRouting.builder();
            metrics.addFilter(Replies.filter(b.compressionMinBytes, inFlight));
            metrics.register(new MonitoringRoutes(Optional.ofNullable(b.monitoring), MonitoringRoutes.Metrics.ONLY));
            RestRoutes.install(metrics);
            web.routing(METRICS_SOCKET, metrics);
        }
        this.webServer = web.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    private static List<ServerInterceptor> grpcInterceptors(Optional<InferenceAuthentication> auth) {
        List<ServerInterceptor> out = new ArrayList<>();
        out.add(OipGrpcService.authorizationInterceptor());
        // registered last of these, so it runs first: an unauthenticated call goes no further
        auth.ifPresent(a -> out.add(a.grpcInterceptor()));
        return out;
    }

    /**
     * Starts listening; returns this server.
     *
     * @throws UncheckedIOException wrapping a {@link BindException} when a port cannot be bound
     *                              (the core is closed then)
     */
    public BerthServer start() {
        // Helidon reports a busy port with a logged stack trace; find out first and say it in one line
        probe(settings.port);
        try {
            grpcServer.start();
        } catch (UncheckedIOException e) {
            markStopped();
            core.close();
            throw e;
        }
        webServer.start();
        if (!webServer.isRunning()) {
            // Helidon logs the bind failure and returns instead of throwing
            markStopped();
            grpcServer.stop(Duration.ZERO);
            core.close();
            throw new UncheckedIOException(new BindException("cannot listen on " + settings.host + " port " + settings.port
                    + " (in use, or the address is not local)"));
        }
        LOG.log(System.Logger.Level.INFO, "berth serving the Open Inference Protocol on " + (settings.tls != null ? "https" : "http")
                + "://" + settings.host + ":" + port() + " (REST), gRPC" + (settings.tls != null ? " over TLS" : "") + " on port " + grpcPort()
                + (settings.metricsPort >= 0 ? ", metrics on http://" + settings.host + ":" + metricsPort() + "/metrics" : "")
                + (settings.inferenceTokens.isEmpty() ? "" : "; inference needs a bearer token")
                + (settings.tls != null && settings.tls.requiresClientCertificates() ? "; clients need a certificate" : ""));
        return this;
    }

    /** A later stop() (e.g. from a shutdown hook) has nothing left to do. */
    private void markStopped() {
        synchronized (lifecycle) {
            stopped = true;
        }
    }

    private void probe(int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(settings.host, port));
        } catch (IOException e) {
            markStopped();
            core.close();
            throw new UncheckedIOException(new BindException("cannot listen on " + settings.host + " port " + port
                    + ": " + e.getMessage()));
        }
    }

    /** The bound HTTP port (useful after configuring port 0). */
    public int port() {
        return webServer.port();
    }

    /** Whether both listeners speak TLS. */
    public boolean tls() {
        return settings.tls != null;
    }

    /** The bound metrics port, or -1 when metrics are served on the REST port. */
    public int metricsPort() {
        return settings.metricsPort >= 0 ? webServer.port(METRICS_SOCKET) : -1;
    }

    /** The bound gRPC port (useful after configuring port 0). */
    public int grpcPort() {
        return grpcServer.port();
    }

    public String host() {
        return settings.host;
    }

    public boolean isRunning() {
        return webServer.isRunning();
    }

    /** The core this server answers from. */
    public InferenceService inferenceService() {
        return core;
    }

    /**
     * Graceful stop, bounded by the drain timeout as a whole:
     * <ol>
     *   <li>readiness turns false at once (REST 503, gRPC ServerReady false and health NOT_SERVING,
     *       watchers told now), so a load balancer stops sending;</li>
     *   <li>for the drain grace period the listeners keep answering: new inference work gets 503 with
     *       {@code Connection: close} (gRPC UNAVAILABLE), health and metadata answer, and every
     *       request that had begun (body upload, queue and run included) is finished;</li>
     *   <li>once the grace is over and nothing is in flight (or the drain timeout is reached), the
     *       listeners close (gRPC calls still open, such as streams a client holds, get a few seconds)
     *       and the core closes its sessions.</li>
     * </ol>
     * Idempotent.
     */
    public void stop() {
        synchronized (lifecycle) {
            if (stopped) {
                return;
            }
            stopped = true;
        }
        long start = System.nanoTime();
        long deadline = start + settings.drainTimeout.toNanos();
        inFlight.stopAdmitting();
        health.refresh(); // watchers hear NOT_SERVING now, not at the next poll
        LOG.log(System.Logger.Level.INFO, "draining: not ready; new requests are refused for " + settings.drainGrace.toMillis()
                + " ms while those in flight finish (at most " + settings.drainTimeout.toMillis() + " ms in all)");
        sleepUntil(Math.min(deadline, start + settings.drainGrace.toNanos()));
        if (!inFlight.drain(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
            LOG.log(System.Logger.Level.WARNING, "requests still in flight after " + settings.drainTimeout + "; stopping anyway");
        }
        try {
            // REST first: an HTTP/1 connection opened in the moment its listener closes can lose its request
            // (HTTP/1.1 has no way to refuse it), so that moment comes as early as possible; gRPC's GOAWAY
            // lets clients retry calls the server never started, so its listener can close later
            webServer.stop();
            grpcServer.stop(min(GRPC_CLOSE_GRACE, Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))));
        } finally {
            core.close();
            LOG.log(System.Logger.Level.INFO, "stopped after " + (System.nanoTime() - start) / 1_000_000 + " ms");
        }
    }

    private static void sleepUntil(long nanoTime) {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            try {
                Thread.sleep(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** How long gRPC calls still open after the drain (streams a client keeps open) get before they are cancelled. */
    private static final Duration GRPC_CLOSE_GRACE = Duration.ofSeconds(5);

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * Options of a server. Either {@link #models(Path)} (the server builds its ONNX Runtime core over
     * that registry) or {@link #inferenceService(InferenceService)} must be given.
     */
    public static final class Builder {
        private Path models;
        private InferenceService service;
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private Integer grpcPort;
        private GrpcKeepalive grpcKeepalive = GrpcKeepalive.DEFAULTS;
        private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
        private String repositoryToken;
        private InferenceObserver observer = InferenceObserver.NOOP;
        private RequestMetrics requestMetrics = RequestMetrics.NOOP;
        private ServerMonitoring monitoring;
        private final List<HttpService> services = new ArrayList<>();
        private final List<String> extensions = new ArrayList<>(ServerInfo.BUILT_IN_EXTENSIONS);
        private Duration drainTimeout = Duration.ofSeconds(30);
        private Duration drainGrace = Duration.ZERO;
        private List<String> corsOrigins = List.of();
        private int compressionMinBytes = ContentCodings.DEFAULT_MIN_BYTES;
        private BiFunction<Path, InferenceObserver, InferenceService> coreFactory;
        private Duration maxRequestTime = DEFAULT_MAX_REQUEST_TIME;
        private int maxQueueSize = OnnxInferenceService.DEFAULT_MAX_QUEUE_SIZE;
        private long maxTensorBytes = OnnxInferenceService.DEFAULT_MAX_TENSOR_BYTES;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private boolean openRepositoryApi;
        private boolean strictReadiness = true;
        private boolean allowEmpty;
        private TransportSecurity tls;
        private List<String> inferenceTokens = List.of();
        private int metricsPort = -1;
        private Duration pollInterval;

        private Builder() {
        }

        /**
         * Applies a config node (keys {@code models, host, port, grpc-port, max-request-bytes,
         * repository-token, open-repository-api, lenient-readiness, allow-empty, drain-timeout-seconds, drain-grace-seconds, cors-origins, compression-min-bytes,
         * grpc-keepalive-time, grpc-keepalive-timeout, grpc-permit-keepalive-time,
         * grpc-permit-keepalive-without-calls}); keys that are absent leave the current value.
         * {@code cors-origins} is a list or a comma-separated string.
         */
        public Builder config(Config node) {
            try {
                node.get("models").asString().ifPresent(v -> models(Path.of(v)));
                node.get("host").asString().ifPresent(this::host);
                node.get("port").asInt().ifPresent(this::port);
                node.get("grpc-port").asInt().ifPresent(this::grpcPort);
                node.get("max-request-bytes").asLong().ifPresent(this::maxRequestBytes);
                node.get("repository-token").asString().filter(s -> !s.isBlank()).ifPresent(this::repositoryToken);
                node.get("open-repository-api").asBoolean().ifPresent(this::openRepositoryApi);
                node.get("lenient-readiness").asBoolean().ifPresent(lenient -> strictReadiness(!lenient));
                node.get("allow-empty").asBoolean().ifPresent(this::allowEmpty);
                durationOrAlias(node, ServeOption.DRAIN_TIMEOUT).ifPresent(this::drainTimeout);
                durationOrAlias(node, ServeOption.DRAIN_GRACE).ifPresent(this::drainGrace);
                duration(node, ServeOption.POLL_INTERVAL.key()).ifPresent(this::pollInterval);
                Config cors = node.get("cors-origins");
                if (cors.isList()) {
                    corsOrigins(cors.asList(String.class).get());
                } else {
                    cors.asString().ifPresent(list -> corsOrigins(Cors.split(list)));
                }
                node.get("compression-min-bytes").asInt().ifPresent(this::compressionMinBytes);
                duration(node, "max-request-time").ifPresent(this::maxRequestTime);
                node.get("max-queue-size").asInt().ifPresent(this::maxQueueSize);
                node.get("max-tensor-bytes").asLong().ifPresent(this::maxTensorBytes);
                node.get("max-connections").asInt().ifPresent(this::maxConnections);
                Optional<String> cert = node.get("tls-cert").asString().filter(v -> !v.isBlank());
                Optional<String> key = node.get("tls-key").asString().filter(v -> !v.isBlank());
                if (cert.isPresent() != key.isPresent()) {
                    throw new IllegalArgumentException("TLS needs both tls-cert and tls-key (--tls-cert, --tls-key)");
                }
                Optional<Path> clientCa = node.get("tls-client-ca").asString().filter(v -> !v.isBlank()).map(Path::of);
                if (cert.isPresent()) {
                    tls(TransportSecurity.of(Path.of(cert.get()), Path.of(key.get()), clientCa));
                } else if (clientCa.isPresent()) {
                    throw new IllegalArgumentException("tls-client-ca needs tls-cert and tls-key: client certificates are asked for over TLS");
                }
                List<String> tokens = new ArrayList<>();
                node.get("inference-tokens").asString().ifPresent(v -> Cors.split(v).forEach(tokens::add));
                node.get("inference-token-file").asString().filter(v -> !v.isBlank())
                        .ifPresent(f -> tokens.addAll(InferenceAuthentication.readTokens(Path.of(f))));
                if (!tokens.isEmpty()) {
                    inferenceTokens(tokens);
                }
                node.get("metrics-port").asInt().ifPresent(this::metricsPort);
                GrpcKeepalive k = grpcKeepalive;
                k = duration(node, "grpc-keepalive-time").map(k::withTime).orElse(k);
                k = duration(node, "grpc-keepalive-timeout").map(k::withTimeout).orElse(k);
                k = duration(node, "grpc-permit-keepalive-time").map(k::withPermitTime).orElse(k);
                k = node.get("grpc-permit-keepalive-without-calls").asBoolean().map(k::withPermitWithoutCalls).orElse(k);
                grpcKeepalive(k);
            } catch (ConfigException e) {
                throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
            }
            return this;
        }

        private static Optional<Duration> duration(Config node, String key) {
            return node.get(key).asString().map(v -> Durations.parse(key, v));
        }

        /** The option's duration, else its older spelling's (a bare number is seconds in both). */
        private static Optional<Duration> durationOrAlias(Config node, ServeOption option) {
            Optional<Duration> d = duration(node, option.key());
            for (String alias : option.aliases()) {
                d = d.or(() -> duration(node, alias));
            }
            return d;
        }

        /**
         * How often the folder registry is read for hot reload (new versions, moved aliases, changed
         * files); the core's default unless set.
         */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = Objects.requireNonNull(interval, "pollInterval");
            return this;
        }

        /** Serve the registry in this folder with berth's ONNX Runtime core. */
        public Builder models(Path dir) {
            this.models = Objects.requireNonNull(dir, "models");
            return this;
        }

        /** Serve from this core (the server closes it on stop). */
        public Builder inferenceService(InferenceService core) {
            this.service = Objects.requireNonNull(core, "inferenceService");
            return this;
        }

        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** HTTP port; 0 picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /**
         * gRPC port; 0 picks a free one. Unset, it is {@value #DEFAULT_GRPC_PORT}, or a free one when
         * the HTTP port is 0, so that servers started on free ports (tests, side-by-side instances)
         * do not collide on 8081.
         */
        public Builder grpcPort(int port) {
            this.grpcPort = port;
            return this;
        }

        /** HTTP/2 keepalive of the gRPC listener; {@link GrpcKeepalive#DEFAULTS} unless set. */
        public Builder grpcKeepalive(GrpcKeepalive keepalive) {
            this.grpcKeepalive = Objects.requireNonNull(keepalive, "grpcKeepalive");
            return this;
        }

        private int resolvedGrpcPort() {
            return grpcPort != null ? grpcPort : port == 0 ? 0 : DEFAULT_GRPC_PORT;
        }

        /** Largest request body accepted (REST and gRPC); larger ones get 413 / RESOURCE_EXHAUSTED. */
        public Builder maxRequestBytes(long bytes) {
            this.maxRequestBytes = bytes;
            return this;
        }

        /**
         * Bearer token the repository API (index, load, unload) demands. Without one the index is
         * open and load/unload are refused unless {@link #openRepositoryApi(boolean)}.
         */
        public Builder repositoryToken(String token) {
            this.repositoryToken = token;
            return this;
        }

        /** Lets anyone load and unload models when no token is configured; default false (refused with 403). */
        public Builder openRepositoryApi(boolean open) {
            this.openRepositoryApi = open;
            return this;
        }

        /**
         * Strict readiness (the default, as Triton's): the server is ready only when every version
         * marked to load is loaded and something is served. Applies to the core built from
         * {@link #models(Path)}; see {@code OnnxInferenceService.Builder#strictReadiness}.
         */
        public Builder strictReadiness(boolean strict) {
            this.strictReadiness = strict;
            return this;
        }

        /** Whether serving no model at all counts as ready (strict readiness only); default false. */
        public Builder allowEmpty(boolean allow) {
            this.allowEmpty = allow;
            return this;
        }

        /** Observer handed to the core built from {@link #models(Path)}. */
        public Builder observer(InferenceObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /** Told about every inference request by both front ends. */
        public Builder requestMetrics(RequestMetrics metrics) {
            this.requestMetrics = Objects.requireNonNull(metrics, "requestMetrics");
            return this;
        }

        /**
         * Plugs monitoring in: it observes the core built from {@link #models(Path)} and every request of
         * both front ends, answers {@code GET /metrics} and Triton's statistics (REST and the gRPC
         * {@code ModelStatistics} RPC), and server metadata lists the statistics extension. Without it
         * those endpoints answer 404 / UNIMPLEMENTED.
         */
        public Builder monitoring(ServerMonitoring monitoring) {
            this.monitoring = Objects.requireNonNull(monitoring, "monitoring");
            observer(monitoring);
            requestMetrics(monitoring);
            return addExtension(MonitoringRoutes.STATISTICS_EXTENSION);
        }

        /** An extra HTTP service on the REST port (e.g. {@code /metrics}); its routes take precedence. */
        public Builder addService(HttpService service) {
            services.add(Objects.requireNonNull(service, "service"));
            return this;
        }

        /** An extra extension name for server metadata (e.g. "statistics" when that service is added). */
        public Builder addExtension(String name) {
            if (!extensions.contains(name)) {
                extensions.add(name);
            }
            return this;
        }

        /**
         * Origins (scheme://host[:port], or {@code *}) whose browser pages may call the REST API; none by
         * default, which leaves CORS off.
         */
        public Builder corsOrigins(List<String> origins) {
            this.corsOrigins = List.copyOf(Objects.requireNonNull(origins, "origins"));
            return this;
        }

        /**
         * Smallest REST answer compressed when the client's Accept-Encoding asks for gzip or deflate
         * (default {@value ContentCodings#DEFAULT_MIN_BYTES}); negative turns response compression off.
         */
        public Builder compressionMinBytes(int bytes) {
            this.compressionMinBytes = bytes;
            return this;
        }

        /**
         * Longest an inference request may take in the server, queueing and running (a client's shorter
         * {@code timeout} parameter or gRPC deadline wins); past it the request is answered 504 /
         * DEADLINE_EXCEEDED and its ONNX Runtime run cancelled. {@link Duration#ZERO} for none; default
         * {@link #DEFAULT_MAX_REQUEST_TIME}.
         */
        public Builder maxRequestTime(Duration max) {
            this.maxRequestTime = Objects.requireNonNull(max, "maxRequestTime");
            return this;
        }

        /**
         * Requests that may wait per model version for a session where its serving config sets no
         * {@code max_queue_size}; one more is answered 429 / RESOURCE_EXHAUSTED. Default 1024. Applies to
         * the core built from {@link #models(Path)}.
         */
        public Builder maxQueueSize(int max) {
            this.maxQueueSize = max;
            return this;
        }

        /**
         * Most bytes one request's decoded inputs may take, and separately the outputs the model makes
         * for it; past it the request is answered 413 / RESOURCE_EXHAUSTED. Default 256 MiB. Applies to
         * the core built from {@link #models(Path)}.
         */
        public Builder maxTensorBytes(long max) {
            this.maxTensorBytes = max;
            return this;
        }

        /**
         * Most connections each listener (REST, gRPC) serves at once; 0 for no cap. Default
         * {@value #DEFAULT_MAX_CONNECTIONS}. A REST connection over it gets its request answered 503 with
         * a JSON error and {@code Retry-After}, then closed; every call on a gRPC connection over it
         * gets UNAVAILABLE.
         */
        public Builder maxConnections(int max) {
            this.maxConnections = max;
            return this;
        }

        /**
         * How long {@link #stop()} may take in all: the grace period, then waiting for requests in flight
         * (default 30 s).
         */
        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = Objects.requireNonNull(timeout, "drainTimeout");
            return this;
        }

        /**
         * How long the listeners keep answering after {@link #stop()} began (readiness false, new work
         * refused with 503 / UNAVAILABLE) before they close, so that load balancers polling readiness
         * see it turn; part of the drain timeout, which cuts it short. Zero (the default) closes once
         * nothing is in flight.
         */
        public Builder drainGrace(Duration grace) {
            this.drainGrace = Objects.requireNonNull(grace, "drainGrace");
            return this;
        }

        /** Replaces how a core is built from a models folder (tests, benchmarks). */
        public Builder coreFactory(BiFunction<Path, InferenceObserver, InferenceService> factory) {
            this.coreFactory = Objects.requireNonNull(factory, "coreFactory");
            return this;
        }

        /** Checks every option, reporting all problems at once, and builds the core when given a models folder. */
        int maxQueueSize() {
            return maxQueueSize;
        }

        long maxTensorBytes() {
            return maxTensorBytes;
        }

        boolean strictReadiness() {
            return strictReadiness;
        }

        boolean allowEmpty() {
            return allowEmpty;
        }

        Duration drainTimeout() {
            return drainTimeout;
        }

        Optional<Duration> pollInterval() {
            return Optional.ofNullable(pollInterval);
        }

        /** TLS on the REST and gRPC listeners (and client certificates, when it asks for them). */
        public Builder tls(TransportSecurity security) {
            this.tls = Objects.requireNonNull(security, "tls");
            return this;
        }

        /**
         * Bearer tokens inference needs (REST {@code /v2} and {@code /metrics}, the gRPC inference
         * service; health stays open); empty, the default, leaves inference open.
         */
        public Builder inferenceTokens(List<String> tokens) {
            this.inferenceTokens = List.copyOf(tokens);
            return this;
        }

        /**
         * Serve {@code /metrics} on this port of its own (plain HTTP, no token: for a scraper on a
         * private network), and not on the REST port; 0 picks a free one, -1 (the default) keeps it on the REST port.
         */
        public Builder metricsPort(int port) {
            this.metricsPort = port;
            return this;
        }

        public BerthServer build() {
            List<String> problems = new ArrayList<>();
            if ((models == null) == (service == null)) {
                problems.add("give exactly one of models (a registry folder) and inferenceService");
            }
            if (port < 0 || port > 65535) {
                problems.add("port must be 0..65535, got " + port);
            }
            if (metricsPort < -1 || metricsPort > 65535 || (metricsPort > 0 && (metricsPort == port || metricsPort == resolvedGrpcPort()))) {
                problems.add("metrics port must be 0..65535 and differ from the REST and gRPC ports, got " + metricsPort);
            }
            int grpc = resolvedGrpcPort();
            if (grpc < 0 || grpc > 65535) {
                problems.add("grpc port must be 0..65535, got " + grpc);
            }
            if (grpc > 0 && grpc == port) {
                problems.add("grpc port " + grpc + " equals the HTTP port; gRPC needs a port of its own");
            }
            // gRPC's own floors (grpc-java would raise smaller values silently)
            if (grpcKeepalive.time().compareTo(GrpcKeepalive.MIN_TIME) < 0) {
                problems.add("grpc keepalive time must be at least 10s, got " + grpcKeepalive.time());
            }
            if (grpcKeepalive.timeout().compareTo(GrpcKeepalive.MIN_TIMEOUT) < 0) {
                problems.add("grpc keepalive timeout must be at least 10ms, got " + grpcKeepalive.timeout());
            }
            if (grpcKeepalive.permitTime().isNegative()) {
                problems.add("grpc permit keepalive time must not be negative, got " + grpcKeepalive.permitTime());
            }
            if (maxRequestBytes < 1024 || maxRequestBytes > Integer.MAX_VALUE - 16) {
                problems.add("max request bytes must be between 1024 and " + (Integer.MAX_VALUE - 16) + ", got " + maxRequestBytes);
            }
            if (drainTimeout.isNegative()) {
                problems.add("drain timeout must not be negative, got " + drainTimeout.toSeconds() + " s");
            }
            if (drainGrace.isNegative()) {
                problems.add("drain grace must not be negative, got " + drainGrace.toSeconds() + " s");
            }
            if (host.isBlank()) {
                problems.add("host must not be blank");
            }
            try {
                Cors.of(corsOrigins);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            if (maxRequestTime.isNegative()) {
                problems.add("max request time must not be negative, got " + maxRequestTime);
            }
            if (maxConnections < 0) {
                problems.add("max connections must be 0 (no cap) or more, got " + maxConnections);
            }
            if (maxQueueSize < 1) {
                problems.add("max queue size must be 1 or more, got " + maxQueueSize);
            }
            if (maxTensorBytes < 1024) {
                problems.add("max tensor bytes must be 1024 or more, got " + maxTensorBytes);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            InferenceService core = service != null ? service : coreFactory != null ? coreFactory.apply(models, observer)
                    : Cores.onnx(models, observer, this);
            return new BerthServer(this, core);
        }
    }
}
