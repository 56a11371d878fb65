package dev.berth.server.codec;

import dev.berth.runtime.InferenceException;
import dev.berth.runtime.Tensor;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the outside-in fuzzer (conformance FuzzIT) found the codecs accepting, each refused now with
 * a message naming the field, beside the well-formed neighbour that is still accepted.
 */
class FuzzFindingsCodecTest {
    private static Tensor json(String body) {
        return OipJson.readInferRequest("m", null, body.getBytes(StandardCharsets.UTF_8), -1).request().inputs().get(0);
    }

    private static String bytesInput(String element) {
        return "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + element + "\"]}]}";
    }

    private static String message(Runnable r) {
        return assertThrows(InferenceException.InvalidInput.class, r::run).getMessage();
    }

    @Test
    void aLoneSurrogateEscapeIsRefusedInsteadOfBecomingAQuestionMark() {
        // was: accepted, and the model got the byte '?' (0x3f) where the client sent \ud800
        for (String lone : new String[] {"\\ud800", "\\udfff", "a\\ud83d", "\\ude00b"}) {
            String m = message(() -> json(bytesInput(lone)));
            assertTrue(m.contains("'text'") && m.contains("surrogate"), m);
        }
        String id = message(() -> json("{\"id\":\"x\\udc00\",\"inputs\":[]}"));
        assertTrue(id.contains("'id'"), id);
        String param = message(() -> json("{\"parameters\":{\"p\":\"\\ud800\"},\"inputs\":[]}"));
        assertTrue(param.contains("'p'"), param);
        // a surrogate pair is one character, U+1F600, in UTF-8 F0 9F 98 80
        assertArrayEquals(new byte[] {(byte) 0xf0, (byte) 0x9f, (byte) 0x98, (byte) 0x80},
                json(bytesInput("\\ud83d\\ude00")).bytesElements().get(0));
    }

    private static ModelInferRequest.InferInputTensor.Builder int32(int... values) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (int v : values) {
            c.addIntContents(v);
        }
        return ModelInferRequest.InferInputTensor.newBuilder().setName("a").setDatatype("INT32").addShape(values.length)
                .setContents(c);
    }

    @Test
    void typedContentsInAFieldThatIsNotTheDatatypesAreRefused() {
        // was: the fp32_contents value was ignored and the model ran on the int_contents alone
        ModelInferRequest.InferInputTensor.Builder extra = int32(1, 2);
        extra.getContentsBuilder().addFp32Contents(3.5f);
        String m = message(() -> OipProto.readInferRequest(ModelInferRequest.newBuilder().setModelName("m").addInputs(extra).build()));
        assertTrue(m.contains("'a'") && m.contains("int_contents") && m.contains("fp32_contents"), m);
        Tensor ok = OipProto.readInferRequest(ModelInferRequest.newBuilder().setModelName("m").addInputs(int32(1, 2)).build())
                .request().inputs().get(0);
        assertEquals(8, ok.data().remaining());
    }

    @Test
    void anEmptyTensorsOtherDimensionsAreBoundedToo() {
        // was: [0, 2^63-1] passed (no element, no overflow) and reached ONNX Runtime
        String m = message(() -> json("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[0,9223372036854775807],"
                + "\"data\":[]}]}"));
        assertTrue(m.contains("'x'") && m.contains("non-zero dimensions"), m);
        assertEquals(0, json("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[0,3],\"data\":[]}]}").data().remaining());
        // an empty raw tensor (no bytes at all) still has ordinary other dimensions
        assertEquals(0, Elements.checkedCount("x", new long[] {0, 3}, 0));
        assertThrows(InferenceException.InvalidInput.class, () -> Elements.checkedCount("x", new long[] {0, 1L << 40}, 0));
    }
}
