package dev.berth.runtime.onnx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where child JVMs get ONNX Runtime's natives from: real processes, each with its own temp
 * folder and cache home, so the test sees exactly what they leave behind.
 */
class OrtNativesTest {
    @TempDir
    Path temp;

    private static final String PLATFORM = OrtNatives.platform();
    private static final String LEAF = "onnxruntime-" + OrtNatives.ortVersion() + "-" + PLATFORM;

    private record Run(int exit, String output, Path tmpdir) {
        String path() {
            return output.lines().filter(l -> l.startsWith("path=")).map(l -> l.substring(5)).findFirst().orElse("");
        }
    }

    private Process start(String name, Path cacheHome, Map<String, String> properties, String... args) throws IOException {
        Path tmpdir = Files.createDirectories(temp.resolve("tmp-" + name));
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + tmpdir, "-Duser.home=" + temp.resolve("home-" + name)));
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), OrtNativesProbe.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(temp.resolve(name + ".out").toFile());
        pb.environment().remove("XDG_CACHE_HOME");
        if (cacheHome != null) {
            pb.environment().put("XDG_CACHE_HOME", cacheHome.toString());
        }
        return pb.start();
    }

    private Run finish(String name, Process p) throws Exception {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), name + " finished");
        return new Run(p.exitValue(), Files.readString(temp.resolve(name + ".out"), StandardCharsets.UTF_8), temp.resolve("tmp-" + name));
    }

    private Run run(String name, Path cacheHome, Map<String, String> properties) throws Exception {
        return finish(name, start(name, cacheHome, properties));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertNoOrtTempFolder(Run run) throws IOException {
        assertTrue(names(run.tmpdir()).stream().noneMatch(n -> n.startsWith("onnxruntime-java")),
                "no onnxruntime-java* folder left in " + run.tmpdir() + ": " + names(run.tmpdir()));
    }

    @Test
    void twoJvmsRacingOnAnEmptyCacheBothStartAndShareOneFolder() throws Exception {
        Path cache = temp.resolve("cache");
        Path go = temp.resolve("go");
        Process a = start("a", cache, Map.of(), go.toString());
        Process b = start("b", cache, Map.of(), go.toString());
        Thread.sleep(1500); // both JVMs are up and polling for the go file
        Files.createFile(go);
        Run ra = finish("a", a);
        Run rb = finish("b", b);
        assertEquals(0, ra.exit(), ra.output());
        assertEquals(0, rb.exit(), rb.output());
        Path folder = cache.resolve("berth").resolve(LEAF);
        assertEquals(folder.toString(), ra.path());
        assertEquals(folder.toString(), rb.path());
        assertEquals(List.of(LEAF), names(cache.resolve("berth")), "one folder, no staging or broken copies left");
        assertTrue(names(folder).containsAll(OrtNatives.libraryNames(PLATFORM)), names(folder).toString());
        assertTrue(names(folder).contains(OrtNatives.MARKER));
        assertNoOrtTempFolder(ra);
        assertNoOrtTempFolder(rb);

        // a later JVM finds the folder and uses it as it is
        long modified = Files.getLastModifiedTime(folder.resolve(OrtNatives.MARKER)).toMillis();
        Run again = run("again", cache, Map.of());
        assertEquals(0, again.exit(), again.output());
        assertEquals(modified, Files.getLastModifiedTime(folder.resolve(OrtNatives.MARKER)).toMillis(), "not extracted again");
    }

    @Test
    void aTruncatedCacheIsExtractedAgain() throws Exception {
        Path cache = temp.resolve("cache");
        assertEquals(0, run("first", cache, Map.of()).exit());
        Path lib = cache.resolve("berth").resolve(LEAF).resolve(System.mapLibraryName("onnxruntime"));
        long size = Files.size(lib);
        try (RandomAccessFile f = new RandomAccessFile(lib.toFile(), "rw")) {
            f.setLength(size / 2);
        }
        Run healed = run("healed", cache, Map.of());
        assertEquals(0, healed.exit(), healed.output());
        assertEquals(size, Files.size(lib));
        assertEquals(List.of(LEAF), names(cache.resolve("berth")));
    }

    @Test
    void theLaunchersPropertyIsFilledAndAnImagesFolderPerPlatformIsResolved() throws Exception {
        // the launcher names a cache folder that does not exist yet
        Path named = temp.resolve("launcher-cache").resolve(LEAF);
        Run launcher = run("launcher", null, Map.of(OrtNatives.NATIVE_PATH, named.toString()));
        assertEquals(0, launcher.exit(), launcher.output());
        assertEquals(named.toString(), launcher.path());
        assertNoOrtTempFolder(launcher);

        // an image: /app/native/<platform>/ with the libraries, the property naming /app/native
        Path image = temp.resolve("app").resolve("native");
        Files.createDirectories(image.resolve(PLATFORM));
        for (String lib : OrtNatives.libraryNames(PLATFORM)) {
            Files.copy(named.resolve(lib), image.resolve(PLATFORM).resolve(lib));
        }
        Run fromImage = run("image", null, Map.of(OrtNatives.NATIVE_PATH, image.toString()));
        assertEquals(0, fromImage.exit(), fromImage.output());
        assertEquals(image.resolve(PLATFORM).toString(), fromImage.path());
        assertEquals(List.of(PLATFORM), names(image), "an installed folder is used, never written");
        assertNoOrtTempFolder(fromImage);

        // no usable home: the cache goes under the temp folder, named per user, never per process
        Run homeless = run("homeless", null, Map.of("user.home", "/proc/berth-no-such-home"));
        assertEquals(0, homeless.exit(), homeless.output());
        assertTrue(homeless.path().startsWith(homeless.tmpdir().resolve("berth-").toString()) && homeless.path().endsWith(LEAF),
                homeless.path());
        assertNoOrtTempFolder(homeless);
    }
}
