package dev.berth.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.InferenceRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Not a test: a measurement run on demand ({@code -Dtest=LatencyProbe}), printing the core's
 * overhead over a bare ONNX Runtime call and what dynamic batching gives on the slow model.
 */
class LatencyProbe {
    @TempDir
    Path root;

    @Test
    void measure() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "slow", 1, "slow");
        TestModels.addVersion(root, "slow_plain", 1, "slow");
        TestModels.writeInfo(root, new ModelInfo("slow_plain", "", Map.of(), VersionPolicy.all(),
                ServingConfig.builder().dynamicBatching(false).build()));
        float[] row = new float[8];
        Arrays.fill(row, 0.5f);
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO));
             OrtSession session = OrtNatives.environment().createSession(root.resolve("churn/1/model.onnx").toString(),
                     OrtSessionOptions.forServing(ServingConfig.defaults()))) {
            var request = new InferenceRequest("churn", null, null, List.of(TestModels.fp32("features", new long[] {1, 8}, row)), List.of(), Map.of());
            long[] direct = new long[20000];
            long[] core = new long[20000];
            for (int round = 0; round < 2; round++) { // first round warms the JIT
                for (int i = 0; i < direct.length; i++) {
                    long t0 = System.nanoTime();
                    try (OnnxTensor t = OnnxTensor.createTensor(OrtNatives.environment(), FloatBuffer.wrap(row), new long[] {1, 8});
                         OrtSession.Result r = session.run(Map.of("features", t))) {
                        ((OnnxTensor) r.get(0)).getFloatBuffer();
                    }
                    direct[i] = System.nanoTime() - t0;
                    t0 = System.nanoTime();
                    service.infer(request);
                    core[i] = System.nanoTime() - t0;
                }
            }
            System.out.printf("churn batch 1, one caller: ORT in-process p50 %.1f us p99 %.1f us; core p50 %.1f us p99 %.1f us%n",
                    pct(direct, 50), pct(direct, 99), pct(core, 50), pct(core, 99));
            for (String model : List.of("slow_plain", "slow", "slow_plain", "slow")) {
                load(service, model, 32, Duration.ofSeconds(3));
            }
        }
    }

    private static void load(OnnxInferenceService service, String model, int clients, Duration length) throws Exception {
        var request = new InferenceRequest(model, null, null, List.of(TestModels.fp32("x", new long[] {1, 256}, new float[256])), List.of(), Map.of());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger done = new AtomicInteger();
        long[][] lat = new long[clients][200000];
        int[] counts = new int[clients];
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int me = c;
                pool.submit(() -> {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        service.infer(request);
                        if (counts[me] < lat[me].length) {
                            lat[me][counts[me]++] = System.nanoTime() - t0;
                        }
                        done.incrementAndGet();
                    }
                });
            }
            Thread.sleep(length.toMillis());
            stop.set(true);
        }
        long[] all = new long[Arrays.stream(counts).sum()];
        int at = 0;
        for (int c = 0; c < clients; c++) {
            System.arraycopy(lat[c], 0, all, at, counts[c]);
            at += counts[c];
        }
        System.out.printf("%s, %d callers, batch-1 requests: %.0f req/s, p50 %.2f ms, p99 %.2f ms%n", model, clients,
                done.get() / (length.toMillis() / 1000.0), pct(all, 50) / 1000, pct(all, 99) / 1000);
    }

    private static double pct(long[] v, int p) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) (s.length * p / 100.0))] / 1000.0;
    }
}
