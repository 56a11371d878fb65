package dev.berth.packager;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * What an image runs: the server's class path and its main class, as the caller (berth's command
 * line) gives them. The packager knows no command line: it layers these jars and makes
 * {@code java -cp /app/lib/* MAIN_CLASS} the image's entrypoint.
 *
 * @param mainClass the server's main class, for example {@code dev.berth.cli.ServeMain}
 * @param classPath every jar the server needs and no other, each an existing file; no two with one file name
 * @param version   berth's version, for the image's labels and dependency manifest
 */
public record ServerJars(String mainClass, List<Path> classPath, String version) {
    /** The prefix of berth's own jars ({@code berth-server-0.1.0.jar}); they go into a layer of their own. */
    public static final String BERTH_JAR_PREFIX = "berth-";

    /**
     * @throws PackagingException.InvalidOptionException when the main class is blank, the class path
     *                                                   empty, a jar missing or two jars share a file name
     */
    public ServerJars {
        Objects.requireNonNull(mainClass, "mainClass");
        Objects.requireNonNull(version, "version");
        if (mainClass.isBlank()) {
            throw new PackagingException.InvalidOptionException("the server's main class is blank");
        }
        classPath = classPath.stream().map(Path::toAbsolutePath).sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        if (classPath.isEmpty()) {
            throw new PackagingException.InvalidOptionException("the server's class path is empty");
        }
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < classPath.size(); i++) {
            Path jar = classPath.get(i);
            if (!Files.isRegularFile(jar)) {
                problems.add("no jar at " + jar);
            } else if (i > 0 && classPath.get(i - 1).getFileName().equals(jar.getFileName())) {
                problems.add("two jars named " + jar.getFileName()); // they would land on one path in the image
            }
        }
        if (!problems.isEmpty()) {
            throw new PackagingException.InvalidOptionException("the server's class path: " + String.join("; ", problems)
                    + " (build berth with ./mvnw package)");
        }
    }

    /** berth's own jars, sorted: they change with every berth build, the others only with a dependency. */
    public List<Path> berthJars() {
        return classPath.stream().filter(ServerJars::isBerthJar).toList();
    }

    /** Every other jar of the class path, sorted. */
    public List<Path> thirdPartyJars() {
        return classPath.stream().filter(p -> !isBerthJar(p)).toList();
    }

    static boolean isBerthJar(Path jar) {
        return jar.getFileName().toString().startsWith(BERTH_JAR_PREFIX);
    }
}
