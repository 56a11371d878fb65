package dev.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * User name and password (or token) for a registry, found as Docker's own client finds them in
 * its config file ({@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}): the
 * registry's credential helper ({@code credHelpers}), else the default store ({@code credsStore}),
 * else the file's {@code auths} entry ({@code auth}, {@code username}/{@code password} or
 * {@code identitytoken}). A helper is the program {@code docker-credential-NAME} on the
 * {@code PATH}, asked with {@code get} as Docker asks it.
 *
 * <p>berth reads the file itself rather than through jib-core, so that serving from a registry
 * ({@code berth serve --models oci://}) needs no image-building library on its class path.
 *
 * @param username user name (for an identity token, the conventional {@code <token>})
 * @param password password or token
 */
public record Credentials(String username, String password) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Docker Hub's names for itself: an entry under any of them is Docker Hub's. */
    private static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";
    private static final long HELPER_TIMEOUT_SECONDS = 30;

    /** The Docker config file this process reads: {@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}. */
    public static Path dockerConfigFile(Map<String, String> env) {
        String dir = env.get("DOCKER_CONFIG");
        return dir != null && !dir.isBlank() ? Path.of(dir, "config.json") : Path.of(System.getProperty("user.home"), ".docker", "config.json");
    }

    /**
     * Credentials for {@code registry} (host and port, as in an image reference) from the Docker
     * config file and its helpers; empty for anonymous access.
     *
     * @param env the environment: {@code DOCKER_CONFIG} and the {@code PATH} helpers are looked up on
     * @throws OciException when the file is not JSON or a helper fails for another reason than "not found"
     */
    public static Optional<Credentials> lookup(String registry, Map<String, String> env) {
        Path config = dockerConfigFile(env);
        if (!Files.isRegularFile(config)) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(config.toFile());
        } catch (IOException e) {
            throw new OciException("cannot read registry credentials for " + registry + " from " + config + ": " + e.getMessage(), e);
        }
        String helper = root.path("credHelpers").path(registry).asText("");
        if (helper.isEmpty()) {
            helper = root.path("credsStore").asText("");
        }
        if (!helper.isEmpty()) {
            Optional<Credentials> fromHelper = fromHelper(helper, registry, env);
            if (fromHelper.isPresent()) {
                return fromHelper;
            }
        }
        JsonNode entry = authsEntry(root.path("auths"), registry);
        return entry == null ? Optional.empty() : fromEntry(entry, registry, config);
    }

    /** The {@code auths} entry for {@code registry}: its own key, or a key with a scheme or path around it. */
    private static JsonNode authsEntry(JsonNode auths, String registry) {
        if (auths.has(registry)) {
            return auths.get(registry);
        }
        boolean hub = isDockerHub(registry);
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String host = e.getKey().replaceFirst("^[a-zA-Z]+://", "").replaceFirst("/.*$", "");
            if (host.equalsIgnoreCase(registry) || hub && (e.getKey().equals(DOCKER_HUB_KEY) || isDockerHub(host))) {
                return e.getValue();
            }
        }
        return null;
    }

    private static boolean isDockerHub(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("docker.io") || h.equals("index.docker.io") || h.equals("registry-1.docker.io");
    }

    private static Optional<Credentials> fromEntry(JsonNode entry, String registry, Path config) {
        String token = entry.path("identitytoken").asText("");
        if (!token.isEmpty()) {
            return Optional.of(new Credentials("<token>", token));
        }
        String auth = entry.path("auth").asText("");
        if (!auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new OciException("the auths entry for " + registry + " in " + config + " is not base64 'user:password'", e);
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new OciException("the auths entry for " + registry + " in " + config + " is not base64 'user:password'");
            }
            return Optional.of(new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
        }
        String user = entry.path("username").asText("");
        return user.isEmpty() ? Optional.empty() : Optional.of(new Credentials(user, entry.path("password").asText("")));
    }

    /** Asks {@code docker-credential-NAME get} with the registry on its input, as Docker does; empty where it has none. */
    private static Optional<Credentials> fromHelper(String name, String registry, Map<String, String> env) {
        String program = "docker-credential-" + name;
        Path executable = onPath(program, env.get("PATH"));
        if (executable == null) {
            throw new OciException("the Docker config names the credential helper '" + name + "' for " + registry + ", and no "
                    + program + " is on the PATH");
        }
        try {
            Process p = new ProcessBuilder(executable.toString(), "get").redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(registry.getBytes(StandardCharsets.UTF_8));
            }
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(HELPER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new OciException(program + " did not answer within " + HELPER_TIMEOUT_SECONDS + " s");
            }
            String text = new String(out, StandardCharsets.UTF_8).strip();
            if (p.exitValue() != 0) {
                // the helper protocol's way of saying "nothing stored for this server"
                if (text.toLowerCase(Locale.ROOT).contains("credentials not found")) {
                    return Optional.empty();
                }
                throw new OciException(program + " get failed (exit " + p.exitValue() + "): " + text.lines().findFirst().orElse(""));
            }
            JsonNode answer = JSON.readTree(text);
            String user = answer.path("Username").asText("");
            String secret = answer.path("Secret").asText("");
            return secret.isEmpty() ? Optional.empty() : Optional.of(new Credentials(user, secret));
        } catch (IOException e) {
            throw new OciException("cannot run " + program + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OciException("interrupted while asking " + program, e);
        }
    }

    private static Path onPath(String program, String path) {
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = dir.isEmpty() ? null : Path.of(dir, program);
            if (candidate != null && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "Credentials[" + username + ", ***]";
    }
}
