package dev.berth.packager;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The jars of a built berth, as the launcher runs them: {@code berth.jar} and beside it
 * {@code lib/} with every runtime dependency. Images copy these files, so the server in an
 * image is byte for byte the one {@code berth serve} runs.
 *
 * @param directory        the folder holding {@code berth.jar} and {@code lib/}
 * @param berthJars        berth's own jars: {@code berth.jar} and {@code lib/berth-*.jar}, sorted
 * @param thirdPartyJars   every other jar in {@code lib/}, sorted
 * @param version          berth's version, from the build's Maven metadata ({@code unknown} where missing)
 */
public record BerthDistribution(Path directory, List<Path> berthJars, List<Path> thirdPartyJars, String version) {
    /** The main jar's name, as the packager module's build writes it. */
    public static final String MAIN_JAR = "berth.jar";
    /** The dependency folder beside the main jar. */
    public static final String LIB_DIR = "lib";

    public BerthDistribution {
        berthJars = List.copyOf(berthJars);
        thirdPartyJars = List.copyOf(thirdPartyJars);
    }

    /**
     * The distribution this code runs from: the folder of the jar holding this class, or, when
     * running from compiled classes (tests), the build folder beside them.
     */
    public static BerthDistribution locate() {
        Path codeSource;
        try {
            codeSource = Path.of(BerthDistribution.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            throw new PackagingException("cannot find berth's own jars: " + e.getMessage(), e);
        }
        // target/classes during tests, <dir>/berth.jar when installed
        Path directory = codeSource.getParent();
        return fromDirectory(directory);
    }

    /** The distribution in {@code directory} (which holds {@code berth.jar} and {@code lib/}). */
    public static BerthDistribution fromDirectory(Path directory) {
        Path mainJar = directory.resolve(MAIN_JAR);
        Path lib = directory.resolve(LIB_DIR);
        if (!Files.isRegularFile(mainJar) || !Files.isDirectory(lib)) {
            throw new PackagingException("no berth build in " + directory + " (expected " + MAIN_JAR + " and " + LIB_DIR
                    + "/); build it with ./mvnw package");
        }
        List<Path> jars;
        try (Stream<Path> files = Files.list(lib)) {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + lib, e);
        }
        List<Path> own = Stream.concat(Stream.of(mainJar), jars.stream().filter(BerthDistribution::isBerthJar)).toList();
        List<Path> others = jars.stream().filter(p -> !isBerthJar(p)).toList();
        return new BerthDistribution(directory.toAbsolutePath(), own, others, readVersion(mainJar));
    }

    static boolean isBerthJar(Path jar) {
        return jar.getFileName().toString().startsWith("berth-");
    }

    private static String readVersion(Path mainJar) {
        try (JarFile jar = new JarFile(mainJar.toFile())) {
            var entry = jar.getEntry("META-INF/maven/dev.berth/berth-packager/pom.properties");
            if (entry == null) {
                return "unknown";
            }
            try (InputStream in = jar.getInputStream(entry)) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            return "unknown";
        }
    }
}
