package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.berth.runtime.onnx.NativeSafetyTest.ints;
import static dev.berth.runtime.onnx.NativeSafetyTest.values;
import static dev.berth.runtime.onnx.OnnxModel.FLOAT;
import static dev.berth.runtime.onnx.OnnxModel.INT64;
import static dev.berth.runtime.onnx.OnnxModel.graph;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Models of the opsets that ONNX Runtime 1.23.2 refused (Identity, Shape, Squeeze and Reshape
 * were revised in opsets 21 and 23) load, warm up and answer.
 */
class NewerOpsetTest {
    @TempDir
    Path root;

    /** x [N, 1, 4] -> Identity -> Squeeze(axis 1) -> Reshape([-1, 2]) = y; Shape(x) = s. */
    static byte[] model(int opset) {
        return OnnxModel.model(opset, graph("opset" + opset).input("x", FLOAT, "N", 1L, 4L)
                .initializer("axes", INT64, new long[] {1}, 1)
                .initializer("pairs", INT64, new long[] {2}, -1, 2)
                .node("Identity", List.of("x"), List.of("x1"))
                .node("Squeeze", List.of("x1", "axes"), List.of("x2"))
                .node("Reshape", List.of("x2", "pairs"), List.of("y"))
                .node("Shape", List.of("x"), List.of("s"))
                .output("y", FLOAT, "M", 2L)
                .output("s", INT64, 3L));
    }

    @Test
    void opsets21To24Serve() throws Exception {
        List<Integer> opsets = List.of(21, 22, 23, 24);
        for (int opset : opsets) {
            Path dir = root.resolve("opset" + opset).resolve("1");
            Files.createDirectories(dir);
            Files.write(dir.resolve("model.onnx"), model(opset));
        }
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            for (ModelStatus s : service.repositoryIndex()) {
                assertEquals(ModelState.READY, s.state(), s.name() + ": " + s.reason());
            }
            Tensor x = ints("x", DataType.FP32, new long[] {2, 1, 4}, 1, 2, 3, 4, 5, 6, 7, 8);
            for (int opset : opsets) {
                List<Tensor> out = NativeSafetyTest.infer(service, "opset" + opset, x).outputs();
                assertArrayEquals(new long[] {4, 2}, out.get(0).shape());
                assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6, 7, 8}, values(out.get(0)));
                assertArrayEquals(new long[] {2, 1, 4}, values(out.get(1)));
            }
        }
    }
}
