package dev.berth.server;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Cross-origin resource sharing for browser clients, off unless origins are configured
 * ({@code --cors-origins https://a,https://b}, or {@code *} for any origin).
 *
 * <ul>
 *   <li>A preflight ({@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method}) from an
 *       allowed origin is answered 204 on any path, listing the methods and request headers the protocol
 *       uses (Content-Type, Authorization for the repository token, Content-Encoding for compressed
 *       bodies, Inference-Header-Content-Length for binary tensors), cached by the browser for 10 minutes.
 *       From any other origin it is a 403 with a JSON error.</li>
 *   <li>Other requests from an allowed origin get {@code Access-Control-Allow-Origin} and expose the
 *       headers a binary-tensor client must read. Requests from other origins are served without CORS
 *       headers: the browser then withholds the answer, and non-browser clients, which may send an
 *       Origin of their own, keep working.</li>
 * </ul>
 * No credentials mode: the repository token travels in an explicit Authorization header, which CORS
 * allows without it (cookies are never used).
 *
 * <p>Helidon's {@code helidon-webserver-cors} was not used: it refuses with an empty 403 (the protocol
 * wants a JSON error), sets {@code Vary} with {@code set}, which would drop {@code Vary: Accept-Encoding},
 * and installs itself on every listener through the service loader once on the class path.
 */
final class Cors {
    static final String ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS";
    static final String ALLOWED_HEADERS =
            "Content-Type, Authorization, Content-Encoding, Accept-Encoding, Inference-Header-Content-Length";
    static final String EXPOSED_HEADERS = "Inference-Header-Content-Length, Content-Encoding, Content-Length";
    static final String MAX_AGE_SECONDS = "600";

    private static final HeaderName REQUEST_METHOD = HeaderNames.ACCESS_CONTROL_REQUEST_METHOD;
    private static final Pattern ORIGIN = Pattern.compile("[a-z][a-z0-9+.-]*://[^/?#\\s]+");

    private final boolean anyOrigin;
    private final Set<String> origins;

    private Cors(boolean anyOrigin, Set<String> origins) {
        this.anyOrigin = anyOrigin;
        this.origins = origins;
    }

    /**
     * The policy for these origins ({@code scheme://host[:port]}, or {@code *}); empty when the list is.
     *
     * @throws IllegalArgumentException naming every entry that is not an origin
     */
    static Optional<Cors> of(List<String> configured) {
        Set<String> origins = new LinkedHashSet<>();
        boolean any = false;
        List<String> bad = new ArrayList<>();
        for (String entry : configured) {
            String o = entry.trim();
            if (o.isEmpty()) {
                continue;
            }
            if (o.equals("*")) {
                any = true;
                continue;
            }
            // browsers send scheme and host in lower case, and never a trailing slash
            String normal = o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
            normal = normal.toLowerCase(Locale.ROOT);
            if (!ORIGIN.matcher(normal).matches()) {
                bad.add(o);
            } else {
                origins.add(normal);
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("cors origins must be scheme://host[:port] or *, got " + String.join(", ", bad));
        }
        return any || !origins.isEmpty() ? Optional.of(new Cors(any, Set.copyOf(origins))) : Optional.empty();
    }

    /** Splits a comma-separated list, the form flags and environment variables give. */
    static List<String> split(String list) {
        List<String> out = new ArrayList<>();
        for (String s : list.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    boolean allows(String origin) {
        return anyOrigin || origins.contains(origin.toLowerCase(Locale.ROOT));
    }

    Filter filter() {
        return (chain, req, res) -> {
            Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
            if (origin.isEmpty()) {
                chain.proceed();
                return;
            }
            boolean allowed = allows(origin.get());
            boolean preflight = req.prologue().method() == Method.OPTIONS && req.headers().contains(REQUEST_METHOD);
            if (preflight && !allowed) {
                RestRoutes.sendError(res, 403, "origin '" + origin.get()
                        + "' may not call this server from a browser (allowed: --cors-origins)");
                return;
            }
            if (allowed) {
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, anyOrigin ? "*" : origin.get());
                if (!anyOrigin) {
                    // the answer names the origin, so a cache must keep one per origin
                    res.headers().add(HeaderValues.create(HeaderNames.VARY, "Origin"));
                }
            }
            if (preflight) {
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS);
                res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS);
                res.status(Status.NO_CONTENT_204).send();
                return;
            }
            if (allowed) {
                res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
            }
            chain.proceed();
        };
    }
}
