package dev.berth.server;

import dev.berth.runtime.InferenceException;
import dev.berth.server.codec.OipJson;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.PathMatcher;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.ServerResponse;

/**
 * How every REST route on berth's port is declared and how its failures are answered, once for all
 * services: a GET route also answers HEAD (HTTP asks for HEAD wherever GET works; load balancers and
 * uptime checkers probe with it), any other method on a route's path is a 405 naming the allowed ones,
 * a path no route has is a 404, and whatever a handler throws is classified by {@link Failure} in the
 * routing's one error handler and leaves as {@code {"error": "..."}}.
 */
final class RestRoutes {
    static final String JSON = "application/json";

    private RestRoutes() {
    }

    /** GET and HEAD on {@code path}; other methods 405. */
    static void get(HttpRules rules, String path, Handler handler) {
        rules.get(path, handler);
        rules.head(path, handler);
        rules.any(path, methodNotAllowed("GET, HEAD"));
    }

    /** POST on {@code path}; other methods 405. */
    static void post(HttpRules rules, String path, Handler handler) {
        rules.post(path, handler);
        rules.any(path, methodNotAllowed("POST"));
    }

    /** POST on the paths {@code path} matches; other methods 405. */
    static void post(HttpRules rules, PathMatcher path, Handler handler) {
        rules.route(Method.POST, path, handler);
        rules.route(method -> true, path, methodNotAllowed("POST"));
    }

    private static Handler methodNotAllowed(String allowed) {
        return (req, res) -> {
            throw new Failure.MethodNotAllowed("method " + req.prologue().method().text() + " is not allowed on "
                    + req.path().path() + "; use " + allowed, allowed);
        };
    }

    /**
     * The routing's error handler and its last route, the 404 for a path nothing else answered. Helidon
     * runs error handlers inside the filters, so the answer still leaves through {@link Replies}.
     */
    static void install(HttpRouting.Builder http) {
        http.error(RuntimeException.class, (req, res, e) -> sendFailure(res, Failure.of(e)));
        http.any((req, res) -> {
            throw new InferenceException.NotFound("no such endpoint: " + req.prologue().method().text() + " "
                    + req.path().path());
        });
    }

    static void sendFailure(ServerResponse res, Failure failure) {
        switch (failure.kind()) {
            case UNAUTHENTICATED -> res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
            case TOO_MANY_REQUESTS -> res.header(HeaderNames.RETRY_AFTER, Integer.toString(Math.max(1, failure.retryAfterSeconds())));
            // the rest of the body stays unread: draining it (through an inflater, for a compressed one)
            // would cost what the limit is there to prevent, so the connection ends with this answer
            case TOO_LARGE -> res.header(HeaderNames.CONNECTION, "close");
            // what follows a broken body on the connection cannot be told from the body
            case BROKEN_BODY -> res.header(HeaderNames.CONNECTION, "close");
            case METHOD_NOT_ALLOWED -> res.header(HeaderNames.ALLOW, failure.allowed());
            default -> {
            }
        }
        sendError(res, failure.kind().httpStatus, failure.message());
    }

    /** An error answer, unless an answer (a streamed body that failed half way) has already begun. */
    static void sendError(ServerResponse res, int status, String message) {
        if (res.isSent()) {
            return;
        }
        sendJson(res, status, OipJson.error(message));
    }

    /** A JSON answer; compressed, HEAD-shaped, as {@link Replies} does for every answer. */
    static void sendJson(ServerResponse res, int status, byte[] body) {
        Replies.send(res, status, JSON, body);
    }
}
