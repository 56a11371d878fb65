package dev.berth.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./berth serve} killed with SIGKILL, as the OOM killer or a node failure ends it, leaves
 * nothing in the temp folder: ONNX Runtime's natives come from the launcher's cache folder, which
 * the next start reuses. (ONNX Runtime left alone copies 22 MB into a new onnxruntime-java* temp
 * folder per process and removes it only on a normal exit.)
 */
class KilledServeIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path work;

    @Test
    void aKilledServerLeavesNoNativesInTheTempFolderAndTheCacheIsReused() throws Exception {
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        Path cache = Files.createDirectories(work.resolve("cache"));
        Map<String, String> env = Map.of("XDG_CACHE_HOME", cache.toString(), "BERTH_JAVA_OPTS", "-Djava.io.tmpdir=" + tmp);
        List<String> command = List.of(ROOT.resolve("berth").toString(), "serve", "--models", ROOT.resolve("models").toString(),
                "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0");
        for (int run = 1; run <= 2; run++) {
            try (ServeProcess serve = ServeProcess.start(command, env)) {
                serve.kill();
            }
            try (Stream<Path> left = Files.list(tmp)) {
                List<String> names = left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("onnxruntime")).toList();
                assertEquals(List.of(), names, "run " + run + " left ONNX Runtime files in the temp folder");
            }
            try (Stream<Path> natives = Files.walk(cache)) {
                List<Path> libraries = natives.filter(p -> p.getFileName().toString().equals("libonnxruntime.so")).toList();
                assertEquals(1, libraries.size(), "one copy of the natives in the cache after run " + run + ": " + libraries);
                assertTrue(libraries.get(0).startsWith(cache.resolve("berth")), libraries.toString());
            }
        }
    }
}
