package dev.berth.bench;

import ai.onnxruntime.OrtException;
import dev.berth.registry.DataType;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.Signature;
import dev.berth.runtime.onnx.OnnxSignatureReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-encoded ONNX model is one ONNX Runtime loads, with the declared signature, and runs. */
class OnnxModelWriterTest {
    @TempDir
    Path dir;

    @Test
    void largeIdentityModelLoadsWithADynamicBatchAxisAndRuns() throws OrtException {
        Path file = BenchModels.writeLarge(dir.resolve("large/1/model.onnx"));
        Signature signature = new OnnxSignatureReader().read(file);
        assertEquals("x", signature.inputs().get(0).name());
        assertEquals(DataType.FP32, signature.inputs().get(0).datatype());
        assertEquals(java.util.List.of(-1L, 3L, 224L, 224L), signature.inputs().get(0).shape());
        assertEquals("y", signature.outputs().get(0).name());
        assertEquals(java.util.List.of(-1L, 3L, 224L, 224L), signature.outputs().get(0).shape());

        try (OrtCase ort = OrtCase.open(file, "large", BenchModels.shape("large", 2), ServingConfig.defaults())) {
            assertEquals(2L * 3 * 224 * 224 * Float.BYTES, ort.run(), "the identity returns the whole tensor");
        }
    }
}
