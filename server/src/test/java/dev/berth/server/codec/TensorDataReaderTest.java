package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The accepted forms of {@code data} (flat, nested exactly as the shape, a rank-0 scalar) and the refused ones. */
class TensorDataReaderTest {
    private static final JsonFactory JSON = new JsonFactory();

    private static ByteBuffer read(long[] shape, String data) throws IOException {
        ElementSink sink = new ElementSink("t", DataType.INT32, shape, 1 << 20);
        try (JsonParser p = JSON.createParser(data)) {
            p.nextToken();
            TensorDataReader.readData(p, sink, shape);
        }
        return sink.toTensor("t", shape).data();
    }

    private static String refusal(long[] shape, String data) {
        return assertThrows(InferenceException.InvalidInput.class, () -> read(shape, data), data).getMessage();
    }

    @Test
    void flatAndNestedGiveTheSameRowMajorElements() throws IOException {
        long[] shape = {2, 3};
        assertEquals(read(shape, "[1,2,3,4,5,6]"), read(shape, "[[1,2,3],[4,5,6]]"));
        ByteBuffer nested = read(new long[] {2, 1, 2}, "[[[1,2]],[[3,4]]]");
        for (int want = 1; want <= 4; want++) {
            assertEquals(want, nested.getInt());
        }
        assertEquals(7, read(new long[0], "7").getInt(), "a bare value is a rank-0 tensor");
    }

    @Test
    void nestingThatDisagreesWithTheShapeIsRefusedByWhatIsWrong() {
        long[] shape = {2, 2};
        assertTrue(refusal(shape, "[[1,2],[3]]").contains("has 1 entries in dimension 1 where the shape says 2"));
        assertTrue(refusal(shape, "[[1,2,3],[4]]").contains("has more than 2 entries in dimension 1"));
        assertTrue(refusal(shape, "[[[1],[2]],[[3],[4]]]").contains("is nested deeper than the shape's 2 dimension(s)"));
        assertTrue(refusal(shape, "[[1,2],3]").contains("has a value where dimension 0 needs an array of 2"));
        assertTrue(refusal(new long[] {4}, "[1,[2],3,4]").contains("mixes nested arrays and values"));
        assertTrue(refusal(new long[] {1}, "true").contains("'data' must be an array for shape [1], got a boolean"));
    }
}
