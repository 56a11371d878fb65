package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** BF16 tensors pass through ONNX Runtime (CPU Identity supports bfloat16) bit for bit. */
class Bf16Test {
    @TempDir
    Path root;

    @Test
    void bf16RoundTripsBitForBit() throws Exception {
        Path dir = root.resolve("bf16").resolve("1");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), TinyOnnx.identity(16, 4));
        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            assertEquals(DataType.BF16, service.modelMetadata("bf16", null).inputs().get(0).datatype());
            short[] bits = {0x3f80, (short) 0xbf80, 0x7fc0, (short) 0x8000, 0x7f80, 0x0001, 0x4049, (short) 0xc2f7};
            ByteBuffer data = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (short b : bits) {
                data.putShort(b);
            }
            data.flip();
            Tensor x = Tensor.ofRaw("x", DataType.BF16, new long[] {2, 4}, data);
            InferenceResponse r = service.infer(new InferenceRequest("bf16", null, null, List.of(x), List.of(), Map.of()));
            Tensor y = r.outputs().get(0);
            assertEquals(DataType.BF16, y.datatype());
            assertArrayEquals(new long[] {2, 4}, y.shape());
            assertArrayEquals(TestModels.bytes(x), TestModels.bytes(y));
        }
    }
}
