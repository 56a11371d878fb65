package dev.berth.runtime.onnx;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.ServingLayout;
import dev.berth.registry.VersionPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code layout: auto} on real models: the small churn model keeps one session and one thread
 * without timing layouts; the compute-bound {@code slow} model (16 x MatMul+Tanh) is timed on
 * each candidate and served with the one {@link LayoutChoice} picks from those timings, which is
 * written beside the version and reused by the next load; a layout the user wrote is never
 * measured or replaced.
 */
class ServingLayoutTest {
    @TempDir
    Path root;

    private OnnxInferenceService serve() throws InterruptedException {
        return TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO));
    }

    @Test
    void aSmallModelKeepsTheDefaultAndAComputeBoundOneGetsTheMeasuredLayout() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        TestModels.addVersion(root, "slow", 1, "slow");
        LocalRegistry registry = LocalRegistry.open(root);
        try (OnnxInferenceService service = serve()) {
            ServingLayout churn = registry.servingLayout("churn", 1).orElseThrow();
            assertEquals(1, churn.sessions());
            assertEquals(1, churn.intraOpThreads());
            assertTrue(churn.candidates().isEmpty(), "a cheap model is not timed further: " + churn.describe());
            assertTrue(churn.runMicros() * 1000 < LayoutChoice.CHEAP_RUN_NANOS, churn.describe());
            assertEquals(1, service.modelConfig("churn", "1").instanceCount());

            ServingLayout slow = registry.servingLayout("slow", 1).orElseThrow();
            assertEquals(Runtime.getRuntime().availableProcessors(), slow.cores());
            assertTrue(slow.runMicros() * 1000 >= LayoutChoice.CHEAP_RUN_NANOS, "slow at 8 rows is compute-bound: " + slow.describe());
            assertTrue(slow.inputs().endsWith("8 rows"), slow.inputs());
            List<String> timed = slow.candidates().stream().map(ServingLayout.Candidate::label).toList();
            assertEquals(LayoutChoice.candidates(slow.cores(), 1, 1).stream().map(ServingLayout.Candidate::label).toList(), timed);
            slow.candidates().forEach(c -> assertTrue(c.runsPerSecond() > 0, c.toString()));
            // the stored choice is the rule's answer to the stored timings, and the version runs with it
            LayoutChoice.Choice expected = LayoutChoice.choose(Math.round(slow.runMicros() * 1000), slow.candidates(), 1, 1);
            assertEquals(expected.sessions() + "x" + expected.intraOpThreads(), slow.sessions() + "x" + slow.intraOpThreads());
            assertEquals(slow.sessions(), service.modelConfig("slow", "1").instanceCount());
            // and it still answers
            var out = service.infer(new dev.berth.runtime.InferenceRequest("slow", "1", "r",
                    List.of(TestModels.fp32(signatureInput(service), new long[] {1, 256}, new float[256])), List.of(), Map.of()));
            assertEquals(1, out.outputs().size());
        }
    }

    private static String signatureInput(OnnxInferenceService service) {
        return service.modelMetadata("slow", "1").inputs().get(0).name();
    }

    @Test
    void aStoredMeasurementForTheseCoresIsReusedAndOneForOtherCoresIsNot() throws Exception {
        TestModels.addVersion(root, "slow", 1, "slow");
        TestModels.addVersion(root, "slow", 2, "slow");
        LocalRegistry registry = LocalRegistry.open(root);
        int cores = Runtime.getRuntime().availableProcessors();
        Instant then = Instant.parse("2026-01-02T03:04:05Z");
        // a layout the probe would hardly pick (3 sessions of 1 thread) is taken as stored, without timing
        registry.writeServingLayout("slow", 1, new ServingLayout(ServingLayout.FORMAT, then, cores, 3, 1, 500, "x", "stored", List.of()));
        registry.writeServingLayout("slow", 2, new ServingLayout(ServingLayout.FORMAT, then, cores + 7, 3, 1, 500, "x", "stored", List.of()));
        try (OnnxInferenceService service = serve()) {
            assertEquals(3, service.modelConfig("slow", "1").instanceCount());
            assertEquals(then, registry.servingLayout("slow", 1).orElseThrow().measured(), "version 1 was not measured again");
            ServingLayout two = registry.servingLayout("slow", 2).orElseThrow();
            assertEquals(cores, two.cores(), "measured again on this machine: " + two.describe());
            assertFalse(two.candidates().isEmpty());
        }
    }

    @Test
    void aLayoutTheUserWroteIsNeitherMeasuredNorReplaced() throws Exception {
        TestModels.addVersion(root, "slow", 1, "slow");
        // as a person writes it: sessions given, no layout key
        Files.writeString(root.resolve("slow").resolve(LocalRegistry.MODEL_INFO_FILE),
                "{\"serving\": {\"sessions\": 3, \"intra_op_threads\": 1}}");
        LocalRegistry registry = LocalRegistry.open(root);
        assertEquals(ServingConfig.LAYOUT_FIXED, registry.info("slow").serving().layout());
        try (OnnxInferenceService service = serve()) {
            assertEquals(3, service.modelConfig("slow", "1").instanceCount());
            assertTrue(registry.servingLayout("slow", 1).isEmpty(), "nothing measured for a fixed layout");
        }
        // written by berth (layout key present) it round-trips, and auto stays auto
        ServingConfig auto = ServingConfig.builder().dynamicBatching(false).build();
        String json = RegistryJson.mapper().writeValueAsString(new ModelInfo("m", "", Map.of(), VersionPolicy.all(), auto));
        assertTrue(json.contains("\"layout\" : \"auto\""), json);
        assertEquals(auto, RegistryJson.mapper().readValue(json, ModelInfo.class).serving());
    }
}
