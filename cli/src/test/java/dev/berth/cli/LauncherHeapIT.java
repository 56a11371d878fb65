package dev.berth.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./berth serve}'s JVM runs SerialGC, and {@code BERTH_JAVA_OPTS} reaches it after the
 * launcher's own flags: the documented small-tensor setting ({@code -XX:MaxNewSize=32m}, which bounds
 * the server's resident memory under load: docs/benchmarks.md "Resident memory after load") caps the
 * young generation the server commits, and a user's flag wins over one the launcher sets. Read from
 * the running server JVM with {@code jcmd}.
 */
class LauncherHeapIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final long MIB = 1024 * 1024;
    private static final Pattern MAX_NEW_SIZE = Pattern.compile("-XX:MaxNewSize=(\\d+)");
    /** SerialGC's young generation in {@code GC.heap_info}: "DefNew" on JDK 25, "def new generation" before. */
    private static final Pattern SERIAL_YOUNG = Pattern.compile("(?:DefNew|def new generation)\\s+total (\\d+)K");

    @Test
    void serveRunsSerialGcAndTheSmallTensorSettingCapsTheYoungGeneration() throws Exception {
        Heap defaults = heapOf("");
        assertTrue(defaults.flags().contains("-XX:+UseSerialGC"), defaults.flags());
        assertTrue(SERIAL_YOUNG.matcher(defaults.info()).find(), "SerialGC's young generation: " + defaults.info());

        Heap capped = heapOf("-XX:MaxNewSize=32m");
        Matcher max = MAX_NEW_SIZE.matcher(capped.flags());
        assertTrue(max.find(), "MaxNewSize among the server's flags: " + capped.flags());
        assertEquals(32 * MIB, Long.parseLong(max.group(1)), capped.flags());
        Matcher young = SERIAL_YOUNG.matcher(capped.info());
        assertTrue(young.find(), capped.info());
        assertTrue(Long.parseLong(young.group(1)) * 1024 <= 32 * MIB, "the committed young generation within the cap: " + capped.info());
    }

    @Test
    void berthJavaOptsWinOverTheLaunchersOwnFlags() throws Exception {
        Heap parallel = heapOf("-XX:-UseSerialGC -XX:+UseParallelGC");
        assertTrue(parallel.flags().contains("-XX:+UseParallelGC"), parallel.flags());
        assertTrue(parallel.info().contains("PSYoungGen"), "the user's collector, not the launcher's: " + parallel.info());
    }

    /** Starts the launcher with {@code BERTH_JAVA_OPTS=options} and reads the server JVM's heap. */
    private static Heap heapOf(String options) throws Exception {
        List<String> command = List.of(ROOT.resolve("berth").toString(), "serve", "--models", ROOT.resolve("models").toString(),
                "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0");
        try (ServeProcess serve = ServeProcess.start(command, Map.of("BERTH_JAVA_OPTS", options))) {
            long pid = serve.handle().pid();
            Heap heap = new Heap(jcmd(pid, "VM.flags"), jcmd(pid, "GC.heap_info"));
            serve.stop();
            return heap;
        }
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "jcmd " + command + " finished");
        assertEquals(0, p.exitValue(), "jcmd " + command + ": " + out);
        return out;
    }

    /** What {@code jcmd} printed for the server's flags and its heap. */
    private record Heap(String flags, String info) {
    }
}
