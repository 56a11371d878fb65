package dev.berth.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@code bench/run --smoke} as a user would (real berth process, wrk, h2load, the ceiling
 * server), so the load script cannot rot: every protocol must have answered without errors and the
 * report and chart must be written.
 */
class BenchSmokeIT {
    @TempDir
    Path out;

    @Test
    void smokeRunMeasuresEveryProtocolAgainstItsCeiling() throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        Path log = out.resolve("run.log");
        Process p = new ProcessBuilder("bash", root.resolve("bench/run").toString(), "--smoke", "--out", out.resolve("results").toString())
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean finished = p.waitFor(5, TimeUnit.MINUTES);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        String output = Files.readString(log);
        assertTrue(finished, "bench/run --smoke did not finish in 5 minutes:\n" + output);
        assertEquals(0, p.exitValue(), output);

        Results results = Results.read(out.resolve("results"));
        for (String series : List.of("churn-json/berth", "churn-json/ceiling", "churn1/in-process", "slow8-binary/berth",
                "slow8-grpc/berth", "slow8/in-process", "slow1-batch-on/berth", "large-binary/berth",
                "slow8-bin/slow", "slow8-bin/slow_auto", "slow8-layout/in-process-ort-default")) {
            List<Results.Row> rows = results.series(series);
            assertFalse(rows.isEmpty(), series + " was not measured:\n" + output);
            for (Results.Row row : rows) {
                assertTrue(row.throughput() > 0 && row.requests() > 0, series + " made no requests: " + row);
                assertEquals(0, row.errors(), series + " had failed requests: " + row + "\n" + output);
                assertTrue(row.p99Millis() >= row.p50Millis() && row.p50Millis() > 0, series + " latencies: " + row);
            }
        }
        assertTrue(results.facts().containsKey("machine"), "the machine is described");
        assertFalse(results.facts().keySet().stream().anyMatch(k -> k.startsWith("error_")), "a case failed: " + results.facts());

        String md = Files.readString(out.resolve("results/results.md"));
        assertTrue(md.contains("## Targets") && md.contains("| churn-json/berth | 4 |"), md);
        BufferedImage chart = ImageIO.read(out.resolve("results/chart.png").toFile());
        assertNotNull(chart, "chart.png is a PNG");
        assertNoLeftovers(root);
    }

    /** The script's trap must stop what it started: no berth or ceiling server keeps running. */
    private static void assertNoLeftovers(Path root) throws IOException {
        String jar = root.resolve("benchmarks/target/benchmarks.jar").toString();
        List<String> left = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> c.contains(jar) && c.contains("ceiling-server")
                        || c.contains("berth.jar serve --models") && c.contains("berth-bench.")).orElse(false))
                .map(h -> h.pid() + " " + h.info().commandLine().orElse(""))
                .toList();
        assertTrue(left.isEmpty(), "processes left running: " + left);
    }
}
