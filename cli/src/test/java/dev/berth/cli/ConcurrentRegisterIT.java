package dev.berth.cli;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Eight separate {@code berth register} processes on one model at once: each gets its own, whole version. */
class ConcurrentRegisterIT {
    private static final int WRITERS = 8;

    @TempDir
    Path tmp;

    @Test
    void eightProcessesRegisteringTheSameModelEachGetTheirOwnVersion() throws Exception {
        Path churn = Samples.copy(Samples.CHURN, tmp.resolve("churn"));
        Path models = tmp.resolve("models");

        List<Process> processes = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        try {
            for (int i = 0; i < WRITERS; i++) {
                Path out = tmp.resolve("out-" + i + ".txt");
                outputs.add(out);
                processes.add(new ProcessBuilder(BerthJvm.command(List.of("-XX:TieredStopAtLevel=1"),
                        "register", churn.toString(), "--name", "churn", "--models", models.toString(), "--tag", "writer=" + i,
                        "--allow-duplicate"))
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start());
            }
            Set<Integer> printed = new TreeSet<>();
            for (int i = 0; i < WRITERS; i++) {
                Process p = processes.get(i);
                assertTrue(p.waitFor(180, TimeUnit.SECONDS), "writer " + i + " finished in time");
                String output = Files.readString(outputs.get(i), StandardCharsets.UTF_8);
                assertEquals(0, p.exitValue(), "writer " + i + ": " + output);
                List<String> lines = output.lines().filter(l -> !l.startsWith("WARNING")).toList();
                printed.add(Integer.parseInt(lines.get(lines.size() - 1)));
            }
            assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8), printed, "every process printed a different version");
        } finally {
            processes.forEach(Process::destroyForcibly);
        }

        LocalRegistry registry = LocalRegistry.open(models);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), registry.versions("churn"));
        Set<String> writers = new HashSet<>();
        for (int v = 1; v <= WRITERS; v++) {
            ModelManifest m = registry.storedManifest("churn", v).orElseThrow();
            assertEquals(v, m.version());
            writers.add(m.tags().get("writer"));
        }
        assertEquals(WRITERS, writers.size(), "no registration lost or mixed");
        assertTrue(registry.verify().ok(), "every version whole");
        try (var s = Files.list(models)) {
            assertEquals(List.of(".lock", "churn"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no staging folder left behind");
        }
    }

    @Test
    void aRegisteringProcessKilledMidwayLeavesNoVersionAndItsLeftoversAreSwept() throws Exception {
        Path churn = Samples.copy(Samples.CHURN, tmp.resolve("churn"));
        Path models = tmp.resolve("models");
        // a large artifact keeps the process busy copying after it has claimed its staging folder
        Path big = tmp.resolve("big.bin");
        try (var f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(256L << 20);
        }
        Process p = new ProcessBuilder(BerthJvm.command("register", churn.toString(), "--name", "churn",
                "--models", models.toString(), "--artifact", big.toString()))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("killed.txt").toFile()).start();
        Path staging = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (staging == null && System.nanoTime() < deadline && p.isAlive()) {
                staging = stagingWithOwner(models);
                if (staging == null) {
                    Thread.sleep(2);
                }
            }
            assertTrue(staging != null, "the writer claimed a staging folder: " + Files.readString(tmp.resolve("killed.txt")));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        LocalRegistry registry = LocalRegistry.open(models);
        assertEquals(List.of(), registry.models(), "no version, not even a model, is visible");
        assertTrue(Files.exists(staging), "the dead writer's staging folder is still there (hidden)");

        List<String> lines = new ArrayList<>();
        StringWriter out = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(new StringWriter()),
                "register", churn.toString(), "--name", "churn", "--models", models.toString());
        out.toString().lines().forEach(lines::add);
        assertEquals(0, code);
        assertEquals("1", lines.get(lines.size() - 1));
        assertFalse(Files.exists(staging), "swept by the next writer");
        assertTrue(registry.verify().ok());
    }

    private static Path stagingWithOwner(Path models) throws IOException {
        if (!Files.isDirectory(models)) {
            return null;
        }
        try (var s = Files.list(models)) {
            return s.filter(d -> d.getFileName().toString().startsWith(".staging-"))
                    .filter(d -> Files.exists(d.resolve(".owner")))
                    .findFirst().orElse(null);
        }
    }

    @Test
    void theLauncherStyleMainExitsWithTheCommandsCode() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BerthJvm.command("show", "nosuch", "--models", tmp.toString()))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), output);
        assertEquals("berth show: no model 'nosuch' in " + tmp.toAbsolutePath(), output.strip());
    }
}
