package dev.berth.server.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON codec on its own: layouts, ranges, ordering of fields, and the inverse encoding. */
class OipJsonTest {
    private static RestInferRequest read(String json) {
        return OipJson.readInferRequest("m", null, json.getBytes(StandardCharsets.UTF_8), -1);
    }

    private static Tensor only(String json) {
        return read(json).request().inputs().get(0);
    }

    private static String input(String datatype, String shape, String data) {
        return "{\"inputs\":[{\"name\":\"t\",\"datatype\":\"" + datatype + "\",\"shape\":" + shape + ",\"data\":" + data + "}]}";
    }

    @Test
    void integersAtTheirLimitsInLittleEndian() {
        ByteBuffer u64 = only(input("UINT64", "[3]", "[0, 9223372036854775808, 18446744073709551615]")).data();
        assertEquals(0L, u64.getLong());
        assertEquals(Long.MIN_VALUE, u64.getLong(), "2^63 keeps its bits");
        assertEquals(-1L, u64.getLong(), "2^64-1 keeps its bits");
        ByteBuffer i64 = only(input("INT64", "[2]", "[-9223372036854775808, 9223372036854775807]")).data();
        assertEquals(Long.MIN_VALUE, i64.getLong());
        assertEquals(Long.MAX_VALUE, i64.getLong());
        ByteBuffer i8 = only(input("INT8", "[2]", "[-128, 127]")).data();
        assertEquals(-128, i8.get());
        assertEquals(127, i8.get());
        ByteBuffer u16 = only(input("UINT16", "[1]", "[65535]")).data();
        assertEquals(0xFF, u16.get() & 0xFF);
        assertEquals(0xFF, u16.get() & 0xFF, "little-endian bytes");
        assertEquals(7, only(input("INT32", "[1]", "[7.0]")).data().getInt(), "an integral number is an integer");
        for (String bad : List.of(input("INT64", "[1]", "[9223372036854775808]"), input("UINT8", "[1]", "[256]"),
                input("UINT32", "[1]", "[-1]"), input("INT16", "[1]", "[1e10]"), input("INT32", "[1]", "[0.5]"), input("INT64", "[1]", "[1e1000000000]"),
                input("INT32", "[1]", "[\"1\"]"), input("INT32", "[1]", "[null]"), input("INT32", "[1]", "[true]"))) {
            assertThrows(InferenceException.InvalidInput.class, () -> read(bad), bad);
        }
    }

    @Test
    void halfPrecisionFromJsonNumbers() {
        ByteBuffer h = only(input("FP16", "[3]", "[1.5, -2, 65504]")).data();
        assertEquals(1.5f, Float.float16ToFloat(h.getShort()));
        assertEquals(-2f, Float.float16ToFloat(h.getShort()));
        assertEquals(65504f, Float.float16ToFloat(h.getShort()));
        ByteBuffer bf = only(input("BF16", "[2]", "[1.0, -3.25]")).data();
        assertEquals((short) 0x3F80, bf.getShort());
        assertEquals(-3.25f, Elements.fromBf16(bf.getShort()));
    }

    @Test
    void nestedDataRankZeroAndFieldOrder() {
        Tensor nested = only(input("FP32", "[2,2]", "[[1,2],[3,4]]"));
        assertEquals(16, nested.data().remaining());
        Tensor scalar = only(input("FP64", "[]", "2.5"));
        assertEquals(2.5, scalar.data().getDouble());
        assertEquals(0, scalar.rank());
        // data before datatype and shape: buffered and decoded once the datatype is known
        Tensor late = only("{\"inputs\":[{\"data\":[true,false,true],\"name\":\"t\",\"shape\":[3],\"datatype\":\"BOOL\"}]}");
        assertEquals(DataType.BOOL, late.datatype());
        byte[] bits = new byte[3];
        late.data().get(bits);
        assertArrayEquals(new byte[]{1, 0, 1}, bits);
        Tensor strings = only(input("BYTES", "[2]", "[\"\u00fcber\", \"\ud83d\ude00\"]"));
        assertEquals("\u00fcber", new String(strings.bytesElements().get(0), StandardCharsets.UTF_8));
        assertEquals(4, strings.bytesElements().get(1).length, "an emoji is four UTF-8 bytes");
    }

    @Test
    void nonFiniteValuesOnlyInTheirQuotedForm() {
        ByteBuffer f = only(input("FP32", "[3]", "[\"NaN\", \"Infinity\", \"-Infinity\"]")).data();
        assertTrue(Float.isNaN(f.getFloat()));
        assertEquals(Float.POSITIVE_INFINITY, f.getFloat());
        assertEquals(Float.NEGATIVE_INFINITY, f.getFloat());
        assertThrows(InferenceException.InvalidInput.class, () -> read(input("FP32", "[1]", "[NaN]")));
        assertThrows(InferenceException.InvalidInput.class, () -> read(input("FP32", "[1]", "[\"nan\"]")));
    }

    @Test
    void absurdShapesAndStructuralMistakes() {
        InferenceException.InvalidInput e = assertThrows(InferenceException.InvalidInput.class,
                () -> read(input("FP64", "[2000000000, 2000000000]", "[]")));
        assertTrue(e.getMessage().contains("more than the request body can hold"), e.getMessage());
        assertThrows(InferenceException.InvalidInput.class, () -> read(input("FP64", "[9223372036854775807, 2]", "[]")));
        assertThrows(InferenceException.InvalidInput.class,
                () -> read("{\"inputs\":[{\"name\":\"t\",\"datatype\":\"FP32\",\"data\":[1,2],\"shape\":[3]}]}"));
        assertThrows(InferenceException.InvalidInput.class,
                () -> read("{\"inputs\":[{\"name\":\"t\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],\"id\":5}"));
        assertThrows(InferenceException.InvalidInput.class,
                () -> read("{\"inputs\":[{\"name\":\"t\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]} extra"));
        assertThrows(InferenceException.InvalidInput.class,
                () -> read("{\"inputs\":[],\"inputs\":[]}"), "duplicate keys are refused");
    }

    private static RestInferRequest readBinary(String header, byte[] tail) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] body = java.util.Arrays.copyOf(h, h.length + tail.length);
        System.arraycopy(tail, 0, body, h.length, tail.length);
        return OipJson.readInferRequest("m", "1", body, h.length);
    }

    @Test
    void binaryInputsMustAddUp() {
        String twoFloats = "{\"inputs\":[{\"name\":\"t\",\"datatype\":\"FP32\",\"shape\":[2],\"parameters\":{\"binary_data_size\":8}}]}";
        Tensor ok = readBinary(twoFloats, new byte[8]).request().inputs().get(0);
        assertEquals(8, ok.data().remaining());
        InferenceException.InvalidInput extra = assertThrows(InferenceException.InvalidInput.class, () -> readBinary(twoFloats, new byte[12]));
        assertTrue(extra.getMessage().contains("4 bytes of binary data"), extra.getMessage());
        assertThrows(InferenceException.InvalidInput.class, () -> readBinary(twoFloats, new byte[4]));
        assertThrows(InferenceException.InvalidInput.class, () -> readBinary(twoFloats.replace("}}]}", "},\"data\":[1,2]}]}"), new byte[8]));
        assertThrows(InferenceException.InvalidInput.class, () -> readBinary(twoFloats.replace("8}", "-8}"), new byte[8]));
        String strings = "{\"inputs\":[{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[2],\"parameters\":{\"binary_data_size\":9}}]}";
        ByteBuffer good = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(1).put((byte) 'a').putInt(0);
        assertEquals(List.of("a", ""), readBinary(strings, good.array()).request().inputs().get(0).bytesElements().stream()
                .map(b -> new String(b, StandardCharsets.UTF_8)).toList());
        ByteBuffer lying = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(100).put((byte) 'a').putInt(0);
        InferenceException.InvalidInput e = assertThrows(InferenceException.InvalidInput.class, () -> readBinary(strings, lying.array()));
        assertTrue(e.getMessage().contains("declares 100 bytes"), e.getMessage());
        assertThrows(InferenceException.InvalidInput.class, () -> OipJson.readInferRequest("m", null, new byte[4], 5));
    }

    @Test
    void responsesInJsonAndBinary() throws Exception {
        ByteBuffer u64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(5);
        u64.flip();
        ByteBuffer f = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN).putFloat(0.1f);
        f.flip();
        InferenceResponse r = new InferenceResponse("m", 3, "id-1", List.of(
                Tensor.ofRaw("u", DataType.UINT64, new long[]{2}, u64),
                Tensor.ofRaw("f", DataType.FP32, new long[]{2}, f),
                Tensor.ofBytes("s", new long[]{1}, List.of("\u00e9".getBytes(StandardCharsets.UTF_8)))), 0, 0, 1);
        RestInferRequest json = new RestInferRequest(read(input("FP32", "[1]", "[1]")).request(), false, Map.of(), Map.of());
        RestInferResponse plain = OipJson.writeInferResponse(r, json);
        assertTrue(!plain.hasBinary());
        JsonNode body = new ObjectMapper().readTree(plain.json());
        assertEquals("3", body.get("model_version").asText());
        assertEquals("id-1", body.get("id").asText());
        assertEquals("[18446744073709551615,5]", body.get("outputs").get(0).get("data").toString());
        assertEquals("[\"NaN\",0.1]", body.get("outputs").get(1).get("data").toString());
        assertEquals("[\"\u00e9\"]", body.get("outputs").get(2).get("data").toString());

        RestInferRequest someBinary = new RestInferRequest(json.request(), true, Map.of("f", false), Map.of());
        RestInferResponse mixed = OipJson.writeInferResponse(r, someBinary);
        assertEquals(2, mixed.binary().size(), "u and s binary, f overridden to JSON");
        assertEquals(16, mixed.binary().get(0).remaining());
        assertEquals(4 + 2, mixed.binary().get(1).remaining(), "length prefix and two UTF-8 bytes");
        JsonNode head = new ObjectMapper().readTree(mixed.json());
        assertEquals(16, head.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        assertTrue(head.get("outputs").get(1).has("data"));
    }
}
