package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.runtime.InferenceException;

import java.io.IOException;
import java.util.Arrays;

import static dev.berth.server.codec.JsonTokens.describe;
import static dev.berth.server.codec.JsonTokens.invalid;

/** Walks an input's {@code data} (flat, nested as the shape says, or a rank-0 scalar) into an {@link ElementSink}. */
final class TensorDataReader {
    private TensorDataReader() {
    }


    /**
     * Walks {@code data} into the sink. Accepted forms: a flat array (any shape), arrays nested
     * exactly as the shape says (row-major), or a lone scalar for a rank-0 tensor. Nesting that
     * disagrees with the shape (ragged rows, too deep, too shallow, arrays mixed with values) is a
     * client mistake: flattening it anyway would silently feed the model misaligned rows.
     */
    static void readData(JsonParser p, ElementSink sink, long[] shape) throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.START_ARRAY) {
            // a bare value only stands for a rank-0 tensor; for any other shape it is a mistake
            // (data: true for shape [1,S]) that one element happening to fit must not hide
            if (shape.length != 0) {
                throw invalid("input '" + sink.label + "': 'data' must be an array for shape " + Arrays.toString(shape)
                        + ", got " + describe(t));
            }
            sink.add(p, t);
            return;
        }
        JsonToken first = p.nextToken();
        if (first == JsonToken.END_ARRAY) {
            return;
        }
        if (first == JsonToken.START_ARRAY) {
            readNested(p, sink, shape, 0);
            return;
        }
        // flat: every element a value
        for (t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == JsonToken.START_ARRAY) {
                throw invalid("input '" + sink.label + "': 'data' mixes nested arrays and values; give it flat or"
                        + " nested exactly as the shape " + Arrays.toString(shape));
            }
            sink.add(p, t);
        }
    }

    /**
     * Reads one level of nested data. Called with the parser on the first token inside an array at
     * {@code level} (0 is the outer array, whose opening bracket has already been consumed).
     */
    private static void readNested(JsonParser p, ElementSink sink, long[] shape, int level) throws IOException {
        if (level >= shape.length) {
            throw nesting(sink, shape, "is nested deeper than the shape's " + shape.length + " dimension(s)");
        }
        boolean inner = level < shape.length - 1;
        long count = 0;
        for (JsonToken t = p.currentToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (count == shape[level]) {
                throw nesting(sink, shape, "has more than " + count + " entries in dimension " + level);
            }
            if (t == JsonToken.START_ARRAY) {
                if (!inner) {
                    throw nesting(sink, shape, "is nested deeper than the shape's " + shape.length + " dimension(s)");
                }
                p.nextToken();
                readNested(p, sink, shape, level + 1);
            } else if (inner) {
                throw nesting(sink, shape, "has a value where dimension " + level + " needs an array of "
                        + shape[level + 1]);
            } else {
                sink.add(p, t);
            }
            count++;
        }
        if (count != shape[level]) {
            throw nesting(sink, shape, "has " + count + " entries in dimension " + level + " where the shape says "
                    + shape[level]);
        }
    }

    private static InferenceException.InvalidInput nesting(ElementSink sink, long[] shape, String problem) {
        return invalid("input '" + sink.label + "': nested 'data' " + problem + " (shape "
                + Arrays.toString(shape) + "); give it flat or nested exactly as the shape");
    }
}
