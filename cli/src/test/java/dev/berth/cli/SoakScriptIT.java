package dev.berth.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The soak script's short form, as CI runs it: {@code bench/soak --short} starts {@code ./berth serve}
 * on the samples, drives it with wrk for three 10-second slices and writes its slices, verdict and
 * chart. The short form proves the script and the server's zero-error behaviour under saturation;
 * the memory and latency targets are meant for the 10-minute run (docs/limits.md), so its verdict on
 * those is reported, not required, here.
 */
class SoakScriptIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path out;

    @Test
    void theShortSoakRunsWithoutErrorsAndWritesItsResults() throws Exception {
        Path log = out.resolve("soak.log");
        Process p = new ProcessBuilder("bash", ROOT.resolve("bench/soak").toString(), "--short", "--out", out.toString())
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "the short soak finished");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        int exit = p.exitValue();
        assertTrue(exit == 0 || exit == 1, "the soak ran (exit 0: targets met, 1: a target missed); got " + exit + ":\n" + output);

        List<String> rows = Files.readAllLines(out.resolve("slices.tsv"));
        assertEquals("slice\trequests\trps\tp50_ms\tp99_ms\terrors\trss_mb\tthreads\tfds\tserver_cpu_pct\tother_cpu_pct"
                + "\tload1\tgc_pauses\tgc_ms\tgc_max_ms\tjit_compiles\trss_anon_mb\trss_file_mb\twrk_cpu_pct\tp999_ms\tmax_ms"
                + "\tserver_runq_ms_per_s\tlate_pct", rows.get(0));
        assertEquals(4, rows.size(), "a header and three slices:\n" + String.join("\n", rows));
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split("\t");
            assertTrue(Long.parseLong(f[1]) > 0, "requests answered in every slice: " + row);
            assertEquals("0", f[5], "no errors at saturation: " + row + "\n" + output);
            assertTrue(Double.parseDouble(f[6]) > 0 && Integer.parseInt(f[7]) > 0 && Integer.parseInt(f[8]) > 0,
                    "RSS, threads and open files read from /proc: " + row);
            assertTrue(Double.parseDouble(f[11]) >= 0, "the load average recorded with every slice (machine noise told apart): " + row);
            assertTrue(Integer.parseInt(f[12]) >= 0 && Double.parseDouble(f[13]) >= 0 && Double.parseDouble(f[14]) >= 0
                    && Integer.parseInt(f[15]) >= 0, "GC pauses and JIT compilations counted per slice: " + row);
            assertTrue(Double.parseDouble(f[16]) > 0 && Double.parseDouble(f[17]) > 0
                    && Math.abs(Double.parseDouble(f[16]) + Double.parseDouble(f[17]) - Double.parseDouble(f[6])) < 2,
                    "RSS split into anonymous and file pages that add up to it: " + row);
            assertTrue(Double.parseDouble(f[18]) > 0, "wrk's own CPU recorded: " + row);
            assertTrue(Double.parseDouble(f[19]) >= Double.parseDouble(f[4]) && Double.parseDouble(f[20]) >= Double.parseDouble(f[19]),
                    "p99.9 at least p99, the maximum at least p99.9: " + row);
            assertTrue(Integer.parseInt(f[21]) >= 0, "the server's run-queue wait from /proc/<pid>/task/*/schedstat: " + row);
        }
        String gcLog = Files.readString(out.resolve("gc.log"));
        assertTrue(gcLog.contains("Using Serial") && gcLog.contains("Pause Young"), "the server's GC log, with its collector and pauses:\n" + gcLog);
        String verdict = Files.readString(out.resolve("verdict.txt"));
        System.out.println(verdict); // the short soak's verdict in CI's log, targets met or not
        assertTrue(verdict.contains("RSS growth slice 2 -> 3") && verdict.contains("p99 of slice 3 vs slice 2")
                && verdict.contains("PASS errors: 0") && verdict.contains("VERDICT: "), verdict);
        assertEquals(exit == 0, verdict.contains("VERDICT: PASS"), "the exit status says what the verdict says");
        String chart = Files.readString(out.resolve("chart.svg"));
        assertTrue(chart.contains("<svg") && chart.contains("matplotlib") && chart.contains("throughput") && chart.contains("resident memory"), "an SVG chart");
    }
}
