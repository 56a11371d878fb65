package dev.berth.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full disk under the reports, for real: a 512 KiB tmpfs mounted in a private mount namespace
 * ({@code unshare}, no root needed), {@link FullDiskProbe} serving on it. Serving goes on, the
 * failure is counted and logged once, nothing half-written is left, and the windows held back while
 * the disk was full are written once it has room again.
 */
class FullDiskIT {
    @TempDir
    Path work;

    @Test
    void servingGoesOnAndNoReportWindowIsLostWhileTheDiskCanTakeItLater() throws Exception {
        Path small = Files.createDirectories(work.resolve("small"));
        Path models = work.resolve("models");
        Churn.copyChurn(models);
        Path argFile = Files.writeString(work.resolve("probe.args"), "-cp\n\"" + System.getProperty("java.class.path")
                .replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(List.of("unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                "mount -t tmpfs -o size=512k berth-small \"$1\" && shift && exec \"$@\"", "sh", small.toString(),
                java, "--enable-native-access=ALL-UNNAMED", "@" + argFile, FullDiskProbe.class.getName(), small.toString(),
                models.toString())).redirectErrorStream(true);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        System.out.println(out); // the probe's figures and the server's log lines, for the test report
        Map<String, String> r = new HashMap<>();
        out.lines().filter(l -> l.matches("[a-z_]+=\\S+")).forEach(l -> r.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        assertEquals("done", out.lines().filter(l -> l.equals("done")).findFirst().orElse(""), out);

        assertEquals("10/10", r.get("served_while_full"), "serving goes on with the disk full:\n" + out);
        assertTrue(Double.parseDouble(r.get("failures")) >= 1, "the failed writes are counted:\n" + out);
        assertEquals("0", r.get("reports_while_full"), out);
        assertEquals("0", r.get("tmp_while_full"), "nothing half-written:\n" + out);
        assertTrue(Long.parseLong(r.get("reports_after_freeing")) >= 2,
                "the windows held back while full are written once there is room (each its own file):\n" + out);
        assertEquals("3/3", r.get("served_full_again"), out);
        assertEquals("0", r.get("tmp_after_stop"), out);
        assertEquals(2, out.lines().filter(l -> l.contains("cannot write monitoring report")).count(),
                "one warning per run of failures (two runs), not one per interval:\n" + out);
        assertTrue(out.contains("monitoring reports are written again; "), out);
        assertTrue(out.contains("could not be written before the server stopped and are lost"), "the loss at exit is said:\n" + out);
    }
}
