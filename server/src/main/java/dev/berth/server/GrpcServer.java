package dev.berth.server;

import io.grpc.BindableService;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * berth's gRPC listener: grpc-java's own Netty server (the reference implementation, which every
 * gRPC client interoperates with), serving the inference service, {@code grpc.health.v1.Health}
 * and server reflection (v1 and v1alpha) on a port of its own. Calls run on virtual threads, since
 * the core blocks its caller while a model runs.
 *
 * <p>What it adds to grpc-java's defaults: messages capped at {@code max-request-bytes}
 * (RESOURCE_EXHAUSTED before the message is buffered), the keepalive settings of
 * {@link GrpcKeepalive}, responses compressed with gzip when the request came gzip-compressed
 * (see {@link MirrorCompression}), and an UNIMPLEMENTED answer that names what is served for any
 * other method.
 */
final class GrpcServer {
    /**
     * grpc-java logs every message over the size limit as a WARNING with a stack trace; the client
     * gets RESOURCE_EXHAUSTED, and a log any client can fill helps no operator. Held here because
     * java.util.logging keeps loggers only weakly (the level would be lost with the logger).
     */
    private static final Logger DEFRAME_FAILURES = Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerStream");

    static {
        DEFRAME_FAILURES.setLevel(Level.SEVERE);
    }

    private final Server server;
    private final ExecutorService executor;
    private final GrpcHealth health;
    private final String host;
    private final int requestedPort;

    private GrpcServer(Server server, ExecutorService executor, GrpcHealth health, String host, int requestedPort) {
        this.server = server;
        this.executor = executor;
        this.health = health;
        this.host = host;
        this.requestedPort = requestedPort;
    }

    /**
     * Metadata (headers) one call may send. Up to the soft limit every call is served; between the soft and
     * the hard limit grpc-java refuses calls at random, more often the larger they are (its early rejection,
     * as C-core's), and the connection goes on; past the hard limit it ends the whole connection with
     * GOAWAY. grpc-java's defaults (8 KiB, and 10 KiB for the GOAWAY) made one call with 10 KiB of metadata
     * take every other call on its connection down with it (found by the fuzzer, docs/reliability.md); the
     * soft limit is now REST's header limit, 16 KiB, the hard one 64 KiB.
     */
    static final int METADATA_SOFT_LIMIT_BYTES = 16 * 1024;
    static final int METADATA_HARD_LIMIT_BYTES = 64 * 1024;

    /**
     * Calls one connection may have open at once (its SETTINGS_MAX_CONCURRENT_STREAMS). grpc-java's default is
     * unlimited, so one connection could open any number of calls that never send their message and hold
     * them all. Clients honour the setting by queueing calls past it: a busy client waits rather than fails.
     */
    static final int MAX_CALLS_PER_CONNECTION = 1000;

    /**
     * RST_STREAM frames a client may send per {@link #RST_WINDOW_SECONDS} before its connection is closed with
     * GOAWAY, against the HTTP/2 "rapid reset" attack (CVE-2023-44487: open a call, cancel it, repeat), which
     * grpc-java does not limit unless asked. The price: a client whose calls on one connection end by its own
     * deadline or cancel more than 100 times a second (an overloaded server, aggressive hedging) has that
     * connection closed and reconnects; its calls in flight fail UNAVAILABLE, which gRPC clients retry.
     */
    static final int MAX_RST_PER_WINDOW = 1000;
    static final int RST_WINDOW_SECONDS = 10;

    @SuppressWarnings("deprecation") // v1alpha reflection: grpcurl and older tools still ask for it first
    static GrpcServer create(String host, int port, long maxMessageBytes, GrpcKeepalive keepalive,
                             ServerServiceDefinition inference, GrpcHealth health, List<ServerInterceptor> interceptors,
                             GrpcConnectionCap connectionCap, Optional<ServerCredentials> tls) {
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("berth-grpc-", 0).factory());
        List<BindableService> standard = List.of(health, ProtoReflectionServiceV1.newInstance(), ProtoReflectionService.newInstance());
        InetSocketAddress address = new InetSocketAddress(host, port);
        NettyServerBuilder b = (tls.isPresent() ? NettyServerBuilder.forAddress(address, tls.get()) : NettyServerBuilder.forAddress(address))
                .executor(executor)
                .maxInboundMessageSize((int) maxMessageBytes)
                .maxInboundMetadataSize(METADATA_SOFT_LIMIT_BYTES, METADATA_HARD_LIMIT_BYTES)
                .keepAliveTime(keepalive.time().toNanos(), TimeUnit.NANOSECONDS)
                .keepAliveTimeout(keepalive.timeout().toNanos(), TimeUnit.NANOSECONDS)
                .permitKeepAliveTime(keepalive.permitTime().toNanos(), TimeUnit.NANOSECONDS)
                .permitKeepAliveWithoutCalls(keepalive.permitWithoutCalls())
                .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
                .maxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
                .addService(inference);
        standard.forEach(b::addService);
        List<String> served = new ArrayList<>();
        served.add(inference.getServiceDescriptor().getName());
        standard.forEach(s -> served.add(s.bindService().getServiceDescriptor().getName()));
        b.fallbackHandlerRegistry(new UnknownMethods(served));
        // interceptors run in the reverse order of registration: compression is decided first
        for (ServerInterceptor i : interceptors) {
            b.intercept(i);
        }
        b.intercept(new MirrorCompression());
        // registered last, so it runs first: a connection over the cap gets UNAVAILABLE before anything else
        b.intercept(connectionCap.interceptor());
        b.addTransportFilter(connectionCap.filter());
        return new GrpcServer(b.build(), executor, health, host, port);
    }

    /**
     * Binds and starts listening.
     *
     * @throws UncheckedIOException wrapping a {@link BindException} when the port cannot be bound
     */
    void start() {
        try {
            server.start();
        } catch (IOException e) {
            executor.shutdownNow();
            health.close();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UncheckedIOException(new BindException("cannot listen on " + host + " port " + requestedPort
                    + " (gRPC): " + cause.getMessage()));
        }
    }

    /** The bound port. */
    int port() {
        return server.getPort();
    }

    /**
     * Stops: ends the health watches, refuses new calls, gives the calls still open up to
     * {@code grace} (in-flight inference has drained by now; what is left are streams a client keeps
     * open), then cancels the rest.
     */
    void stop(Duration grace) {
        health.close();
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * Compresses a call's responses with gzip when its request came gzip-compressed (and, as grpc-java
     * checks, the client lists gzip in {@code grpc-accept-encoding}); otherwise they leave uncompressed.
     * Every client advertises gzip whether or not it wants compressed answers, and raw tensors hardly
     * compress, so compressing everything would spend CPU for nothing; a client that compresses its
     * own messages has said it prefers bytes to CPU.
     */
    static final class MirrorCompression implements ServerInterceptor {
        static final String GZIP = "gzip";
        private static final Metadata.Key<String> MESSAGE_ENCODING =
                Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            if (GZIP.equals(headers.get(MESSAGE_ENCODING))) {
                call.setCompression(GZIP);
            }
            return next.startCall(call, headers);
        }
    }

    /** UNIMPLEMENTED for every method no service here has, naming the services that are. */
    private static final class UnknownMethods extends HandlerRegistry {
        private static final MethodDescriptor.Marshaller<InputStream> DISCARD = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(InputStream value) {
                return value;
            }

            @Override
            public InputStream parse(InputStream stream) {
                return stream;
            }
        };

        private final List<String> served;

        UnknownMethods(List<String> served) {
            this.served = List.copyOf(served);
        }

        @Override
        public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            String service = MethodDescriptor.extractFullServiceName(methodName);
            String message = served.contains(service)
                    ? "method '" + methodName + "' is not part of " + service
                    : "unknown service '" + service + "'; this server serves " + String.join(", ", served);
            MethodDescriptor<InputStream, InputStream> method = MethodDescriptor.<InputStream, InputStream>newBuilder()
                    .setType(MethodDescriptor.MethodType.UNKNOWN)
                    .setFullMethodName(methodName)
                    .setRequestMarshaller(DISCARD)
                    .setResponseMarshaller(DISCARD)
                    .build();
            return ServerMethodDefinition.create(method, (call, headers) -> {
                call.close(Status.UNIMPLEMENTED.withDescription(message), new Metadata());
                return new ServerCall.Listener<>() {
                };
            });
        }

        @Override
        public List<ServerServiceDefinition> getServices() {
            return List.of();
        }

        @Override
        public String toString() {
            return served.stream().collect(Collectors.joining(", ", "UnknownMethods[", "]"));
        }
    }
}
