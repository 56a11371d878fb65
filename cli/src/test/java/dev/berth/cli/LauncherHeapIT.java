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
 * {@code ./berth serve} runs with the young generation capped ({@code -XX:MaxNewSize}, which
 * bounds the server's resident memory under load: docs/benchmarks.md "Resident memory after load"),
 * and a user's {@code BERTH_JAVA_OPTS} still wins over it. Read from the running server JVM with
 * {@code jcmd}: the flag it took and the young generation it actually committed.
 */
class LauncherHeapIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final long MIB = 1024 * 1024;
    /** The launcher's cap; the launcher is the source, this test only checks it took effect. */
    private static final long CAP = 32 * MIB;
    private static final Pattern MAX_NEW_SIZE = Pattern.compile("-XX:MaxNewSize=(\\d+)");
    /** SerialGC's young generation in {@code GC.heap_info}: "DefNew" on JDK 25, "def new generation" before. */
    private static final Pattern YOUNG_TOTAL = Pattern.compile("(?:DefNew|def new generation)\\s+total (\\d+)K");

    @Test
    void serveCapsTheYoungGenerationAndBerthJavaOptsOverridesTheCap() throws Exception {
        Heap defaults = heapOf("");
        assertEquals(CAP, defaults.maxNewSize(), "the launcher's cap: " + defaults);
        assertTrue(defaults.youngCommitted() <= CAP, "the young generation within the cap: " + defaults);

        Heap overridden = heapOf("-Xmn64m");
        assertEquals(64 * MIB, overridden.maxNewSize(), "BERTH_JAVA_OPTS comes after the launcher's flags: " + overridden);
        assertTrue(overridden.youngCommitted() > CAP, "the user's young generation, larger than the cap: " + overridden);
    }

    /** Starts the launcher with {@code BERTH_JAVA_OPTS=options} and reads the server JVM's heap. */
    private static Heap heapOf(String options) throws Exception {
        List<String> command = List.of(ROOT.resolve("berth").toString(), "serve", "--models", ROOT.resolve("models").toString(),
                "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0");
        try (ServeProcess serve = ServeProcess.start(command, Map.of("BERTH_JAVA_OPTS", options))) {
            long pid = serve.handle().pid();
            String flags = jcmd(pid, "VM.flags");
            String heap = jcmd(pid, "GC.heap_info");
            serve.stop();
            Matcher max = MAX_NEW_SIZE.matcher(flags);
            Matcher young = YOUNG_TOTAL.matcher(heap);
            assertTrue(max.find(), "MaxNewSize among the server's flags: " + flags);
            assertTrue(young.find(), "SerialGC's young generation in the heap info: " + heap);
            return new Heap(Long.parseLong(max.group(1)), Long.parseLong(young.group(1)) * 1024);
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

    /** The server's MaxNewSize flag and its young generation's committed capacity (eden and one survivor), bytes. */
    private record Heap(long maxNewSize, long youngCommitted) {
    }
}
