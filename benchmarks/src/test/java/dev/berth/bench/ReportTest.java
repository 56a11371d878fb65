package dev.berth.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verdicts follow the thresholds, computed against the ceiling of the same run. */
class ReportTest {
    @TempDir
    Path dir;

    @Test
    void judgesEachTargetAgainstItsCeiling() throws Exception {
        Files.writeString(dir.resolve("results.tsv"), String.join("\n",
                "churn-json/berth\t16\t7000\t1.0\t3.0\t70000\t0\t10\t150\tchurn-json/ceiling",
                "churn-json/ceiling\t16\t10000\t0.5\t2.0\t100000\t0\t10\t150\t-",
                "churn-json/berth\t1\t2000\t0.40\t1.5\t20000\t0\t10\t50\tchurn-json/ceiling",
                "churn1/in-process\t1\t30000\t0.05\t0.2\t300000\t0\t0\t0\t-",
                "slow8-binary/berth\t4\t800\t4\t9\t8000\t0\t5\t190\tslow8/in-process",
                "slow8/in-process\t4\t1000\t3\t8\t10000\t0\t0\t0\t-",
                "slow1-batch-on/berth\t32\t3000\t10\t20\t30000\t0\t5\t190\tslow1/in-process",
                "slow1-batch-off/berth\t32\t1000\t30\t25\t10000\t0\t5\t190\tslow1/in-process",
                "large-json/berth\t4\t20\t200\t300\t200\t0\t5\t190\tlarge1/in-process",
                "large-binary/berth\t4\t150\t20\t30\t1500\t0\t5\t190\tlarge1/in-process") + "\n");
        Files.writeString(dir.resolve("facts.tsv"), "startup_ms\t2600\tmedian\nrss_mb\t250\t\n");
        Files.writeString(dir.resolve("jmh-alloc.csv"), String.join("\n",
                "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: encoding\",\"Param: meters\",\"Param: modelBatch\"",
                "\"dev.berth.bench.CoreBenchmark.roundTrip\",\"avgt\",1,3,480.5,NaN,\"us/op\",BINARY,on,large:1",
                "\"dev.berth.bench.CoreBenchmark.roundTrip:gc.alloc.rate.norm\",\"avgt\",1,3,677285.5,NaN,\"B/op\",BINARY,on,large:1",
                "\"dev.berth.bench.CoreBenchmark.roundTrip:gc.alloc.rate.norm\",\"avgt\",1,3,1300000,NaN,\"B/op\",GRPC,on,large:1",
                "\"dev.berth.bench.CoreBenchmark.roundTrip:gc.alloc.rate.norm\",\"avgt\",1,3,16000000,NaN,\"B/op\",JSON,on,large:1") + "\n");
        Results results = Results.read(dir);
        Map<String, Report.Target> byName = Report.targets(results).stream()
                .collect(Collectors.toMap(Report.Target::name, t -> t));

        assertEquals(Report.Verdict.MET, byName.get("churn sample, batch 1, REST JSON, 16 connections").verdict(), "0.7 >= 0.6");
        assertEquals(Report.Verdict.MISSED, byName.get("`slow`, batch 8, REST binary (peak over the sweep)").verdict(), "0.8 < 0.9");
        assertEquals(Report.Verdict.NOT_MEASURED, byName.get("`slow`, batch 8, gRPC (peak over the sweep)").verdict());
        assertEquals(Report.Verdict.MET, byName.get("`slow`, batch 1 requests, 32 connections, dynamic batching on vs off").verdict(),
                "3x the throughput and a lower p99");
        assertEquals(Report.Verdict.MISSED, byName.get("churn sample, batch 1, REST JSON, 1 connection").verdict(),
                "p50 +0.35 ms is over +0.3 ms");
        assertEquals(Report.Verdict.MET, byName.get("large tensors FP32 1x3x224x224, REST binary vs REST JSON (peak)").verdict(), "7.5x");
        assertEquals(Report.Verdict.MISSED, byName.get("`berth serve` on models/: ready after process start").verdict());
        assertEquals(Report.Verdict.MET, byName.get("resident memory serving the samples (after load)").verdict());
        Report.Target alloc = byName.get("large tensors: allocation per request, decode + core + encode (JMH -prof gc, CoreBenchmark.roundTrip)");
        assertEquals(Report.Verdict.MISSED, alloc.verdict(), "gRPC at 2.16 tensors is one copy too many: " + alloc.measured());
        assertTrue(alloc.measured().contains("BINARY 677,286 B (1.12 tensors)"), alloc.measured());
        assertTrue(!alloc.measured().contains("JSON"), "JSON is not held to the copy budget");

        Report.main(List.of(dir.toString()));
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("| churn-json/berth | 16 | 7000 | 1.000 | 3.000 | 0 | churn-json/ceiling | 0.70 |"), md);
        assertTrue(md.contains("| CoreBenchmark.roundTrip (alloc) | encoding=BINARY, meters=on, modelBatch=large:1 | 677,285.5 | B/op |"), md);
        assertTrue(md.contains("| CoreBenchmark.roundTrip | encoding=BINARY, meters=on, modelBatch=large:1 | 480.5 | us/op |"), md);
        BufferedImage chart = ImageIO.read(dir.resolve("chart.png").toFile());
        assertEquals(330 + 3 * 410, chart.getWidth());
    }
}
