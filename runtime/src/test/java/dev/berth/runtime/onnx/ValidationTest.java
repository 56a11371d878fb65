package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every client mistake is refused before ONNX Runtime, with a message naming the input and expected vs got. */
class ValidationTest {
    @TempDir
    static Path root;
    static OnnxInferenceService service;

    @BeforeAll
    static void start() throws Exception {
        for (String model : List.of("churn", "fixed_batch", "multi_io", "strings", "scalar_io")) {
            TestModels.addVersion(root, model, 1, model);
        }
        TestModels.writeInfo(root, ModelInfo.empty("churn").withAlias("staging", AliasTarget.single(1)));
        service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO).maxElementsPerInput(1_000_000));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    static Tensor features(long... shape) {
        int n = (int) Tensor.elementCount(shape);
        return TestModels.fp32("features", shape, new float[n]);
    }

    static InferenceRequest churn(Tensor... inputs) {
        return new InferenceRequest("churn", null, null, List.of(inputs), List.of(), Map.of());
    }

    static void invalid(Executable call, String... fragments) {
        InferenceException.InvalidInput e = assertThrows(InferenceException.InvalidInput.class, call);
        // every model here has only version 1, and each of these mistakes is found after resolution
        // (validator, string decoding, ONNX Runtime), so each failure names the version it was sent to
        assertEquals(OptionalInt.of(1), e.resolvedVersion(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void aValidRequestRuns() {
        var r = service.infer(churn(features(3, 8)));
        assertEquals(List.of("probabilities", "label"), r.outputs().stream().map(Tensor::name).toList());
        assertEquals(List.of(3L, 2L), java.util.Arrays.stream(r.outputs().get(0).shape()).boxed().toList());
        assertEquals(DataType.INT64, r.outputs().get(1).datatype());
    }

    @Test
    void unknownMissingAndDuplicateInputs() {
        invalid(() -> service.infer(churn(features(1, 8), TestModels.fp32("extra", new long[] {1}, 1f))), "'extra'", "'features'");
        invalid(() -> service.infer(churn()), "needs input 'features'");
        invalid(() -> service.infer(churn(features(1, 8), features(1, 8))), "'features'", "more than once");
        invalid(() -> service.infer(new InferenceRequest("multi_io", null, null,
                List.of(Tensor.ofRaw("ids", DataType.INT64, new long[] {1, 2}, ByteBuffer.allocate(16))), List.of(), Map.of())),
                "'mask'", "'scale'");
    }

    @Test
    void datatypeRankAndFixedDimensions() {
        invalid(() -> service.infer(churn(Tensor.ofRaw("features", DataType.FP64, new long[] {1, 8}, ByteBuffer.allocate(64)))),
                "'features'", "expected datatype FP32, got FP64");
        invalid(() -> service.infer(churn(features(8))), "'features'", "expected rank 2", "got rank 1");
        invalid(() -> service.infer(churn(features(1, 7))), "'features'", "dimension 1 must be 8", "[1, 7]");
        invalid(() -> service.infer(new InferenceRequest("fixed_batch", null, null,
                List.of(TestModels.fp32("x", new long[] {2, 3}, new float[6])), List.of(), Map.of())), "'x'", "[4, 3]", "[2, 3]");
        invalid(() -> service.infer(new InferenceRequest("scalar_io", null, null,
                List.of(TestModels.fp32("x", new long[] {1}, 1f)), List.of(), Map.of())), "'x'", "expected rank 0");
    }

    @Test
    void payloadMustMatchTheShapeExactly() {
        invalid(() -> service.infer(churn(Tensor.ofRaw("features", DataType.FP32, new long[] {2, 8}, ByteBuffer.allocate(60)))),
                "'features'", "16 elements (64 bytes)", "got 60 bytes");
        invalid(() -> service.infer(churn(Tensor.ofRaw("features", DataType.FP32, new long[] {2, 8}, ByteBuffer.allocate(68)))),
                "got 68 bytes");
        invalid(() -> service.infer(new InferenceRequest("strings", null, null,
                List.of(Tensor.ofBytes("text", new long[] {3}, List.of("a".getBytes(), "b".getBytes()))), List.of(), Map.of())),
                "'text'", "needs 3 elements, got 2");
    }

    @Test
    void absurdShapesAreRefused() {
        invalid(() -> service.infer(churn(Tensor.ofRaw("features", DataType.FP32, new long[] {-1, 8}, ByteBuffer.allocate(32)))),
                "'features'", "negative");
        invalid(() -> service.infer(churn(Tensor.ofRaw("features", DataType.FP32, new long[] {Long.MAX_VALUE / 2, 8}, ByteBuffer.allocate(32)))),
                "'features'", "more elements than can be counted");
        invalid(() -> service.infer(churn(Tensor.ofRaw("features", DataType.FP32, new long[] {200_000, 8}, ByteBuffer.allocate(32)))),
                "'features'", "1600000 elements", "limit of 1000000");
    }

    @Test
    void stringsMustBeUtf8() {
        byte[] bad = {(byte) 0xc3, (byte) 0x28};
        invalid(() -> service.infer(new InferenceRequest("strings", null, null,
                List.of(Tensor.ofBytes("text", new long[] {2}, List.of("cat".getBytes(StandardCharsets.UTF_8), bad))), List.of(), Map.of())),
                "'text'", "element 1", "UTF-8");
    }

    @Test
    void requestedOutputsMustExist() {
        invalid(() -> service.infer(new InferenceRequest("churn", null, null, List.of(features(1, 8)), List.of("nope"), Map.of())),
                "'nope'", "'probabilities'", "'label'");
        var r = service.infer(new InferenceRequest("churn", null, null, List.of(features(1, 8)), List.of("label"), Map.of()));
        assertEquals(List.of("label"), r.outputs().stream().map(Tensor::name).toList());
    }

    @Test
    void unknownModelsVersionsAndAliasesAreNotFound() {
        var e = assertThrows(InferenceException.NotFound.class, () -> service.infer(new InferenceRequest("nope", null, null, List.of(features(1, 8)), List.of(), Map.of())));
        assertEquals(OptionalInt.empty(), e.resolvedVersion(), "no version answered an unknown model");
        e = assertThrows(InferenceException.NotFound.class, () -> service.infer(new InferenceRequest("churn", "7", null, List.of(features(1, 8)), List.of(), Map.of())));
        assertTrue(e.getMessage().contains("no version 7"), e.getMessage());
        assertEquals(OptionalInt.empty(), e.resolvedVersion());
        e = assertThrows(InferenceException.NotFound.class, () -> service.infer(new InferenceRequest("churn", "canary", null, List.of(features(1, 8)), List.of(), Map.of())));
        assertTrue(e.getMessage().contains("'canary'") && e.getMessage().contains("staging"), e.getMessage());
        assertEquals(OptionalInt.empty(), e.resolvedVersion());
        // through the alias the request reaches version 1, and a mistake is then version 1's
        var bad = assertThrows(InferenceException.InvalidInput.class, () -> service.infer(
                new InferenceRequest("churn", "staging", null, List.of(features(1, 7)), List.of(), Map.of())));
        assertEquals(OptionalInt.of(1), bad.resolvedVersion());
        assertEquals(1, service.infer(new InferenceRequest("churn", "staging", null, List.of(features(1, 8)), List.of(), Map.of())).version());
        assertThrows(InferenceException.NotFound.class, () -> service.modelReady("nope", null));
        assertThrows(InferenceException.NotFound.class, () -> service.modelMetadata("churn", "3"));
        assertTrue(service.modelReady("churn", "1"));
        assertTrue(service.modelReady("churn", "staging"));
    }

    @Test
    void crossInputMismatchOnlyTheGraphSeesIsStillAClientError() {
        // ids [1,4] with mask [1,3]: each input alone is fine, the graph cannot multiply them
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(Tensor.ofRaw("ids", DataType.INT64, new long[] {1, 4}, ByteBuffer.allocate(32)));
        inputs.add(Tensor.ofRaw("mask", DataType.BOOL, new long[] {1, 3}, ByteBuffer.allocate(3)));
        inputs.add(TestModels.fp32("scale", new long[] {1, 1}, 2f));
        invalid(() -> service.infer(new InferenceRequest("multi_io", null, null, inputs, List.of(), Map.of())), "multi_io", "cannot run these inputs");
    }

    @Test
    void metadataCarriesTheSessionSignature() {
        var m = service.modelMetadata("churn", null);
        assertEquals("churn", m.name());
        assertEquals(List.of("1"), m.versions());
        assertEquals("onnxruntime_onnx", m.platform());
        assertEquals("features", m.inputs().get(0).name());
        assertEquals(List.of(-1L, 8L), m.inputs().get(0).shape());
        assertFalse(m.outputs().isEmpty());
    }
}
