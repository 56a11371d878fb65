package dev.berth.server.codec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * An encoded REST inference response: the JSON header and, when outputs go back as binary data,
 * the buffers that follow it in the body (written without concatenating them first).
 *
 * @param json   the JSON object
 * @param binary binary sections in output order; empty for a pure JSON response
 */
public record RestInferResponse(byte[] json, List<ByteBuffer> binary) {
    public RestInferResponse {
        binary = List.copyOf(binary);
    }

    public boolean hasBinary() {
        return !binary.isEmpty();
    }

    /** Total body length. */
    public long length() {
        long n = json.length;
        for (ByteBuffer b : binary) {
            n += b.remaining();
        }
        return n;
    }

    /** The largest copy buffer for outputs held in native (direct) memory. */
    private static final int CHUNK = 64 * 1024;

    /** Writes the body; heap buffers go out without a copy, others through a chunk sized to them. */
    public void writeTo(OutputStream out) throws IOException {
        out.write(json);
        byte[] chunk = null;
        for (ByteBuffer b : binary) {
            ByteBuffer src = b.duplicate();
            if (src.hasArray()) {
                out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
                continue;
            }
            if (chunk == null || chunk.length < Math.min(src.remaining(), CHUNK)) {
                // sized to the data: a small answer must not pay for a 64 KiB copy buffer
                chunk = new byte[Math.min(src.remaining(), CHUNK)];
            }
            while (src.hasRemaining()) {
                int n = Math.min(chunk.length, src.remaining());
                src.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        }
    }
}
