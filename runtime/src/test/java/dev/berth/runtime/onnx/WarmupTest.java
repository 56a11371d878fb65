package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.berth.runtime.onnx.NativeSafetyTest.ints;
import static dev.berth.runtime.onnx.NativeSafetyTest.values;
import static dev.berth.runtime.onnx.OnnxModel.INT32;
import static dev.berth.runtime.onnx.OnnxModel.STRING;
import static dev.berth.runtime.onnx.OnnxModel.graph;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Warm-up runs the registered example request, else inputs of ones; a version whose warm-up
 * fails is UNAVAILABLE with the reason while the rest of the repository serves and the server
 * becomes ready.
 */
class WarmupTest {
    @TempDir
    Path root;

    /** The ONNX backend test {@code test_div_int32_trunc}: z = x / y, int32 [4]. Zeros as warm-up would divide by zero. */
    static byte[] divInt32Trunc() {
        return OnnxModel.model(21, graph("test_div_int32_trunc").input("x", INT32, 4L).input("y", INT32, 4L)
                .node("Div", List.of("x", "y"), List.of("z")).output("z", INT32, 4L));
    }

    /** z = x / (y - 1): inputs of ones divide by zero. */
    static byte[] divByYMinusOne() {
        return OnnxModel.model(21, graph("g").input("x", INT32, "N").input("y", INT32, "N")
                .initializer("one", INT32, new long[0], 1)
                .node("Sub", List.of("y", "one"), List.of("y1"))
                .node("Div", List.of("x", "y1"), List.of("z"))
                .output("z", INT32, "N"));
    }

    private void version(String name, byte[] model, String example) throws Exception {
        Path dir = root.resolve(name).resolve("1");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), model);
        if (example != null) {
            Files.writeString(dir.resolve(ExampleRequest.FILE), example);
        }
    }

    private static ModelStatus status(OnnxInferenceService service, String model) {
        return service.repositoryIndex().stream().filter(s -> s.name().equals(model)).findFirst().orElseThrow();
    }

    @Test
    void aRepositoryWithAnIntegerDivisionModelBecomesReadyAndAnswers() throws Exception {
        version("div", divInt32Trunc(), null);
        TestModels.addVersion(root, "churn", 1, "churn");
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO)
                .strictReadiness(true))) {
            assertTrue(service.ready(), "ready even with strict readiness: warm-up avoids zeros");
            assertEquals(ModelState.READY, status(service, "div").state(), status(service, "div").reason());
            assertArrayEquals(new long[] {-1, 1, 1, -1}, values(NativeSafetyTest.infer(service, "div",
                    ints("x", DataType.INT32, -3, 3, -3, 3), ints("y", DataType.INT32, 2, 2, -2, -2)).outputs().get(0)));
            var e = assertThrows(InferenceException.InvalidInput.class, () -> NativeSafetyTest.infer(service, "div",
                    ints("x", DataType.INT32, 1, 2, 3, 4), ints("y", DataType.INT32, 1, 0, 1, 1)));
            assertTrue(e.getMessage().contains("model 'div' version 1") && e.getMessage().contains("Integer division by zero"), e.getMessage());
            assertEquals(1, service.infer(LifecycleTest.churn(null)).version());
        }
    }

    @Test
    void aFailingWarmUpLeavesThatVersionUnavailableWithItsReason() throws Exception {
        // the registered example divides by zero
        version("div", divInt32Trunc(), """
                {"inputs": [{"name": "x", "datatype": "INT32", "shape": [4], "data": [1, 2, 3, 4]},
                            {"name": "y", "datatype": "INT32", "shape": [4], "data": [1, 0, 1, 1]}]}""");
        // no example, and inputs of ones divide by zero
        version("computed", divByYMinusOne(), null);
        TestModels.addVersion(root, "churn", 1, "churn");
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root))
                .pollInterval(Duration.ZERO).strictReadiness(false))) {
            assertTrue(service.ready(), "lenient readiness: the healthy model keeps the server ready");
            ModelStatus div = status(service, "div");
            assertEquals(ModelState.UNAVAILABLE, div.state());
            assertTrue(div.reason().startsWith("warm-up with example_request.json failed: Div node") && div.reason().contains("Integer division by zero"),
                    div.reason());
            ModelStatus computed = status(service, "computed");
            assertEquals(ModelState.UNAVAILABLE, computed.state());
            assertTrue(computed.reason().startsWith("warm-up with generated inputs failed") && computed.reason().contains("example_request.json"),
                    computed.reason());
            assertFalse(service.modelReady("div", null));
            var metadata = assertThrows(InferenceException.Unavailable.class, () -> service.modelMetadata("div", null));
            assertTrue(metadata.getMessage().contains("warm-up with example_request.json failed"), metadata.getMessage());
            var infer = assertThrows(InferenceException.Unavailable.class, () -> NativeSafetyTest.infer(service, "div",
                    ints("x", DataType.INT32, 1, 2, 3, 4), ints("y", DataType.INT32, 1, 1, 1, 1)));
            assertTrue(infer.getMessage().contains("Integer division by zero"), infer.getMessage());
            assertEquals(1, service.infer(LifecycleTest.churn(null)).version());

            // an example that the model can run, then an explicit load: the version serves
            Files.writeString(root.resolve("computed/1").resolve(ExampleRequest.FILE), """
                    {"inputs": [{"name": "x", "datatype": "INT32", "shape": [1, 1], "data": [[8]]},
                                {"name": "y", "datatype": "INT32", "shape": [1, 1], "data": [[5]]}]}""");
            assertThrows(InferenceException.Unavailable.class, () -> service.load("computed"), "the example's shape does not fit: ones again");
            Files.writeString(root.resolve("computed/1").resolve(ExampleRequest.FILE), """
                    {"inputs": [{"name": "x", "datatype": "INT32", "shape": [2], "data": [8, 9]},
                                {"name": "y", "datatype": "INT32", "shape": [2], "data": [5, 4]}]}""");
            service.load("computed");
            assertEquals(ModelState.READY, status(service, "computed").state());
            assertArrayEquals(new long[] {3}, values(NativeSafetyTest.infer(service, "computed",
                    ints("x", DataType.INT32, 6), ints("y", DataType.INT32, 3)).outputs().get(0)));
        }
    }

    @Test
    void warmUpCanBeTurnedOffAndStringModelsWarmUp() throws Exception {
        version("computed", divByYMinusOne(), null);
        TestModels.writeInfo(root, new ModelInfo("computed", null, Map.of(), VersionPolicy.all(),
                ServingConfig.builder().warmup(false).build()));
        version("strings", OnnxModel.model(21, graph("g").input("a", STRING, "N", 2L)
                .node("Identity", List.of("a"), List.of("b"))
                .output("b", STRING, "N", 2L)), null);
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            assertEquals(ModelState.READY, status(service, "computed").state(), status(service, "computed").reason());
            assertEquals(ModelState.READY, status(service, "strings").state(), status(service, "strings").reason());
            var e = assertThrows(InferenceException.InvalidInput.class, () -> NativeSafetyTest.infer(service, "computed",
                    ints("x", DataType.INT32, 1), ints("y", DataType.INT32, 1)));
            assertTrue(e.getMessage().contains("Integer division by zero"), e.getMessage());
        }
    }

    @Test
    void generatedInputsAreOnesOfEveryType() throws Exception {
        // Div by each input: a single zero anywhere would fail the warm-up
        for (int type : List.of(OnnxModel.INT8, OnnxModel.INT16, INT32, OnnxModel.INT64, OnnxModel.UINT8, OnnxModel.UINT32, OnnxModel.UINT64)) {
            version("div" + type, OnnxModel.model(21, graph("g").input("x", type, "N", 3L).input("y", type, 3L)
                    .node("Div", List.of("x", "y"), List.of("z")).output("z", type, "N", 3L)), null);
        }
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            for (ModelStatus s : service.repositoryIndex()) {
                assertEquals(ModelState.READY, s.state(), s.name() + ": " + s.reason());
            }
        }
    }
}
