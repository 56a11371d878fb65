package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Concurrent requests are merged into one run, and each caller gets exactly its own rows back. */
class BatchingTest {
    @TempDir
    static Path root;
    static OnnxInferenceService service;
    static final RecordingObserver observer = new RecordingObserver();

    @BeforeAll
    static void start() throws Exception {
        // a long queue delay makes merging certain on a loaded machine; one session so work piles up
        ServingConfig batching = ServingConfig.builder().sessions(1).dynamicBatching(true).maxBatchSize(16)
                .maxQueueDelayMicros(50_000).build();
        TestModels.addVersion(root, "identity", 1, "all_types");
        TestModels.writeInfo(root, new ModelInfo("identity", "", Map.of(), VersionPolicy.all(), batching));
        TestModels.addVersion(root, "slow", 1, "slow");
        TestModels.writeInfo(root, new ModelInfo("slow", "", Map.of(), VersionPolicy.all(), batching));
        TestModels.addVersion(root, "slow_plain", 1, "slow");
        TestModels.writeInfo(root, new ModelInfo("slow_plain", "", Map.of(), VersionPolicy.all(),
                ServingConfig.builder().dynamicBatching(false).build()));
        // a queue delay no test could sit out: a lone caller must never wait for it
        TestModels.addVersion(root, "lonely", 1, "slow");
        TestModels.writeInfo(root, new ModelInfo("lonely", "", Map.of(), VersionPolicy.all(),
                batching.toBuilder().maxQueueDelayMicros(60_000_000).build()));
        service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO).observer(observer));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    /** all_types inputs of shape [rows, cols] whose every value encodes the caller and position. */
    static List<Tensor> identityInputs(int caller, int rows, int cols) {
        List<Tensor> inputs = new ArrayList<>();
        int n = rows * cols;
        for (Tensor template : CasesRoundTripTest.allTypesZeros(1)) {
            long[] shape = {rows, cols};
            if (template.datatype() == DataType.BYTES) {
                List<byte[]> el = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    el.add(("c" + caller + "-\u00fc-" + i).getBytes(StandardCharsets.UTF_8));
                }
                inputs.add(Tensor.ofBytes(template.name(), shape, el));
                continue;
            }
            int width = template.datatype().byteSize();
            ByteBuffer b = ByteBuffer.allocate(n * width).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                long v = caller * 1000L + i;
                switch (template.datatype()) {
                    case BOOL -> b.put((byte) ((caller + i) % 2));
                    case UINT8, INT8 -> b.put((byte) (caller * 7 + i));
                    case UINT16, INT16, FP16 -> b.putShort((short) (caller * 31 + i));
                    case UINT32, INT32, FP32 -> b.putInt((int) v);
                    default -> b.putLong(v | (Long.MIN_VALUE));
                }
            }
            b.flip();
            inputs.add(Tensor.ofRaw(template.name(), template.datatype(), shape, b));
        }
        return inputs;
    }

    @Test
    void identityModelGivesEveryCallerItsOwnRowsAcrossMergedBatches() throws Exception {
        int callers = 24;
        observer.batches.clear();
        // Whether requests meet in the queue depends on scheduling; on a busy 2-core machine one round of
        // 24 callers can run nearly one by one, so rounds repeat (each fully checked) until a merge is seen.
        List<InferenceResponse> responses = new ArrayList<>();
        for (int round = 0; round < 5 && responses.stream().mapToInt(InferenceResponse::batchRows).max().orElse(0) <= 3; round++) {
            responses.addAll(runConcurrently(callers, caller -> {
                int rows = 1 + caller % 3;
                int cols = caller % 2 == 0 ? 3 : 5; // two shapes that must not merge with each other
                List<Tensor> inputs = identityInputs(caller, rows, cols);
                InferenceResponse r = service.infer(new InferenceRequest("identity", null, "c" + caller, inputs, List.of(), Map.of()));
                assertEquals("c" + caller, r.id());
                for (int i = 0; i < inputs.size(); i++) {
                    Tensor in = inputs.get(i);
                    Tensor out = r.outputs().get(i);
                    assertEquals(in.name().replace("in_", "out_"), out.name());
                    assertArrayEquals(in.shape(), out.shape(), out.name());
                    if (in.datatype() == DataType.BYTES) {
                        for (int e = 0; e < in.bytesElements().size(); e++) {
                            assertArrayEquals(in.bytesElements().get(e), out.bytesElements().get(e), out.name() + " of caller " + caller);
                        }
                    } else {
                        assertArrayEquals(TestModels.bytes(in), TestModels.bytes(out), out.name() + " of caller " + caller);
                    }
                }
                return r;
            }));
        }
        int maxRows = responses.stream().mapToInt(InferenceResponse::batchRows).max().orElse(0);
        assertTrue(maxRows > 3, "some request was served by a merged run, largest had " + maxRows + " rows");
        assertTrue(observer.batches.stream().anyMatch(b -> b.model().equals("identity") && b.requests() > 1),
                "the core ran a batch of several requests: " + observer.batches);
        assertTrue(observer.batches.stream().allMatch(b -> b.rows() <= 16), "no batch past max_batch_size: " + observer.batches);
        int servedRows = observer.batches.stream().filter(b -> b.model().equals("identity")).mapToInt(RecordingObserver.Batch::rows).sum();
        assertEquals(responses.stream().mapToLong(r -> r.outputs().get(0).dim(0)).sum(), servedRows, "every row ran exactly once");
    }

    @Test
    void computedOutputsOfMergedRunsMatchUnbatchedRuns() throws Exception {
        int callers = 16;
        observer.batches.clear();
        Random random = new Random(42);
        float[][] rows = new float[callers][256];
        for (float[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        List<InferenceResponse> batched = List.of();
        // rounds repeat until requests met in the queue (scheduling on a busy machine may keep them apart once)
        for (int round = 0; round < 5 && batched.stream().noneMatch(r -> r.batchRows() > 1); round++) {
            batched = runConcurrently(callers, caller ->
                    service.infer(new InferenceRequest("slow", null, null, List.of(TestModels.fp32("x", new long[] {1, 256}, rows[caller])), List.of(), Map.of())));
        }
        assertTrue(batched.stream().anyMatch(r -> r.batchRows() > 1), "slow model requests were merged");
        for (int caller = 0; caller < callers; caller++) {
            InferenceResponse alone = service.infer(new InferenceRequest("slow_plain", null, null,
                    List.of(TestModels.fp32("x", new long[] {1, 256}, rows[caller])), List.of(), Map.of()));
            assertEquals(1, alone.batchRows());
            float[] expected = floats(alone.outputs().get(0));
            float[] got = floats(batched.get(caller).outputs().get(0));
            assertEquals(expected.length, got.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], got[i], 1e-5f, "caller " + caller + " element " + i);
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(30)
    void aLoneCallerDoesNotWaitForABatchThatCannotCome() {
        for (int i = 0; i < 20; i++) {
            InferenceResponse r = service.infer(new InferenceRequest("lonely", null, null,
                    List.of(TestModels.fp32("x", new long[] {1, 256}, new float[256])), List.of(), Map.of()));
            assertEquals(1, r.batchRows());
            assertTrue(r.queueNanos() < 5_000_000_000L, "queued " + r.queueNanos() + " ns");
        }
    }

    @Test
    void aRequestLargerThanMaxBatchSizeRunsAlone() {
        List<Tensor> inputs = identityInputs(7, 20, 3);
        InferenceResponse r = service.infer(new InferenceRequest("identity", "1", null, inputs, List.of("out_uint64", "out_string"), Map.of()));
        assertEquals(20, r.batchRows());
        assertArrayEquals(TestModels.bytes(inputs.get(4)), TestModels.bytes(r.outputs().get(0)));
        assertEquals(60, r.outputs().get(1).bytesElements().size());
    }

    static float[] floats(Tensor t) {
        ByteBuffer b = t.data();
        float[] out = new float[b.remaining() / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat();
        }
        return out;
    }

    interface Call<T> {
        T call(int caller) throws Exception;
    }

    /** Runs {@code callers} calls at once, each on its own virtual thread (as Helidon's handlers would be). */
    static <T> List<T> runConcurrently(int callers, Call<T> call) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                int caller = i;
                futures.add(pool.submit((Callable<T>) () -> {
                    go.await();
                    return call.call(caller);
                }));
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        }
    }
}
