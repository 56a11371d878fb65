package dev.berth.server;

import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;

/**
 * The timeout an inference request runs under, the same for both front ends: the shortest of the
 * client's {@code timeout} request parameter (Triton's schedule-policy extension: an integer number of
 * microseconds, 0 for none), the gRPC call's deadline, and the server's {@code max-request-time}.
 */
final class RequestTimeout {
    /** The request parameter, as Triton's clients send it ({@code client_timeout} sets the gRPC deadline instead). */
    static final String PARAMETER = "timeout";

    private RequestTimeout() {
    }

    /**
     * @param request        the decoded request (its parameters hold the client's timeout, if any)
     * @param callDeadline   time left of the gRPC call's deadline, or null (REST, or a call without one)
     * @param serverMaximum  the server's ceiling, {@link Duration#ZERO} for none
     * @return the request with its timeout set
     * @throws InferenceException.InvalidInput when the parameter is not a whole, non-negative number of microseconds
     */
    static InferenceRequest apply(InferenceRequest request, Duration callDeadline, Duration serverMaximum) {
        Duration timeout = shortest(fromParameter(request.parameters()), callDeadline);
        timeout = shortest(timeout, serverMaximum);
        return timeout.isZero() ? request : request.withTimeout(timeout);
    }

    private static Duration fromParameter(Map<String, Object> parameters) {
        Object value = parameters.get(PARAMETER);
        if (value == null) {
            return Duration.ZERO;
        }
        if (value instanceof Long micros && micros >= 0) {
            return Duration.ofNanos(Math.multiplyExact(Math.min(micros, Long.MAX_VALUE / 1000), 1000L));
        }
        if (value instanceof BigInteger || value instanceof Long) {
            throw new InferenceException.InvalidInput("parameter '" + PARAMETER + "' must be 0 (none) or a positive number of microseconds, got "
                    + value);
        }
        throw new InferenceException.InvalidInput("parameter '" + PARAMETER + "' must be a whole number of microseconds, got "
                + (value instanceof String ? "the string \"" + value + "\"" : value));
    }

    /** The shorter of two timeouts, where zero (or null) is none; a negative one (a deadline already past) is the shortest. */
    private static Duration shortest(Duration a, Duration b) {
        if (b == null || b.isZero()) {
            return a;
        }
        Duration bounded = b.isNegative() ? Duration.ofNanos(1) : b;
        return a.isZero() || bounded.compareTo(a) < 0 ? bounded : a;
    }
}
