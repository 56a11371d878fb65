package dev.berth.registry.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The shipped sample models (churn, digits) as test resources, copied out to real folders so tests
 * work with real files. Shared with other modules through the registry's test jar.
 */
public final class Samples {
    public static final String CHURN = "churn";
    public static final String DIGITS = "digits";
    private static final String BASE = "/dev/berth/registry/samples/";

    private Samples() {
    }

    /** Copies sample {@code name} into {@code target} (created) and returns {@code target}. */
    public static Path copy(String name, Path target) {
        try {
            for (String file : files(name)) {
                Path dest = target.resolve(file);
                Files.createDirectories(dest.getParent());
                try (InputStream in = Samples.class.getResourceAsStream(BASE + name + "/" + file)) {
                    if (in == null) {
                        throw new IllegalStateException("test resource missing: " + BASE + name + "/" + file);
                    }
                    Files.copy(in, dest);
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The files of a sample, relative to its folder, as listed in its {@code files.txt}. */
    public static List<String> files(String name) {
        try (InputStream in = Samples.class.getResourceAsStream(BASE + name + "/files.txt")) {
            if (in == null) {
                throw new IllegalArgumentException("no sample named " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
