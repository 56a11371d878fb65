package dev.berth.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.common.task.InterruptableTask;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.Router;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * Takes the HTTP/1 connections that Helidon 4.5's own selector turns away without a byte, and hands
 * them to Helidon's HTTP/1.1 connection after all:
 * <ul>
 *   <li><b>HTTP/1.0 requests</b> (nginx's default {@code proxy_pass}, ApacheBench, {@code curl -0}).
 *       Helidon's {@code Http1ConnectionSelector} only claims a first line ending in {@code HTTP/1.1},
 *       and {@code ConnectionHandler} then closes the socket ("cannot easily return 505"). Such a
 *       connection is served through {@link Http10Translation}: requests are rewritten to HTTP/1.1 on
 *       the way in and the answers back to valid HTTP/1.0 on the way out.</li>
 *   <li><b>A first line longer than the request-line limit</b> whose end has not arrived yet: Helidon's
 *       selector calls that "unsupported" and closes; here Helidon's own parser gets it and answers 414.</li>
 *   <li><b>A complete first line of another version, or of none</b> ({@code HTTP/1.2}, {@code HTTP/2.0} on
 *       HTTP/1, {@code GET /path} alone), and <b>empty lines before the request line</b>: Helidon's
 *       selector turns them away unanswered; here the empty lines are skipped (RFC 9112, 2.2) and
 *       Helidon's parser answers the rest (505 or 400, in JSON through {@link DirectAnswers}).</li>
 *   <li><b>A first line that arrived in pieces</b>: Helidon's selector claims it before knowing its
 *       version, so an HTTP/1.0 line split across packets would still be refused; this selector
 *       waits for the whole line before deciding.</li>
 * </ul>
 * Listed before Helidon's selectors (first match wins); every other connection (a complete HTTP/1.1
 * line, the HTTP/2 preface) is left to Helidon as before.
 */
final class LegacyHttpSelector implements ServerConnectionSelector {
    private static final byte[] HTTP_1_0 = " HTTP/1.0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_1_1 = " HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP2_PREFACE = "PRI * HTTP/2.0".getBytes(StandardCharsets.US_ASCII);

    private final Http1Config config;
    private final Http1ConnectionSelector http1;

    /** @param config the listener's HTTP/1 settings (limits, validation), shared with Helidon's own selector */
    LegacyHttpSelector(Http1Config config) {
        this.config = config;
        // no upgraders: an HTTP/1.0 client cannot upgrade, and the rare HTTP/1.1 line that arrived split
        // only loses h2c upgrade, which gRPC clients (prior knowledge) never use
        this.http1 = Http1ConnectionSelector.builder().config(config).build();
    }

    @Override
    public int bytesToIdentifyConnection() {
        return 0;
    }

    @Override
    public Support supports(BufferData data) {
        int lf = data.indexOf((byte) '\n');
        if (lf >= 0) {
            if (endsWithHttp10(data, lf)) {
                return Support.SUPPORTED;
            }
            // a complete HTTP/1.1 line and the HTTP/2 preface are Helidon's (h2c upgrade, prior knowledge);
            // any other line (another version, none, empty lines first) Helidon would close on unanswered,
            // so its HTTP/1 parser gets it here and answers 400 or 505
            // (a line ended by a bare LF too: Helidon's selector needs CRLF and would close on it)
            boolean crlf = lf > 0 && data.get(lf - 1) == '\r';
            return crlf && endsWith(data, lf, HTTP_1_1) || startsWithPreface(data) ? Support.UNSUPPORTED : Support.SUPPORTED;
        }
        int n = Math.min(data.available(), HTTP2_PREFACE.length);
        boolean maybePreface = true;
        for (int i = 0; i < n && maybePreface; i++) {
            maybePreface = data.get(i) == HTTP2_PREFACE[i];
        }
        if (maybePreface) {
            return Support.UNKNOWN; // HTTP/2 prior knowledge (or too few bytes to tell): Helidon's business
        }
        int first = data.get(0);
        // a request line begins with a method token; anything else is not HTTP/1 and stays Helidon's
        return first >= 'A' && first <= 'Z' ? Support.SUPPORTED : Support.UNSUPPORTED;
    }

    private static boolean endsWithHttp10(BufferData data, int lf) {
        return endsWith(data, lf, HTTP_1_0);
    }

    private static boolean endsWith(BufferData data, int lf, byte[] suffix) {
        int end = lf > 0 && data.get(lf - 1) == '\r' ? lf - 1 : lf;
        int start = end - suffix.length;
        if (start < 0) {
            return false;
        }
        for (int i = 0; i < suffix.length; i++) {
            if (data.get(start + i) != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWithPreface(BufferData data) {
        if (data.available() < HTTP2_PREFACE.length) {
            return false;
        }
        for (int i = 0; i < HTTP2_PREFACE.length; i++) {
            if (data.get(i) != HTTP2_PREFACE[i]) {
                return false;
            }
        }
        return true;
    }

    /** Empty lines before the request line, which RFC 9112 (2.2) asks a server to ignore: skipped. */
    private static void skipLeadingEmptyLines(DataReader reader) {
        while (true) {
            reader.ensureAvailable();
            BufferData data = reader.getBuffer(reader.available());
            int skip = 0;
            while (skip < data.available() && (data.get(skip) == '\r' || data.get(skip) == '\n')) {
                skip++;
            }
            if (skip == 0) {
                return;
            }
            reader.skip(skip);
        }
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        // over TLS a client may name HTTP/1.0 in ALPN (curl -0 does): without it listed here the
        // handshake fails with no_application_protocol; a client sending no ALPN is told apart by its bytes
        return Set.of("http/1.0");
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new Deferred(ctx);
    }

    /**
     * Waits for the whole first line (up to the limit), then runs Helidon's HTTP/1.1 connection on the
     * raw socket or, for HTTP/1.0, through the translation.
     */
    private final class Deferred implements ServerConnection, InterruptableTask<Void> {
        private final ConnectionContext ctx;
        private final long created = System.nanoTime();
        private volatile ServerConnection delegate;
        private volatile Thread thread;
        private volatile boolean closed;

        Deferred(ConnectionContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void handle(io.helidon.common.concurrency.limits.Limit limit) throws InterruptedException {
            thread = Thread.currentThread();
            boolean http10 = firstLineIsHttp10(ctx.dataReader());
            if (closed) {
                throw new CloseConnectionException("connection closed while reading the request line");
            }
            ConnectionContext use = http10
                    ? Http10Translation.wrap(ctx, config.maxPrologueLength(), config.maxHeadersSize())
                    : ctx;
            ServerConnection connection = http1.connection(use);
            delegate = connection;
            connection.handle(limit);
        }

        /** Pulls data until the first line is complete or longer than the limit; never moves the reader. */
        private boolean firstLineIsHttp10(DataReader reader) {
            try {
                skipLeadingEmptyLines(reader);
                while (true) {
                    BufferData data = reader.getBuffer(reader.available());
                    int lf = data.indexOf((byte) '\n');
                    if (lf >= 0) {
                        return endsWithHttp10(data, lf);
                    }
                    if (data.available() > config.maxPrologueLength() || closed) {
                        return false; // Helidon's parser answers 414 for it
                    }
                    reader.pullData();
                }
            } catch (DataReader.InsufficientDataAvailableException e) {
                throw new CloseConnectionException("client closed before the request line was complete", e);
            }
        }

        @Override
        public boolean canInterrupt() {
            ServerConnection d = delegate;
            return d == null || (d instanceof InterruptableTask<?> task && task.canInterrupt());
        }

        @Override
        public Duration idleTime() {
            ServerConnection d = delegate;
            return d == null ? Duration.ofNanos(System.nanoTime() - created) : d.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            closed = true;
            ServerConnection d = delegate;
            if (d != null) {
                d.close(interrupt);
            } else if (interrupt && thread != null) {
                thread.interrupt();
            }
        }
    }

    /** The connection context Helidon's HTTP/1 connection sees: the same socket, other reader and writer. */
    record Rewired(ConnectionContext ctx, DataReader dataReader, DataWriter dataWriter) implements ConnectionContext {
        @Override
        public ListenerContext listenerContext() {
            return ctx.listenerContext();
        }

        @Override
        public ExecutorService executor() {
            return ctx.executor();
        }

        @Override
        public Router router() {
            return ctx.router();
        }

        @Override
        public Optional<ProxyProtocolData> proxyProtocolData() {
            return ctx.proxyProtocolData();
        }

        @Override
        public HelidonSocket serverSocket() {
            return ctx.serverSocket();
        }

        @Override
        public PeerInfo remotePeer() {
            return ctx.remotePeer();
        }

        @Override
        public PeerInfo localPeer() {
            return ctx.localPeer();
        }

        @Override
        public boolean isSecure() {
            return ctx.isSecure();
        }

        @Override
        public String socketId() {
            return ctx.socketId();
        }

        @Override
        public String childSocketId() {
            return ctx.childSocketId();
        }
    }
}
