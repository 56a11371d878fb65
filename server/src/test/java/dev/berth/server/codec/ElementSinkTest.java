package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One input's element conversion on its own: each datatype's number format, its range and the element count. */
class ElementSinkTest {
    private static final JsonFactory JSON = new JsonFactory();

    /** Feeds every value of a flat JSON array to the sink, as the readers do. */
    private static ElementSink fill(DataType type, long[] shape, String array) throws IOException {
        ElementSink sink = new ElementSink("t", type, shape, 1 << 20);
        try (JsonParser p = JSON.createParser(array)) {
            p.nextToken();
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                sink.add(p, t);
            }
        }
        return sink;
    }

    @Test
    void quotedNonFiniteFormsAreAcceptedAndFiniteOverflowIsRefusedByElement() throws IOException {
        ByteBuffer f = fill(DataType.FP32, new long[] {4}, "[\"NaN\", \"Infinity\", \"-Infinity\", 1.5]")
                .toTensor("t", new long[] {4}).data();
        assertTrue(Float.isNaN(f.getFloat()));
        assertEquals(Float.POSITIVE_INFINITY, f.getFloat());
        assertEquals(Float.NEGATIVE_INFINITY, f.getFloat());
        assertEquals(1.5f, f.getFloat());
        InferenceException.InvalidInput tooBig = assertThrows(InferenceException.InvalidInput.class,
                () -> fill(DataType.FP32, new long[] {2}, "[0, 1e39]"));
        assertTrue(tooBig.getMessage().contains("element 1 (1e39) is out of its range"), tooBig.getMessage());
        assertThrows(InferenceException.InvalidInput.class, () -> fill(DataType.FP16, new long[] {1}, "[70000]"),
                "65504 is FP16's largest finite value");
        assertEquals((short) 0x7c00, fill(DataType.FP16, new long[] {1}, "[\"Infinity\"]")
                .toTensor("t", new long[] {1}).data().getShort(), "the quoted form still means infinity");
    }

    @Test
    void wrongKindsNameTheElementAndWhatWasWanted() {
        InferenceException.InvalidInput bool = assertThrows(InferenceException.InvalidInput.class,
                () -> fill(DataType.BOOL, new long[] {2}, "[true, 1]"));
        assertTrue(bool.getMessage().contains("element 1 must be true or false, got a number"), bool.getMessage());
        InferenceException.InvalidInput bytes = assertThrows(InferenceException.InvalidInput.class,
                () -> fill(DataType.BYTES, new long[] {1}, "[{}]"));
        assertTrue(bytes.getMessage().contains("must be a string, got an object"), bytes.getMessage());
        InferenceException.InvalidInput fraction = assertThrows(InferenceException.InvalidInput.class,
                () -> fill(DataType.INT32, new long[] {1}, "[2.5]"));
        assertTrue(fraction.getMessage().contains("which is not an integer"), fraction.getMessage());
    }

    @Test
    void unsignedSixtyFourBitsKeepTheirBitsAndRefuseBeyond() throws IOException {
        ByteBuffer u = fill(DataType.UINT64, new long[] {1}, "[18446744073709551615]").toTensor("t", new long[] {1}).data();
        assertEquals(-1L, u.getLong());
        assertThrows(InferenceException.InvalidInput.class,
                () -> fill(DataType.UINT64, new long[] {1}, "[18446744073709551616]"));
        assertThrows(InferenceException.InvalidInput.class, () -> fill(DataType.UINT64, new long[] {1}, "[-1]"));
    }

    @Test
    void countIsCheckedAgainstTheShapeBothWays() throws IOException {
        assertThrows(InferenceException.InvalidInput.class, () -> fill(DataType.INT8, new long[] {2}, "[1, 2, 3]"));
        ElementSink shortOne = fill(DataType.INT8, new long[] {3}, "[1, 2]");
        InferenceException.InvalidInput e = assertThrows(InferenceException.InvalidInput.class,
                () -> shortOne.toTensor("t", new long[] {3}));
        assertTrue(e.getMessage().contains("(3 elements) but 2 data elements"), e.getMessage());
    }

    @Test
    void growsPastItsFirstBufferWhenTheShapeIsNotKnownYet() throws IOException {
        StringBuilder array = new StringBuilder("[");
        for (int i = 0; i < 1000; i++) {
            array.append(i == 0 ? "" : ",").append(i);
        }
        Tensor t = fill(DataType.INT64, null, array.append(']').toString()).toTensor("t", new long[] {1000});
        ByteBuffer b = t.data();
        assertEquals(8000, b.remaining());
        b.position(999 * 8);
        assertEquals(999L, b.getLong());
    }

    @Test
    void theFastPathFallsBackInsteadOfOverfilling() {
        ElementSink sink = new ElementSink("t", DataType.FP32, new long[] {1}, 1 << 20);
        sink.add(1f);
        assertThrows(FlatNumberArrays.FallBack.class, () -> sink.add(2f),
                "the ordinary path gives the client the message, not the fast path");
    }
}
