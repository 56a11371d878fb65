package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.TensorSpec;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.ModelConfiguration;
import dev.berth.runtime.ModelMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The core's model configuration (Triton's ModelConfig) comes from the registry and the loaded session. */
class ModelConfigTest {
    @TempDir
    static Path root;
    static OnnxInferenceService service;

    @BeforeAll
    static void start() throws Exception {
        TestModels.addVersion(root, "slow", 1, "slow");
        TestModels.addVersion(root, "slow", 2, "slow");
        TestModels.writeInfo(root, new ModelInfo("slow", "", Map.of(), VersionPolicy.latest(1),
                ServingConfig.builder().sessions(2).dynamicBatching(true).maxBatchSize(16).maxQueueDelayMicros(700).build()));
        TestModels.addVersion(root, "plain", 1, "slow");
        TestModels.writeInfo(root, new ModelInfo("plain", "", Map.of(), VersionPolicy.specific(List.of(1)),
                ServingConfig.builder().sessions(1).dynamicBatching(false).maxBatchSize(8).build())); // fixed: not measured (ServingLayoutTest)
        TestModels.addVersion(root, "fixed", 1, "fixed_batch");
        service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    private static List<Long> withoutBatchAxis(TensorSpec spec) {
        assertEquals(-1L, spec.shape().get(0), spec + " has a dynamic first axis");
        return spec.shape().subList(1, spec.shape().size());
    }

    @Test
    void batchingModelListsDimsWithoutTheBatchAxisAndItsDynamicBatching() {
        ModelConfiguration c = service.modelConfig("slow", null);
        ModelMetadata m = service.modelMetadata("slow", null);
        assertEquals("slow", c.name());
        assertEquals("onnxruntime_onnx", c.platform());
        assertEquals("onnxruntime", c.backend());
        assertEquals(16, c.maxBatchSize());
        assertEquals(m.inputs().get(0).name(), c.inputs().get(0).name());
        assertEquals(DataType.FP32, c.inputs().get(0).datatype());
        assertEquals(withoutBatchAxis(m.inputs().get(0)), c.inputs().get(0).dims());
        assertEquals(withoutBatchAxis(m.outputs().get(0)), c.outputs().get(0).dims());
        assertEquals(Optional.of(new ModelConfiguration.DynamicBatching(700)), c.dynamicBatching());
        assertEquals(2, c.instanceCount());
        assertEquals(VersionPolicy.latest(1), c.versionPolicy());
        // latest(1) serves only version 2; version 1 is in the registry but not loaded
        assertEquals(16, service.modelConfig("slow", "2").maxBatchSize());
        assertEquals(InferenceException.Unavailable.class,
                assertThrows(InferenceException.class, () -> service.modelConfig("slow", "1")).getClass());
    }

    @Test
    void withoutDynamicBatchingTheBatchAxisStaysButNoBatcherIsListed() {
        ModelConfiguration c = service.modelConfig("plain", "1");
        assertEquals(8, c.maxBatchSize());
        assertEquals(Optional.empty(), c.dynamicBatching());
        assertEquals(1, c.instanceCount());
        assertEquals(VersionPolicy.specific(List.of(1)), c.versionPolicy());
    }

    @Test
    void fixedFirstAxisMeansNoBatchingAndFullDims() {
        ModelConfiguration c = service.modelConfig("fixed", null);
        ModelMetadata m = service.modelMetadata("fixed", null);
        assertEquals(0, c.maxBatchSize());
        assertEquals(m.inputs().get(0).shape(), c.inputs().get(0).dims());
        assertTrue(c.inputs().get(0).dims().stream().allMatch(d -> d > 0), c.inputs().toString());
        assertEquals(Optional.empty(), c.dynamicBatching(), "nothing to merge along");
        assertEquals(VersionPolicy.all(), c.versionPolicy());
    }

    @Test
    void unknownModelsAndVersionsAreNotFound() {
        assertThrows(InferenceException.NotFound.class, () -> service.modelConfig("nope", null));
        assertThrows(InferenceException.NotFound.class, () -> service.modelConfig("slow", "9"));
    }
}
