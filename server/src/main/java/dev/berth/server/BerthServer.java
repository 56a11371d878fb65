package dev.berth.server;

import dev.berth.monitoring.RequestMetrics;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceService;
import dev.berth.server.codec.AliasingInferMarshaller;
import dev.berth.server.grpc.proto.OpenInferenceProto;
import io.helidon.config.Config;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcConfig;
import io.helidon.webserver.grpc.GrpcProtocolSelector;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http2.Http2ConnectionSelector;
import io.helidon.webserver.http2.Http2Config;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.HttpService;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * berth's Open Inference Protocol server: REST and gRPC front ends over one {@link InferenceService}
 * on Helidon's WebServer. gRPC shares the HTTP port (HTTP/2 on the same socket, told apart by the
 * connection preface) unless a separate gRPC port is configured.
 *
 * <pre>{@code
 * BerthServer server = BerthServer.builder().models(Path.of("models")).port(8080).build().start();
 * }</pre>
 *
 * The server owns its core: {@link #stop()} stops admitting requests, lets those in flight finish,
 * stops the listeners and closes the core.
 */
public final class BerthServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BerthServer.class.getName());

    /** Default request size limit: 64 MiB. */
    public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 20;
    /** Default listen address: loopback only, so a development server is not exposed by accident. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    /** gRPC port value meaning "share the HTTP port". */
    public static final int SHARED_PORT = -1;

    private final Builder settings;
    private final InferenceService core;
    private final InFlight inFlight = new InFlight();
    private final WebServer webServer;
    private final Object lifecycle = new Object();
    private boolean stopped;

    private BerthServer(Builder b, InferenceService core) {
        this.settings = b;
        this.core = core;
        ServerInfo info = new ServerInfo(ServerInfo.NAME, ServerInfo.berthVersion(), b.extensions);
        OipRestService rest = new OipRestService(core, info, inFlight, b.requestMetrics, b.maxRequestBytes,
                Optional.ofNullable(b.repositoryToken));
        OipGrpcService grpc = new OipGrpcService(core, info, inFlight, b.requestMetrics, Optional.ofNullable(b.repositoryToken),
                Optional.ofNullable(b.statistics));

        HttpRouting.Builder http = HttpRouting.builder();
        // every answer leaves through Replies (compression, HEAD, Connection: close), CORS headers come first
        http.addFilter(Replies.filter(b.compressionMinBytes));
        Cors.of(b.corsOrigins).ifPresent(cors -> http.addFilter(cors.filter()));
        // extra services first: monitoring's routes must win over the catch-all answers below
        for (HttpService s : b.services) {
            http.register(s);
        }
        http.register(rest);
        http.any((req, res) -> OipRestService.sendError(res, 404, "no such endpoint: " + req.prologue().method().text()
                + " " + req.path().path()));
        GrpcRouting.Builder grpcRouting = GrpcRouting.builder()
                .intercept(OipGrpcService.authorizationInterceptor())
                // ModelInfer parses with aliasing: raw tensors stay views of the received message
                .service(OpenInferenceProto.getDescriptor(), AliasingInferMarshaller.aliasingModelInfer(grpc));

        // gRPC messages are buffered whole before decoding; Helidon's default cap is far below an image batch
        GrpcConfig grpcProtocol = GrpcConfig.builder().maxReadBufferSize((int) b.maxRequestBytes).build();
        // larger HTTP/2 frames and window let a client send an image tensor in a few frames instead of
        // dozens of 16 KiB ones: about +25 % gRPC throughput for a 600 KB FP32 tensor (docs/server.md)
        Http2Config http2 = Http2Config.builder()
                .maxFrameSize(1 << 20)
                .initialWindowSize(4 << 20)
                .build();
        // an HTTP/2 selector of berth's own, listed before the one Helidon builds from the protocol configs
        // (first match wins), so that messages over the limit meet GrpcMessageLimit before Helidon's gRPC handler
        Http2ConnectionSelector http2Selector = Http2ConnectionSelector.builder()
                .http2Config(http2)
                .addSubProtocolSelector(new GrpcMessageLimit(GrpcProtocolSelector.create(grpcProtocol), b.maxRequestBytes))
                .build();
        // one set of HTTP/1 limits for Helidon's selector and berth's (which takes HTTP/1.0 and over-long lines)
        Http1Config http1 = Http1Config.builder()
                .maxPrologueLength(DirectAnswers.MAX_REQUEST_LINE_BYTES)
                .maxHeadersSize(DirectAnswers.MAX_HEADER_BYTES)
                .build();
        WebServerConfig.Builder web = WebServer.builder()
                .host(b.host)
                .port(b.port)
                .shutdownHook(false)
                .addProtocol(http1)
                .addConnectionSelector(new LegacyHttpSelector(http1))
                // gzip and deflate request bodies decoded; responses are compressed by Replies, not Helidon
                .contentEncoding(ContentCodings.requestDecoding())
                // hands Helidon's own error messages to the direct handlers, which tell 431 from 400 by them
                .errorHandling(e -> e.includeEntity(true))
                .maxPayloadSize(b.maxRequestBytes)
                .directHandlers(jsonDirectHandlers(b.maxRequestBytes))
                .shutdownGracePeriod(b.drainTimeout)
                // Responses leave in several writes (headers, JSON, binary tensors); with Nagle's
                // algorithm on, each write after the first waits for the client's delayed ACK (~40 ms).
                .connectionOptions(o -> o.tcpNoDelay(true))
                .addRouting(http);
        if (b.grpcPort == SHARED_PORT) {
            web.addRouting(grpcRouting).addConnectionSelector(http2Selector).addProtocol(grpcProtocol).addProtocol(http2);
        } else {
            web.putSocket("grpc", socket -> socket
                    .host(b.host)
                    .addConnectionSelector(http2Selector)
                    .addProtocol(grpcProtocol)
                    .addProtocol(http2)
                    .port(b.grpcPort)
                    .connectionOptions(o -> o.tcpNoDelay(true))
                    .maxPayloadSize(b.maxRequestBytes)
                    .directHandlers(jsonDirectHandlers(b.maxRequestBytes))
                    .addRouting(grpcRouting));
        }
        this.webServer = web.build();
    }

    /** Helidon answers some errors itself (bad request line, body over the limit): give them the protocol's JSON shape. */
    private static DirectHandlers jsonDirectHandlers(long maxRequestBytes) {
        return DirectAnswers.create(maxRequestBytes);
    }

    public static Builder builder() {
        return new Builder();
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
        if (settings.grpcPort > 0) {
            probe(settings.grpcPort);
        }
        webServer.start();
        if (!webServer.isRunning()) {
            // Helidon logs the bind failure and returns instead of throwing
            synchronized (lifecycle) {
                stopped = true; // a later stop() (e.g. from a shutdown hook) has nothing left to do
            }
            core.close();
            String ports = settings.grpcPort == SHARED_PORT || settings.grpcPort == 0 ? "port " + settings.port
                    : "ports " + settings.port + " and " + settings.grpcPort;
            throw new UncheckedIOException(new BindException("cannot listen on " + settings.host + " " + ports
                    + " (in use, or the address is not local)"));
        }
        LOG.log(System.Logger.Level.INFO, "berth serving the Open Inference Protocol on http://" + settings.host + ":" + port()
                + (settings.grpcPort == SHARED_PORT ? " (REST and gRPC)" : " (REST), gRPC on port " + grpcPort()));
        return this;
    }

    private void probe(int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(settings.host, port));
        } catch (IOException e) {
            synchronized (lifecycle) {
                stopped = true;
            }
            core.close();
            throw new UncheckedIOException(new BindException("cannot listen on " + settings.host + " port " + port
                    + ": " + e.getMessage()));
        }
    }

    /** The bound HTTP port (useful after configuring port 0). */
    public int port() {
        return webServer.port();
    }

    /** The bound gRPC port: the HTTP port when shared. */
    public int grpcPort() {
        return settings.grpcPort == SHARED_PORT ? webServer.port() : webServer.port("grpc");
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
     * Graceful stop: refuse new inference requests (503 / UNAVAILABLE, readiness false), wait up to
     * the drain timeout for those in flight, stop the listeners, close the core. Idempotent.
     */
    public void stop() {
        synchronized (lifecycle) {
            if (stopped) {
                return;
            }
            stopped = true;
        }
        if (!inFlight.drain(settings.drainTimeout)) {
            LOG.log(System.Logger.Level.WARNING, "requests still in flight after " + settings.drainTimeout + "; stopping anyway");
        }
        try {
            webServer.stop();
        } finally {
            core.close();
        }
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
        private int grpcPort = SHARED_PORT;
        private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
        private String repositoryToken;
        private InferenceObserver observer = InferenceObserver.NOOP;
        private RequestMetrics requestMetrics = RequestMetrics.NOOP;
        private StatisticsSource statistics;
        private final List<HttpService> services = new ArrayList<>();
        private final List<String> extensions = new ArrayList<>(ServerInfo.BUILT_IN_EXTENSIONS);
        private Duration drainTimeout = Duration.ofSeconds(30);
        private List<String> corsOrigins = List.of();
        private int compressionMinBytes = ContentCodings.DEFAULT_MIN_BYTES;
        private BiFunction<Path, InferenceObserver, InferenceService> coreFactory = Cores::onnx;

        private Builder() {
        }

        /**
         * Applies a config node (keys {@code models, host, port, grpc-port, max-request-bytes,
         * repository-token, drain-timeout-seconds, cors-origins, compression-min-bytes}); keys that are
         * absent leave the current value. {@code cors-origins} is a list or a comma-separated string.
         */
        public Builder config(Config node) {
            try {
                node.get("models").asString().ifPresent(v -> models(Path.of(v)));
                node.get("host").asString().ifPresent(this::host);
                node.get("port").asInt().ifPresent(this::port);
                node.get("grpc-port").asInt().ifPresent(this::grpcPort);
                node.get("max-request-bytes").asLong().ifPresent(this::maxRequestBytes);
                node.get("repository-token").asString().filter(s -> !s.isBlank()).ifPresent(this::repositoryToken);
                node.get("drain-timeout-seconds").asLong().ifPresent(s -> drainTimeout(Duration.ofSeconds(s)));
                Config cors = node.get("cors-origins");
                if (cors.isList()) {
                    corsOrigins(cors.asList(String.class).get());
                } else {
                    cors.asString().ifPresent(list -> corsOrigins(Cors.split(list)));
                }
                node.get("compression-min-bytes").asInt().ifPresent(this::compressionMinBytes);
            } catch (io.helidon.config.ConfigException e) {
                throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
            }
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

        /** gRPC port: {@link #SHARED_PORT} (default) serves gRPC on the HTTP port; 0 picks a free one. */
        public Builder grpcPort(int port) {
            this.grpcPort = port;
            return this;
        }

        /** Largest request body accepted (REST and gRPC); larger ones get 413 / RESOURCE_EXHAUSTED. */
        public Builder maxRequestBytes(long bytes) {
            this.maxRequestBytes = bytes;
            return this;
        }

        /** Bearer token the repository API (index, load, unload) demands; none by default. */
        public Builder repositoryToken(String token) {
            this.repositoryToken = token;
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
         * Where the gRPC {@code ModelStatistics} RPC reads Triton's statistics; without one the RPC
         * answers UNIMPLEMENTED. {@link MetricsService#install} sets it.
         */
        public Builder statistics(StatisticsSource source) {
            this.statistics = Objects.requireNonNull(source, "statistics");
            return this;
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

        /** How long stop waits for requests in flight. */
        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = Objects.requireNonNull(timeout, "drainTimeout");
            return this;
        }

        /** Replaces how a core is built from a models folder (tests, benchmarks). */
        public Builder coreFactory(BiFunction<Path, InferenceObserver, InferenceService> factory) {
            this.coreFactory = Objects.requireNonNull(factory, "coreFactory");
            return this;
        }

        /** Checks every option, reporting all problems at once, and builds the core when given a models folder. */
        public BerthServer build() {
            List<String> problems = new ArrayList<>();
            if ((models == null) == (service == null)) {
                problems.add("give exactly one of models (a registry folder) and inferenceService");
            }
            if (port < 0 || port > 65535) {
                problems.add("port must be 0..65535, got " + port);
            }
            if (grpcPort != SHARED_PORT && (grpcPort < 0 || grpcPort > 65535)) {
                problems.add("grpc port must be 0..65535 (or unset to share the HTTP port), got " + grpcPort);
            }
            if (grpcPort > 0 && grpcPort == port) {
                problems.add("grpc port " + grpcPort + " equals the HTTP port; leave it unset to share the port");
            }
            if (maxRequestBytes < 1024 || maxRequestBytes > Integer.MAX_VALUE - 16) {
                problems.add("max request bytes must be between 1024 and " + (Integer.MAX_VALUE - 16) + ", got " + maxRequestBytes);
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
            InferenceService core = service != null ? service : coreFactory.apply(models, observer);
            return new BerthServer(this, core);
        }
    }
}
