package dev.berth.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.time.Duration;
import java.util.Set;
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
 * the protocol's JSON shape and a {@code Retry-After}.
 */
final class ConnectionCap {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();

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

    ServerConnectionSelector wrap(ServerConnectionSelector selector) {
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
                return new Counted(selector.connection(ctx));
            }
        };
    }

    private final class Counted implements ServerConnection {
        private final ServerConnection delegate;

        Counted(ServerConnection delegate) {
            this.delegate = delegate;
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            if (open.incrementAndGet() > max) {
                open.decrementAndGet();
                // no permits: Helidon answers the request 503 and ends the connection
                delegate.handle(new Semaphore(0));
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
            handle(io.helidon.common.concurrency.limits.FixedLimit.create(requestSemaphore));
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
