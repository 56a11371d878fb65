package dev.berth.server;

import java.time.Duration;
import java.util.Objects;

/**
 * HTTP/2 keepalive of the gRPC listener, as grpc-java (and gRPC's C core, and Triton) name them.
 *
 * @param time               how long a connection may be quiet before the server pings the client
 * @param timeout            how long the server waits for the ping's answer before closing the connection
 * @param permitTime         the shortest interval at which a client may ping; faster pings get the
 *                           connection closed with GOAWAY {@code ENHANCE_YOUR_CALM}
 * @param permitWithoutCalls whether a client may ping while it has no call open
 */
public record GrpcKeepalive(Duration time, Duration timeout, Duration permitTime, boolean permitWithoutCalls) {
    /** gRPC's own server defaults, which Triton keeps too: 2 h, 20 s, 5 min, no pings without calls. */
    public static final GrpcKeepalive DEFAULTS =
            new GrpcKeepalive(Duration.ofHours(2), Duration.ofSeconds(20), Duration.ofMinutes(5), false);

    public GrpcKeepalive {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(permitTime, "permitTime");
    }

    /** A copy with another ping interval. */
    public GrpcKeepalive withTime(Duration d) {
        return new GrpcKeepalive(d, timeout, permitTime, permitWithoutCalls);
    }

    /** A copy with another ping timeout. */
    public GrpcKeepalive withTimeout(Duration d) {
        return new GrpcKeepalive(time, d, permitTime, permitWithoutCalls);
    }

    /** A copy with another shortest client ping interval. */
    public GrpcKeepalive withPermitTime(Duration d) {
        return new GrpcKeepalive(time, timeout, d, permitWithoutCalls);
    }

    /** A copy that does or does not allow client pings without calls. */
    public GrpcKeepalive withPermitWithoutCalls(boolean allowed) {
        return new GrpcKeepalive(time, timeout, permitTime, allowed);
    }
}
