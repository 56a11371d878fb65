package dev.berth.server;

import dev.berth.server.codec.OipJson;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;

import java.nio.charset.StandardCharsets;

/**
 * The answers Helidon gives itself, before any route runs (a request line or headers over the limits,
 * a body over the limit, a coding it cannot decode, a malformed request), in the protocol's JSON shape
 * {@code {"error": "..."}} and with the status the problem deserves.
 *
 * <p>Helidon reports several of these as a plain 400 and tells them apart only by its message, which it
 * passes on only with {@code error-handling.include-entity} (set by BerthServer); the messages matched
 * here are Helidon 4.5's, and the tests that send each case would catch a Helidon that changed them.
 */
final class DirectAnswers {
    /** Longest request line (method, path with query, version), Helidon's default: longer ones get 414. */
    static final int MAX_REQUEST_LINE_BYTES = 4096;
    /** Most bytes of request headers, Helidon's default: more gets 431. */
    static final int MAX_HEADER_BYTES = 16384;

    private DirectAnswers() {
    }

    static DirectHandlers create(long maxRequestBytes, int maxConnections) {
        DirectHandler json = (request, eventType, status, headers, message) -> {
            String text = message == null || message.isBlank() ? status.reasonPhrase() : message;
            Status answer = status;
            if (eventType == DirectHandler.EventType.PAYLOAD_TOO_LARGE || status.code() == 413) {
                text = "request body exceeds the limit of " + maxRequestBytes + " bytes";
            } else if (status.code() == 414) {
                text = "request line (method, path and query) exceeds the limit of " + MAX_REQUEST_LINE_BYTES + " bytes";
            } else if ("Header size exceeded".equals(message)) {
                answer = Status.create(431, "Request Header Fields Too Large");
                text = "request headers exceed the limit of " + MAX_HEADER_BYTES + " bytes";
            } else if (status.code() == 400 && request.headers().contains(HeaderNames.CONTENT_ENCODING)
                    && (message == null || message.isBlank() || message.contains("content encoding"))) {
                // Helidon refuses a body coding it has no decoder for with "Unsupported content encoding"
                answer = Status.UNSUPPORTED_MEDIA_TYPE_415;
                text = "Content-Encoding '" + request.headers().first(HeaderNames.CONTENT_ENCODING).orElse("")
                        + "' is not supported: send gzip, deflate or identity";
                headers.set(HeaderNames.ACCEPT_ENCODING, "gzip, deflate, identity");
            } else if (status.code() == 503 && "Too Many Concurrent Requests".equals(message)) {
                // a connection over max-connections (ConnectionCap): the only request limit berth sets
                text = "the server has " + maxConnections + " connections open, its limit (max-connections); retry later";
                headers.set(HeaderNames.RETRY_AFTER, "1");
                headers.set(HeaderNames.CONNECTION, "close");
            } else if (status.code() >= 500 && status.code() != 505) {
                text = "internal server error";
            } else if (text.startsWith("Bad request, see server log")) {
                // Helidon's stand-in for a parse error it does not describe to clients
                text = "malformed HTTP request (request line or headers)";
            }
            headers.set(HeaderNames.CONTENT_TYPE, RestRoutes.JSON);
            return DirectHandler.TransportResponse.builder()
                    .status(answer)
                    .headers(headers)
                    .entity(new String(OipJson.error(text), StandardCharsets.UTF_8))
                    .build();
        };
        DirectHandlers.Builder b = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            b.addHandler(type, json);
        }
        return b.build();
    }
}
