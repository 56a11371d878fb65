package dev.berth.bench;

import dev.berth.registry.DataType;
import dev.berth.runtime.Tensor;
import dev.berth.server.codec.OipJson;
import dev.berth.server.codec.OipProto;
import dev.berth.server.codec.RestInferRequest;
import dev.berth.server.grpc.proto.ModelInferRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-encoded request bodies decode, through berth's own codecs, to the intended tensors. */
class PayloadsTest {
    @TempDir
    Path dir;

    @Test
    void grpcBodyIsAFramedModelInferRequest() throws Exception {
        Payloads.write(dir, "g", "slow_nobatch", "slow", 8, Payloads.Encoding.GRPC);
        byte[] body = Files.readAllBytes(dir.resolve("g.body"));
        ByteBuffer frame = ByteBuffer.wrap(body);
        assertEquals(0, frame.get(), "uncompressed");
        assertEquals(body.length - 5, frame.getInt(), "length prefix");
        ModelInferRequest m = ModelInferRequest.parseFrom(Arrays.copyOfRange(body, 5, body.length));
        assertEquals("slow_nobatch", m.getModelName());
        assertEquals("bench", m.getId());
        assertEquals("x", m.getInputs(0).getName());
        assertEquals("FP32", m.getInputs(0).getDatatype());
        assertEquals(java.util.List.of(8L, 256L), m.getInputs(0).getShapeList());
        assertEquals("y", m.getOutputs(0).getName());

        Tensor x = OipProto.readInferRequest(m).request().inputs().get(0);
        assertArrayEquals(new long[]{8, 256}, x.shape());
        assertArrayEquals(BenchData.values("slow", 8 * 256), floats(x));
        assertEquals("content-type: application/grpc\nte: trailers\n", Files.readString(dir.resolve("g.headers")));
    }

    @Test
    void binaryBodyCarriesTheHeaderLengthAndRawTensor() throws Exception {
        Payloads.write(dir, "b", "large", "large", 1, Payloads.Encoding.BINARY);
        byte[] body = Files.readAllBytes(dir.resolve("b.body"));
        String headers = Files.readString(dir.resolve("b.headers"));
        int headerLength = Integer.parseInt(headers.replaceAll("(?s).*Inference-Header-Content-Length: (\\d+).*", "$1"));
        RestInferRequest decoded = OipJson.readInferRequest("large", null, body, headerLength);
        Tensor x = decoded.request().inputs().get(0);
        assertEquals(DataType.FP32, x.datatype());
        assertArrayEquals(new long[]{1, 3, 224, 224}, x.shape());
        assertArrayEquals(BenchData.values("large", 3 * 224 * 224), floats(x));
        assertEquals(true, decoded.binary("y"));
    }

    @Test
    void jsonBodyHoldsTheSameValues() throws Exception {
        Payloads.write(dir, "j", "churn", "churn", 1, Payloads.Encoding.JSON);
        byte[] body = Files.readAllBytes(dir.resolve("j.body"));
        Tensor x = OipJson.readInferRequest("churn", null, body, -1).request().inputs().get(0);
        assertEquals("features", x.name());
        assertArrayEquals(new long[]{1, 8}, x.shape());
        assertArrayEquals(BenchData.values("churn", 8), floats(x));
    }

    private static float[] floats(Tensor t) {
        ByteBuffer b = t.data().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
