package dev.berth.server;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Bearer tokens for inference, on both protocols alike: every REST path under {@code /v2} and
 * {@code /metrics}, and every gRPC method of the inference service, need
 * {@code Authorization: Bearer <token>} with one of the configured tokens (several, so that a token
 * can be rotated without a restart of every client at once). Left open, because probes and load
 * balancers call them without credentials: {@code /v2/health/live} and {@code /v2/health/ready}, the
 * gRPC {@code ServerLive} / {@code ServerReady} calls, gRPC health and reflection. The repository
 * API also takes the repository token in the same header (a stronger credential); its own check
 * follows in {@link RepositoryAccess}.
 */
final class InferenceAuthentication {
    private static final String PREFIX = "Bearer ";
    private static final String MISSING_REST = "this server needs a bearer token: send 'Authorization: Bearer <token>'";
    private static final String MISSING_GRPC = "this server needs a bearer token: send the metadata 'authorization: Bearer <token>'";
    private static final String WRONG = "invalid bearer token";
    private static final Set<String> OPEN_PATHS = Set.of("/v2/health/live", "/v2/health/ready");
    private static final String INFERENCE_SERVICE = "inference.GRPCInferenceService/";
    private static final Set<String> OPEN_METHODS = Set.of(INFERENCE_SERVICE + "ServerLive", INFERENCE_SERVICE + "ServerReady");
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final List<byte[]> tokens;
    private final Optional<byte[]> repositoryToken;

    private InferenceAuthentication(List<byte[]> tokens, Optional<byte[]> repositoryToken) {
        this.tokens = tokens;
        this.repositoryToken = repositoryToken;
    }

    /** Empty when no inference token is configured (inference open to whoever reaches the port). */
    static Optional<InferenceAuthentication> of(List<String> tokens, Optional<String> repositoryToken) {
        if (tokens.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new InferenceAuthentication(tokens.stream().map(t -> t.getBytes(StandardCharsets.UTF_8)).toList(),
                repositoryToken.map(t -> t.getBytes(StandardCharsets.UTF_8))));
    }

    /**
     * The tokens in a file, one per line; blank lines and lines starting with {@code #} are skipped.
     * A file rather than a flag, so that tokens stay out of the process list and shell history.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read or holds no token
     */
    static List<String> readTokens(Path file) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    if (t.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                        throw new IllegalArgumentException("inference token file " + file + ": a token is printable ASCII without spaces");
                    }
                    out.add(t);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("inference token file " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("inference token file " + file + " holds no token");
        }
        return out;
    }

    /** Whether a REST path needs the token. */
    static boolean protects(String path) {
        return (path.equals("/v2") || path.startsWith("/v2/") || path.equals("/metrics")) && !OPEN_PATHS.contains(path);
    }

    Filter restFilter() {
        return (chain, req, res) -> {
            if (protects(req.path().path())) {
                check(req.headers().first(HeaderNames.AUTHORIZATION).orElse(""), MISSING_REST);
            }
            chain.proceed();
        };
    }

    ServerInterceptor grpcInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String method = call.getMethodDescriptor().getFullMethodName();
                if (method.startsWith(INFERENCE_SERVICE) && !OPEN_METHODS.contains(method)) {
                    String header = headers.get(AUTHORIZATION);
                    try {
                        check(header == null ? "" : header, MISSING_GRPC);
                    } catch (Failure.Unauthenticated e) {
                        call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
                        return new ServerCall.Listener<>() {
                        };
                    }
                }
                return next.startCall(call, headers);
            }
        };
    }

    /** Passes one of the inference tokens or the repository token; compares in constant time per token. */
    private void check(String header, String missingMessage) {
        if (header.isEmpty()) {
            throw new Failure.Unauthenticated(missingMessage);
        }
        boolean scheme = header.regionMatches(true, 0, PREFIX, 0, PREFIX.length());
        byte[] given = scheme ? header.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        boolean ok = false;
        for (byte[] t : tokens) {
            ok |= MessageDigest.isEqual(given, t);
        }
        if (repositoryToken.isPresent()) {
            ok |= MessageDigest.isEqual(given, repositoryToken.get());
        }
        if (!scheme || !ok) {
            throw new Failure.Unauthenticated(WRONG);
        }
    }
}
