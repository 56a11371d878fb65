package dev.berth.server;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Who may use the repository API, shared by REST and gRPC so that both answer the same way.
 *
 * <p>The index (a read-only list) needs the token when one is configured, and is open otherwise.
 * Load and unload change what the server serves: with a token they need it; without one they are
 * refused (403 / PERMISSION_DENIED) unless the operator opened them explicitly, so that a server
 * started without thinking about it, or an image run with its defaults, cannot be emptied by
 * anyone who reaches its port.
 */
final class RepositoryAccess {
    static final String CLOSED_MESSAGE = "the repository API (load, unload) is closed: start berth serve with"
            + " --repository-token TOKEN (BERTH_REPOSITORY_TOKEN), or --open-repository-api (BERTH_OPEN_REPOSITORY_API=true)"
            + " to let anyone who reaches this port load and unload models";

    private final Optional<byte[]> token;
    private final boolean open;

    private RepositoryAccess(Optional<byte[]> token, boolean open) {
        this.token = token;
        this.open = open;
    }

    static RepositoryAccess of(Optional<String> token, boolean openWithoutToken) {
        return new RepositoryAccess(token.map(t -> t.getBytes(StandardCharsets.UTF_8)), openWithoutToken);
    }

    /** Checks a call that only reads the repository (the index). */
    void checkRead(String header, String missingMessage) {
        token.ifPresent(t -> BearerToken.check(t, header, missingMessage));
    }

    /** Checks a call that changes what is served (load, unload). */
    void checkChange(String header, String missingMessage) {
        if (token.isPresent()) {
            BearerToken.check(token.get(), header, missingMessage);
        } else if (!open) {
            throw new Failure.Forbidden(CLOSED_MESSAGE);
        }
    }
}
