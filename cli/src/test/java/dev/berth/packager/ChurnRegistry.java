package dev.berth.packager;

import dev.berth.registry.LocalRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** A copy of the repository's example registry's churn model (versions 1 and 2, aliases) in a folder of the test's own. */
final class ChurnRegistry {
    static final String NAME = "churn";

    private ChurnRegistry() {
    }

    /** The repository's {@code models/} folder, found from the module folder the tests run in. */
    static Path repositoryModels() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("models").resolve(NAME)) && Files.exists(dir.resolve("mvnw"))) {
                return dir.resolve("models");
            }
            dir = dir.getParent();
        }
        throw new AssertionError("no models/" + NAME + " above " + Path.of("").toAbsolutePath());
    }

    /** Copies models/churn into {@code root}/churn and opens {@code root} as a registry. */
    static LocalRegistry create(Path root) throws IOException {
        Path source = repositoryModels().resolve(NAME);
        Path target = root.resolve(NAME);
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path p : walk.toList()) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return LocalRegistry.open(root);
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = ChurnRegistry.class.getResourceAsStream("/churn/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource churn/" + name);
            }
            return in.readAllBytes();
        }
    }
}
