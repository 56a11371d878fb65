package dev.berth.server;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.ServerResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * How berth's REST answers leave the server. Every handler answers through {@link #send}, which knows
 * the request being answered (set by {@link #filter}, which wraps every route on the connection's
 * thread) and so can:
 * <ul>
 *   <li>compress the body when Accept-Encoding asks and the body is at least the threshold
 *       ({@link ContentCodings}), with {@code Vary: Accept-Encoding} and a Content-Length of the coded
 *       bytes (compressed in memory rather than streamed, so HTTP/1.0 clients and HEAD get a length);</li>
 *   <li>answer HEAD with exactly the headers GET would get, Content-Length included, and no body
 *       (Helidon 4.5 writes a HEAD answer's entity like GET's, or Content-Length 0 once filtered).</li>
 * </ul>
 * The filter also makes {@code Connection: close} mean what it says: Helidon 4.5 writes the header
 * but then waits for the client's next request; after such an answer the filter ends the connection.
 *
 * <p>It is also the REST side of the drain ({@link InFlight}): an exchange that began before the
 * drain counts as in flight from its first routed byte until its answer has been written, body
 * upload and queueing included, so shutdown waits for it; one that begins during the drain is not
 * admitted ({@link #admitted()}), and every answer sent while draining carries
 * {@code Connection: close}, so keep-alive clients move off this server one answer at a time.
 */
final class Replies {
    /** The request being answered on this thread. */
    private static final ThreadLocal<Exchange> CURRENT = new ThreadLocal<>();

    private Replies() {
    }

    /** Writes a body to a stream (the binary tensor answer, written in parts). */
    @FunctionalInterface
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final class Exchange {
        final boolean head;
        final ContentCodings.Coding coding;
        final int minBytes;
        final InFlight inFlight;
        final boolean admitted;
        final boolean http1;
        boolean bodyless;

        Exchange(boolean head, ContentCodings.Coding coding, int minBytes, InFlight inFlight, boolean admitted, boolean http1) {
            this.head = head;
            this.http1 = http1;
            this.coding = coding;
            this.minBytes = minBytes;
            this.inFlight = inFlight;
            this.admitted = admitted;
        }
    }

    /**
     * True when the exchange being answered on this thread began before the server started to drain
     * (also outside any exchange); handlers refuse new work with 503 when it is false.
     */
    static boolean admitted() {
        Exchange x = CURRENT.get();
        return x == null || x.admitted;
    }

    /**
     * While draining, every HTTP/1 answer tells the client to take its next request elsewhere (HTTP/2
     * forbids the header; its connections end with the listener's GOAWAY).
     */
    private static void closeWhenDraining(ServerResponse res, Exchange x) {
        if (x != null && x.http1 && x.inFlight.draining()) {
            res.header(HeaderNames.CONNECTION, "close");
        }
    }

    /**
     * The filter berth's routing runs first.
     *
     * @param compressionMinBytes smallest body compressed when the client asks; negative: never compress
     * @param inFlight            the server's drain: exchanges are counted in it
     */
    static Filter filter(int compressionMinBytes, InFlight inFlight) {
        return (chain, req, res) -> {
            boolean head = req.prologue().method() == Method.HEAD;
            boolean admitted = inFlight.enter();
            Exchange exchange = new Exchange(head, compressionMinBytes < 0 ? ContentCodings.Coding.IDENTITY
                    : ContentCodings.negotiate(req.headers()), compressionMinBytes, inFlight, admitted,
                    req.prologue().protocolVersion().startsWith("1"));
            Exchange outer = CURRENT.get();
            CURRENT.set(exchange);
            try {
                chain.proceed();
            } finally {
                CURRENT.set(outer);
                // after the answer was written: the drain ends only once the client has it
                if (admitted) {
                    inFlight.exit();
                }
            }
            if (!res.isSent()) {
                return;
            }
            if (closes(res.headers())) {
                throw new CloseConnectionException("closing after an answer with Connection: close");
            }
            if (head && !exchange.bodyless) {
                // a HEAD answer that did not come through send() may have carried a body, which the client
                // would read as the start of its next answer: do not let it read one
                throw new CloseConnectionException("closing after a HEAD answer sent with an entity");
            }
        };
    }

    /**
     * Whether the answer's Connection header has the {@code close} token. Helidon puts
     * {@code Connection: keep-alive} on almost every HTTP/1.1 answer, and {@code containsToken} splits
     * every value into tokens through streams (2-3 % of a small model's request CPU in JFR): a value
     * that is exactly {@code keep-alive} has no other token, so only other values are split.
     */
    private static boolean closes(ServerResponseHeaders headers) {
        if (!headers.contains(HeaderNames.CONNECTION)) {
            return false;
        }
        for (String value : headers.get(HeaderNames.CONNECTION).allValues()) {
            if (!value.trim().equalsIgnoreCase("keep-alive")) {
                return headers.containsToken(HeaderValues.CONNECTION_CLOSE);
            }
        }
        return false;
    }

    /** Sends a complete body with its status and content type. */
    static void send(ServerResponse res, int status, String contentType, byte[] body) {
        Exchange x = CURRENT.get();
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, contentType);
        closeWhenDraining(res, x);
        byte[] wire = body;
        ContentCodings.Coding coding = coding(res, x, body.length);
        if (coding != ContentCodings.Coding.IDENTITY) {
            wire = coding.encode(body);
            res.header(HeaderNames.CONTENT_ENCODING, coding.token);
        }
        if (x != null && x.head) {
            headOnly(res, x, wire.length);
        } else {
            res.send(wire);
        }
    }

    /** Sends a body of {@code length} bytes that {@code body} writes, in parts when it is not compressed. */
    static void send(ServerResponse res, int status, String contentType, long length, Body body) throws IOException {
        Exchange x = CURRENT.get();
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, contentType);
        closeWhenDraining(res, x);
        ContentCodings.Coding coding = coding(res, x, length);
        if (coding != ContentCodings.Coding.IDENTITY) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, length / 2 + 64));
            try (OutputStream coded = coding.wrap(buffer)) {
                body.writeTo(coded);
            }
            res.header(HeaderNames.CONTENT_ENCODING, coding.token);
            if (x.head) {
                headOnly(res, x, buffer.size());
            } else {
                res.send(buffer.toByteArray());
            }
            return;
        }
        if (x != null && x.head) {
            headOnly(res, x, length);
            return;
        }
        res.header(HeaderNames.CONTENT_LENGTH, Long.toString(length));
        try (OutputStream out = res.outputStream()) {
            body.writeTo(out);
        }
    }

    /** The coding of this answer; adds {@code Vary} when the answer depends on Accept-Encoding. */
    private static ContentCodings.Coding coding(ServerResponse res, Exchange x, long length) {
        if (x == null || x.minBytes < 0 || length < x.minBytes) {
            return ContentCodings.Coding.IDENTITY;
        }
        res.headers().add(HeaderValues.create(HeaderNames.VARY, "Accept-Encoding"));
        return x.coding;
    }

    private static void headOnly(ServerResponse res, Exchange x, long length) {
        res.header(HeaderNames.CONTENT_LENGTH, Long.toString(length));
        x.bodyless = true;
        res.send();
    }
}
