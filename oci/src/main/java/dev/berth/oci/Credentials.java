package dev.berth.oci;

import com.google.cloud.tools.jib.api.Credential;
import com.google.cloud.tools.jib.api.CredentialRetriever;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.frontend.CredentialRetrieverFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * User name and password (or token) for a registry, found as container tools find them: the
 * Docker config file ({@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}) with
 * its {@code auths}, {@code credsStore} and {@code credHelpers}, then the well-known credential
 * helpers. Read through jib-core's public {@link CredentialRetrieverFactory}.
 *
 * @param username user name (for an identity token, the conventional {@code <token>})
 * @param password password or token
 */
public record Credentials(String username, String password) {
    private static final System.Logger LOG = System.getLogger(Credentials.class.getName());

    /** The Docker config file this process reads: {@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}. */
    public static Path dockerConfigFile(Map<String, String> env) {
        String dir = env.get("DOCKER_CONFIG");
        return dir != null && !dir.isBlank() ? Path.of(dir, "config.json") : Path.of(System.getProperty("user.home"), ".docker", "config.json");
    }

    /** Credentials for {@code registry} from the Docker config file and helpers; empty for anonymous access. */
    public static Optional<Credentials> lookup(String registry, Map<String, String> env) {
        try {
            ImageReference ref = ImageReference.of(registry, "berth", null);
            CredentialRetrieverFactory factory = CredentialRetrieverFactory.forImage(ref,
                    event -> LOG.log(System.Logger.Level.DEBUG, event.getMessage()));
            Path config = dockerConfigFile(env);
            java.util.List<CredentialRetriever> retrievers = new java.util.ArrayList<>();
            if (Files.exists(config)) {
                retrievers.add(factory.dockerConfig(config));
            }
            retrievers.add(factory.wellKnownCredentialHelpers());
            for (CredentialRetriever retriever : retrievers) {
                Optional<Credential> found = retriever.retrieve();
                if (found.isPresent()) {
                    return Optional.of(new Credentials(found.get().getUsername(), found.get().getPassword()));
                }
            }
            return Optional.empty();
        } catch (Exception e) {
            throw new OciException("cannot read registry credentials for " + registry + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "Credentials[" + username + ", ***]";
    }
}
