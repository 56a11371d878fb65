package dev.berth.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.concurrency.limits.FixedLimit;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cap on the REST listener's open connections that answers the connections over it instead of
 * leaving them unaccepted (Helidon's {@code max-tcp-connections} stops accepting, so a client over the
 * cap hangs in the kernel's backlog) or closing them silently.
 *
 * <p>Each of the listener's connection selectors is wrapped; the wrapped connection counts itself for
 * as long as Helidon serves it (its whole life, an h2c upgrade included). A connection over the cap is
 * served by Helidon with a request limit that admits nothing: Helidon reads the request head, answers
 * 503 and closes (its "too many concurrent requests" path), and {@link DirectAnswers} gives that answer
 * the protocol's JSON shape and a {@code Retry-After}. Helidon's HTTP/2 answers that case in plain
 * text, outside the direct handlers, so an HTTP/2 connection over the cap (prior knowledge) is served
 * instead, and {@link #filter()} answers each of its requests 503 in JSON until it closes or a place
 * frees (as over gRPC).
 */
final class ConnectionCap {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    /** Child socket ids of HTTP/2 connections over the cap, whose requests the filter refuses. */
    private final Set<String> overCap = ConcurrentHashMap.newKeySet();

    /** @param max most connections served at once; 0 for no cap */
    ConnectionCap(int max) {
        this.max = max;
    }

    int max() {
        return max;
    }

    /** Connections being served now (over-cap ones, which are only answered, not counted). */
    int open() {
        return open.get();
    }

    /** The 503 for a request on an HTTP/2 connection over the cap; registered first in the routing. */
    Filter filter() {
        return (chain, req, res) -> {
            if (!overCap.isEmpty() && overCap.contains(req.socketId()) && !admitLate(req.socketId())) {
                res.header(HeaderNames.RETRY_AFTER, "1");
                RestRoutes.sendError(res, 503, message());
                return;
            }
            chain.proceed();
        };
    }

    String message() {
        return "the server has " + max + " connections open, its limit (max-connections); retry later";
    }

    /** An HTTP/2 connection over the cap takes a place that has come free since it opened. */
    private synchronized boolean admitLate(String socket) {
        if (open.get() < max && overCap.remove(socket)) {
            open.incrementAndGet();
            admittedLate.add(socket);
            return true;
        }
        return false;
    }

    private final Set<String> admittedLate = ConcurrentHashMap.newKeySet();

    /** Wraps an HTTP/1 selector (over the cap: Helidon's 503, then close). */
    ServerConnectionSelector wrap(ServerConnectionSelector selector) {
        return wrap(selector, false);
    }

    /** Wraps the HTTP/2 prior-knowledge selector (over the cap: served, every request answered 503 JSON). */
    ServerConnectionSelector wrapHttp2(ServerConnectionSelector selector) {
        return wrap(selector, true);
    }

    private ServerConnectionSelector wrap(ServerConnectionSelector selector, boolean http2) {
        if (max <= 0) {
            return selector;
        }
        return new ServerConnectionSelector() {
            @Override
            public int bytesToIdentifyConnection() {
                return selector.bytesToIdentifyConnection();
            }

            @Override
            public Support supports(BufferData data) {
                return selector.supports(data);
            }

            @Override
            public Set<String> supportedApplicationProtocols() {
                return selector.supportedApplicationProtocols();
            }

            @Override
            public ServerConnection connection(ConnectionContext ctx) {
                return new Counted(selector.connection(ctx), http2 ? ctx.childSocketId() : null);
            }
        };
    }

    private final class Counted implements ServerConnection {
        private final ServerConnection delegate;
        private final String http2Socket;

        Counted(ServerConnection delegate, String http2Socket) {
            this.delegate = delegate;
            this.http2Socket = http2Socket;
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            if (open.incrementAndGet() > max) {
                open.decrementAndGet();
                if (http2Socket == null) {
                    // no permits: Helidon answers the request 503 and ends the connection
                    delegate.handle(new Semaphore(0));
                    return;
                }
                overCap.add(http2Socket);
                try {
                    delegate.handle(limit);
                } finally {
                    overCap.remove(http2Socket);
                    if (admittedLate.remove(http2Socket)) {
                        open.decrementAndGet();
                    }
                }
                return;
            }
            try {
                delegate.handle(limit);
            } finally {
                open.decrementAndGet();
            }
        }

        @Override
        public void handle(Semaphore requestSemaphore) throws InterruptedException {
            handle(FixedLimit.create(requestSemaphore));
        }

        @Override
        public Duration idleTime() {
            return delegate.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            delegate.close(interrupt);
        }
    }
}
