package dev.berth.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@code bench/peer --smoke} as a user would: the pinned FastAPI peer (uvicorn, real Python
 * onnxruntime) and a real {@code berth serve} answer the same JSON bytes under wrk, so the comparison
 * script cannot rot. Both servers must answer every request of both models, and the table and chart
 * must be written.
 */
class PeerSmokeIT {
    @TempDir
    Path out;

    @Test
    void smokeRunComparesBerthWithTheFastApiPeer() throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        Path log = out.resolve("peer.log");
        Process p = new ProcessBuilder("bash", root.resolve("bench/peer").toString(), "--smoke", "--out", out.resolve("results").toString())
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean finished = p.waitFor(8, TimeUnit.MINUTES);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        String output = Files.readString(log);
        assertTrue(finished, "bench/peer --smoke did not finish in 8 minutes:\n" + output);
        assertEquals(0, p.exitValue(), output);

        List<String[]> rows = Files.readAllLines(out.resolve("results/results.tsv")).stream().skip(1).map(l -> l.split("\t", -1)).toList();
        for (String model : List.of("churn", "slow")) {
            for (String server : List.of("berth", "FastAPI peer (1 worker)")) {
                String[] row = rows.stream().filter(r -> r[0].equals(model) && r[1].equals(server)).findFirst()
                        .orElseThrow(() -> new AssertionError(server + " was not measured on " + model + ":\n" + output));
                assertTrue(Double.parseDouble(row[3]) > 0, server + " on " + model + " made no requests: " + String.join(" ", row));
                assertEquals("0", row[6], server + " on " + model + " had failed requests: " + String.join(" ", row) + "\n" + output);
            }
            assertTrue(rows.stream().anyMatch(r -> r[0].equals(model) && r[1].startsWith("in-process") && Double.parseDouble(r[3]) > 0),
                    "in-process onnxruntime measured on " + model);
        }
        String md = Files.readString(out.resolve("results/results.md"));
        assertTrue(md.contains("| churn | 4 |") && md.contains("| slow | 4 |"), md);
        assertNotNull(ImageIO.read(out.resolve("results/chart.png").toFile()), "chart.png is a PNG");
        List<String> left = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> c.contains("oip_peer:app") || c.contains("berth-peer.")).orElse(false))
                .map(h -> h.pid() + " " + h.info().commandLine().orElse("")).toList();
        assertTrue(left.isEmpty(), "processes left running: " + left);
    }
}
