package dev.berth.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The repository API's bearer-token check, shared so that REST and gRPC accept exactly the same headers. */
final class BearerToken {
    private static final String PREFIX = "Bearer ";

    private BearerToken() {
    }

    /**
     * Passes when {@code header} is {@code Bearer <token>} (scheme case-insensitive, token trimmed).
     * The comparison takes constant time so that timing does not reveal how much of a guess matched.
     *
     * @param token          the configured token's UTF-8 bytes
     * @param header         the authorization header or metadata, {@code ""} when absent
     * @param missingMessage the error when the header is absent, worded for the protocol
     * @throws Failure.Unauthenticated when the header is absent or carries another token
     */
    static void check(byte[] token, String header, String missingMessage) {
        boolean ok = header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
                && MessageDigest.isEqual(header.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8), token);
        if (!ok) {
            throw new Failure.Unauthenticated(header.isEmpty() ? missingMessage : "invalid repository token");
        }
    }
}
