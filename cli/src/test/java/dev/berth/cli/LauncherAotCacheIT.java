package dev.berth.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code ./berth serve}'s ahead-of-time cache on JDK 25+: the first start that finds none writes it
 * with a training start (saying so in one line), later starts run from it, a damaged one is ignored
 * without a word, a failed training start is said once and not retried before the next build, and
 * {@code BERTH_AOT_CACHE=off} keeps the class-data archive. Whether the server
 * JVM really ran from the cache is read from the JVM's own {@code aot} log, written to a file through
 * {@code BERTH_JAVA_OPTS}. The build runs every other test with the cache off (the root pom), so this
 * one names its own cache file.
 */
class LauncherAotCacheIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** The training start runs the server once and the JVM then assembles the cache: ~15 s idle, more on a busy CI machine. */
    private static final Duration PATIENCE = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    @BeforeAll
    static void onJdk25() {
        assumeTrue(Runtime.version().feature() >= 25, "the launcher writes an AOT cache on JDK 25 and later only");
    }

    @Test
    void theFirstStartWritesTheCacheAndLaterStartsRunFromIt() throws Exception {
        Path cache = dir.resolve("serve.aot");
        Path log = dir.resolve("aot.log");
        Map<String, String> env = Map.of("BERTH_AOT_CACHE", cache.toString(), "BERTH_JAVA_OPTS", "-Xlog:aot=info:file=" + log);

        String first = startAndStop(env);
        assertTrue(first.contains("berth: writing the JVM's start-up cache"), first);
        assertTrue(Files.size(cache) > 1_000_000, "a cache was written: " + Files.size(cache) + " bytes");
        assertTrue(usedTheCache(log), "the server after the training start ran from the cache:\n" + Files.readString(log));
        try (var leftovers = Files.list(dir)) {
            // (the JVM rotates its log files itself: aot.log.0, ...)
            assertEquals(List.of("serve.aot", "serve.aot.lock"), leftovers.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("serve")).sorted().toList(), "no temporary file left beside the cache");
        }

        String second = startAndStop(env);
        assertFalse(second.contains("writing the JVM's start-up cache"), second);
        assertTrue(usedTheCache(log), Files.readString(log));
    }

    @Test
    void aDamagedCacheIsIgnoredQuietly() throws Exception {
        Path cache = dir.resolve("serve.aot");
        Files.write(cache, "not an AOT cache".repeat(1000).getBytes(StandardCharsets.UTF_8));
        // newer than every jar, so the launcher keeps it and the JVM has to reject it
        Files.setLastModifiedTime(cache, FileTime.from(Instant.now().plusSeconds(3600)));
        String out = startAndStop(Map.of("BERTH_AOT_CACHE", cache.toString()));
        assertFalse(out.contains("writing the JVM's start-up cache"), out);
        assertFalse(out.toLowerCase().contains("aot"), "nothing about the cache in what the server printed:\n" + out);
    }

    @Test
    void aFailedTrainingStartIsSaidOnceAndNotRetriedUntilTheNextBuild() throws Exception {
        Path cache = dir.resolve("serve.aot");
        // -Xshare:auto is refused next to -XX:AOTCacheOutput, so the training JVM fails to start, while the
        // server itself accepts it: a training start that cannot work, in an otherwise working set-up
        Map<String, String> env = Map.of("BERTH_AOT_CACHE", cache.toString(), "BERTH_JAVA_OPTS", "-Xshare:auto");
        String first = startAndStop(env);
        assertTrue(first.contains("berth: could not write the start-up cache"), first);
        assertTrue(Files.exists(dir.resolve("serve.aot.failed")), "the failure is remembered");
        assertFalse(Files.exists(cache));
        String second = startAndStop(env);
        assertFalse(second.contains("writing the JVM's start-up cache"), "not tried again on every start:\n" + second);
    }

    @Test
    void offKeepsTheClassDataArchive() throws Exception {
        try (ServeProcess serve = ServeProcess.start(command(), Map.of("BERTH_AOT_CACHE", "off"), PATIENCE)) {
            List<String> arguments = List.of(serve.handle().info().arguments().orElseThrow());
            assertTrue(arguments.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile=")), arguments.toString());
            assertTrue(arguments.stream().noneMatch(a -> a.startsWith("-XX:AOTCache")), arguments.toString());
            serve.stop();
            assertFalse(serve.output().contains("writing the JVM's start-up cache"), serve.output());
        }
    }

    private static boolean usedTheCache(Path log) throws Exception {
        return Files.readString(log).contains("Using AOT-linked classes: true");
    }

    /** Starts the launcher until ready, stops it; returns everything it printed. */
    private static String startAndStop(Map<String, String> env) throws Exception {
        try (ServeProcess serve = ServeProcess.start(command(), env, PATIENCE)) {
            serve.stop();
            return serve.output();
        }
    }

    private static List<String> command() {
        return List.of(ROOT.resolve("berth").toString(), "serve", "--models", ROOT.resolve("models").toString(),
                "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0");
    }
}
