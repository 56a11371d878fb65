package dev.berth.server;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cap on the gRPC listener's open connections (grpc-java has none of its own). Connections are
 * counted while they are open; a call on a connection that could not be counted (the cap was reached
 * when it opened, and is still) is answered UNAVAILABLE naming the limit, which gRPC clients treat as
 * "retry later". Such a connection is counted, and served, as soon as another closes: grpc-java offers
 * no way to refuse a transport, and one marked for good would fail its client's calls forever.
 */
final class GrpcConnectionCap {
    private static final Attributes.Key<AtomicBoolean> COUNTED = Attributes.Key.create("berth.counted-connection");

    private final int max;
    private final AtomicInteger open = new AtomicInteger();

    /** @param max most connections served at once; 0 for no cap */
    GrpcConnectionCap(int max) {
        this.max = max;
    }

    /** Takes a place under the cap; false when all are taken. */
    private boolean admit() {
        while (true) {
            int now = open.get();
            if (now >= max) {
                return false;
            }
            if (open.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    ServerTransportFilter filter() {
        return new ServerTransportFilter() {
            @Override
            public Attributes transportReady(Attributes attributes) {
                if (max <= 0) {
                    return attributes;
                }
                return attributes.toBuilder().set(COUNTED, new AtomicBoolean(admit())).build();
            }

            @Override
            public void transportTerminated(Attributes attributes) {
                AtomicBoolean counted = attributes == null ? null : attributes.get(COUNTED);
                if (counted != null && counted.getAndSet(false)) {
                    open.decrementAndGet();
                }
            }
        };
    }

    ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                AtomicBoolean counted = call.getAttributes().get(COUNTED);
                if (counted != null && !counted.get() && !admitLate(counted)) {
                    call.close(Status.UNAVAILABLE.withDescription("the server has " + max + " gRPC connections open, its limit"
                            + " (max-connections); retry later"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
                return next.startCall(call, headers);
            }
        };
    }

    /** A connection over the cap when it opened takes a place that has come free since. */
    private synchronized boolean admitLate(AtomicBoolean counted) {
        if (counted.get()) {
            return true;
        }
        if (admit()) {
            counted.set(true);
            return true;
        }
        return false;
    }
}
