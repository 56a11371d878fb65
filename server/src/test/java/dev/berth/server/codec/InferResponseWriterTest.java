package dev.berth.server.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The response side on its own: JSON elements per datatype, and binary outputs after the header. */
class InferResponseWriterTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static RestInferRequest asking(String outputs) {
        String json = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT8\",\"shape\":[1],\"data\":[0]}],\"outputs\":" + outputs + "}";
        return OipJson.readInferRequest("m", null, json.getBytes(StandardCharsets.UTF_8), -1);
    }

    private static Tensor raw(String name, DataType type, long[] shape, ByteBuffer data) {
        data.flip();
        return Tensor.ofRaw(name, type, shape, data);
    }

    @Test
    void unsignedAndHalfPrecisionElementsAreWrittenAsTheirValues() throws IOException {
        Tensor u64 = raw("u", DataType.UINT64, new long[] {2},
                ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(5L));
        Tensor u8 = raw("b", DataType.UINT8, new long[] {1}, ByteBuffer.allocate(1).put((byte) -1));
        Tensor h = raw("h", DataType.FP16, new long[] {1},
                ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(Float.floatToFloat16(1.5f)));
        RestInferResponse out = InferResponseWriter.writeInferResponse(
                new InferenceResponse("m", 3, "id-1", List.of(u64, u8, h), 0, 0, 1), asking("[]"));
        JsonNode doc = MAPPER.readTree(out.json());
        assertEquals("3", doc.get("model_version").asText());
        assertEquals("id-1", doc.get("id").asText());
        assertEquals("18446744073709551615", doc.at("/outputs/0/data/0").bigIntegerValue().toString());
        assertEquals(5, doc.at("/outputs/0/data/1").asInt());
        assertEquals(255, doc.at("/outputs/1/data/0").asInt());
        assertEquals(1.5, doc.at("/outputs/2/data/0").asDouble());
        assertEquals(0, out.binary().size());
    }

    @Test
    void binaryOutputsGoAfterTheHeaderWithTheirSize() throws IOException {
        Tensor s = Tensor.ofBytes("s", new long[] {2}, List.of("ab".getBytes(StandardCharsets.UTF_8), new byte[0]));
        RestInferResponse out = InferResponseWriter.writeInferResponse(new InferenceResponse("m", 1, null, List.of(s), 0, 0, 1),
                asking("[{\"name\":\"s\",\"parameters\":{\"binary_data\":true}}]"));
        JsonNode doc = MAPPER.readTree(out.json());
        assertFalse(doc.has("id"));
        assertFalse(doc.at("/outputs/0").has("data"));
        ByteBuffer section = out.binary().get(0);
        assertEquals(10, doc.at("/outputs/0/parameters/binary_data_size").asInt(), "two 4-byte lengths and 2 bytes");
        assertEquals(section.remaining(), doc.at("/outputs/0/parameters/binary_data_size").asInt());
        ByteBuffer le = section.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2, le.getInt());
    }
}
