package dev.berth.cli;

import dev.berth.packager.PackagingException;
import dev.berth.packager.ServerJars;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * What {@code berth package} puts into an image: the serve module's jar and the jars its manifest's
 * {@code Class-Path} names (its runtime dependencies, as Maven resolved them), taken from the
 * {@code lib/} folder beside {@code berth.jar}; the main class is that jar's {@code Main-Class}
 * ({@link ServeMain}). Everything else in {@code lib/} (Jib, JFreeChart, ...) serves only commands
 * that an image never runs.
 */
public final class ServingJars {
    /** The dependency folder beside {@code berth.jar}, as the cli module's build writes it. */
    static final String LIB_DIR = "lib";
    /** The serve module's jar: {@code berth-serve-VERSION.jar}. */
    static final String SERVE_JAR_PREFIX = "berth-serve-";

    private ServingJars() {
    }

    /** The serving jars of the berth this code runs from: {@code lib/} beside its jar (or beside {@code target/classes}). */
    public static ServerJars locate() {
        Path codeSource;
        try {
            codeSource = Path.of(BerthMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            throw new PackagingException("cannot find berth's own jars: " + e.getMessage(), e);
        }
        // <dir>/berth.jar when installed, target/classes when tests run: lib/ is beside either
        return in(codeSource.getParent().resolve(LIB_DIR));
    }

    /** The serving jars in {@code lib}, a folder that holds the serve module's jar and at least its dependencies. */
    public static ServerJars in(Path lib) {
        Path serveJar;
        try (Stream<Path> files = Files.list(lib)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith(SERVE_JAR_PREFIX)
                    && p.getFileName().toString().endsWith(".jar")).sorted().toList();
            if (found.size() != 1) {
                throw new PackagingException("expected one " + SERVE_JAR_PREFIX + "*.jar in " + lib + ", found " + found.size()
                        + "; rebuild berth with ./mvnw package");
            }
            serveJar = found.get(0);
        } catch (IOException e) {
            throw new PackagingException("no berth build in " + lib.getParent() + " (cannot list " + lib + ": " + e.getMessage()
                    + "); build it with ./mvnw package", e);
        }
        try (JarFile jar = new JarFile(serveJar.toFile())) {
            Attributes main = jar.getManifest() == null ? null : jar.getManifest().getMainAttributes();
            if (main == null || main.getValue(Attributes.Name.MAIN_CLASS) == null || main.getValue(Attributes.Name.CLASS_PATH) == null) {
                throw new PackagingException(serveJar + " has no Main-Class and Class-Path in its manifest; rebuild berth with ./mvnw package");
            }
            List<Path> classPath = new ArrayList<>(List.of(serveJar));
            for (String entry : main.getValue(Attributes.Name.CLASS_PATH).trim().split("\\s+")) {
                // the manifest names lib/NAME.jar relative to the serve jar's own folder; here they all sit in lib/
                classPath.add(lib.resolve(Path.of(entry).getFileName()));
            }
            List<String> missing = classPath.stream().filter(p -> !Files.isRegularFile(p)).map(p -> p.getFileName().toString()).toList();
            if (!missing.isEmpty()) {
                // the serve module resolved a dependency to another version than the cli did: pin it in the parent pom
                throw new PackagingException("the serving class path names jars " + lib + " does not hold: " + String.join(", ", missing)
                        + " (the serve and cli modules resolve them to different versions; pin one in the parent pom, then ./mvnw package)");
            }
            String version = main.getValue(Attributes.Name.IMPLEMENTATION_VERSION);
            return new ServerJars(main.getValue(Attributes.Name.MAIN_CLASS), classPath, version == null ? "unknown" : version);
        } catch (IOException e) {
            throw new PackagingException("cannot read " + serveJar + ": " + e.getMessage(), e);
        }
    }
}
