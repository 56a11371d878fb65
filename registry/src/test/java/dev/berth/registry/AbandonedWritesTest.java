package dev.berth.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a process killed in the middle of {@link AtomicFiles#write} leaves (a hidden temporary file)
 * is removed by the next writer, and nothing else is: not a file another live process is writing
 * (it holds the lock; here a real second JVM), not a fresh one, not a finished report.
 */
class AbandonedWritesTest {
    @TempDir
    Path dir;

    /** A child JVM: locks the file named by its argument the way {@link AtomicFiles#write} does, says so, then waits or dies. */
    public static final class Writer {
        public static void main(String[] args) throws Exception {
            FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            ch.lock();
            ch.write(java.nio.ByteBuffer.wrap("{\"half\":".getBytes(StandardCharsets.UTF_8)));
            System.out.println("locked");
            System.out.flush();
            if (args[1].equals("die")) {
                Runtime.getRuntime().halt(137); // as SIGKILL: no finally, no cleanup
            }
            Thread.sleep(60_000);
        }
    }

    private Process writer(Path file, String mode) throws Exception {
        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                Writer.class.getName(), file.toString(), mode).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("locked", out.readLine());
        return p;
    }

    private static void age(Path file) throws Exception {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(AtomicFiles.ABANDONED_AFTER).minusSeconds(60)));
    }

    @Test
    void onlyTheFilesOfDeadWritersGo() throws Exception {
        Path dead = dir.resolve(".20261207T1000Z.json.0b6f.tmp");
        Process died = writer(dead, "die");
        assertTrue(died.waitFor(30, TimeUnit.SECONDS));
        age(dead);

        Path held = dir.resolve(".20261207T1001Z.json.77aa.tmp");
        Process alive = writer(held, "hold");
        try {
            age(held);
            Path fresh = Files.writeString(dir.resolve(".20261207T1002Z.json.c3d4.tmp"), "{\"half\":");
            Path report = Files.writeString(dir.resolve("20261207T0900Z.json"), "{}");
            age(report);

            assertEquals(1, AtomicFiles.removeAbandoned(dir));
            assertFalse(Files.exists(dead), "a dead writer's file goes");
            assertTrue(Files.exists(held), "a live writer's file stays");
            assertTrue(Files.exists(fresh), "a file younger than " + AtomicFiles.ABANDONED_AFTER + " stays");
            assertTrue(Files.exists(report), "finished reports stay");
        } finally {
            alive.destroyForcibly().waitFor();
        }
    }

    @Test
    void theNextReportSweepsItsFolder() throws Exception {
        Files.createDirectories(dir.resolve("m/1"));
        Files.write(dir.resolve("m/1/model.onnx"), new byte[] {1});
        LocalRegistry registry = LocalRegistry.open(dir);
        Path reports = dir.resolve("m/1/" + LocalRegistry.MONITORING_DIR);
        Files.createDirectories(reports);
        Path dead = reports.resolve(".a.json.1234.tmp");
        Process died = writer(dead, "die");
        assertTrue(died.waitFor(30, TimeUnit.SECONDS));
        age(dead);
        Path written = registry.writeMonitoringReport("m", 1, "b.json", "{}".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(written), registry.monitoringReports("m", 1));
        try (var left = Files.list(reports)) {
            assertEquals(List.of("b.json"), left.map(p -> p.getFileName().toString()).toList());
        }
    }
}
