package dev.berth.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.http2.ConnectionFlowControl;
import io.helidon.http.http2.FlowControl;
import io.helidon.http.http2.Http2Flag;
import io.helidon.http.http2.Http2FrameData;
import io.helidon.http.http2.Http2FrameHeader;
import io.helidon.http.http2.Http2FrameTypes;
import io.helidon.http.http2.Http2Headers;
import io.helidon.http.http2.Http2RstStream;
import io.helidon.http.http2.Http2StreamState;
import io.helidon.http.http2.Http2StreamWriter;
import io.helidon.http.http2.Http2WindowUpdate;
import io.helidon.http.http2.StreamFlowControl;
import io.helidon.webserver.http2.spi.Http2SubProtocolSelector;
import io.helidon.webserver.http2.spi.SubProtocolResult;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The length-prefix bookkeeping of {@link GrpcMessageLimit} with frame boundaries a client library
 * cannot be made to produce: prefixes split across frames, several messages per stream.
 */
class GrpcMessageLimitTest {
    private static final int LIMIT = 100;

    /** Records what reaches Helidon's handler. */
    private static final class Recording implements Http2SubProtocolSelector.SubProtocolHandler {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final List<Http2RstStream> resets = new ArrayList<>();

        @Override
        public void init() {
        }

        @Override
        public Http2StreamState streamState() {
            return Http2StreamState.OPEN;
        }

        @Override
        public void rstStream(Http2RstStream rstStream) {
            resets.add(rstStream);
        }

        @Override
        public void windowUpdate(Http2WindowUpdate windowUpdate) {
        }

        @Override
        public void data(Http2FrameHeader header, BufferData data) {
            byte[] b = new byte[data.available()];
            data.read(b);
            received.write(b, 0, b.length);
        }
    }

    private static final class Writer implements Http2StreamWriter {
        final List<Http2Headers> headers = new ArrayList<>();
        final List<Integer> flags = new ArrayList<>();

        @Override
        public void write(Http2FrameData frame) {
        }

        @Override
        public void writeData(Http2FrameData frame, FlowControl.Outbound flowControl) {
        }

        @Override
        public int writeHeaders(Http2Headers headers, int streamId, Http2Flag.HeaderFlags flags, FlowControl.Outbound flowControl) {
            this.headers.add(headers);
            this.flags.add(flags.value());
            return 0;
        }

        @Override
        public int writeHeaders(Http2Headers headers, int streamId, Http2Flag.HeaderFlags flags, Http2FrameData dataFrame,
                                FlowControl.Outbound flowControl) {
            return writeHeaders(headers, streamId, flags, flowControl);
        }
    }

    private final Recording helidon = new Recording();
    private final Writer writer = new Writer();
    private final Http2SubProtocolSelector.SubProtocolHandler handler;

    GrpcMessageLimitTest() {
        StreamFlowControl flow = ConnectionFlowControl.serverBuilder((id, update) -> { }).build()
                .createStreamFlowControl(1, 65535, 16384);
        Http2SubProtocolSelector grpc = (ctx, prologue, headers, w, streamId, server, client, fc, state, router) ->
                new SubProtocolResult(true, helidon);
        SubProtocolResult result = new GrpcMessageLimit(grpc, LIMIT)
                .subProtocol(null, null, null, writer, 1, null, null, flow, Http2StreamState.OPEN, null);
        handler = result.subProtocol();
    }

    private static byte[] message(int length) {
        byte[] m = new byte[5 + length];
        m[1] = (byte) (length >>> 24);
        m[2] = (byte) (length >>> 16);
        m[3] = (byte) (length >>> 8);
        m[4] = (byte) length;
        for (int i = 5; i < m.length; i++) {
            m[i] = (byte) i;
        }
        return m;
    }

    /** Sends {@code bytes} in frames cut at the given offsets. */
    private void send(byte[] bytes, int... cuts) {
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : bytes.length;
            byte[] part = java.util.Arrays.copyOfRange(bytes, from, to);
            int flags = to == bytes.length ? Http2Flag.END_OF_STREAM : 0;
            handler.data(Http2FrameHeader.create(part.length, Http2FrameTypes.DATA, Http2Flag.DataFlags.create(flags), 1),
                    BufferData.create(part));
            from = to;
        }
    }

    @Test
    void messagesWithinTheLimitPassWhateverTheFraming() {
        byte[] a = message(LIMIT);
        byte[] b = message(3);
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        // cuts inside the first prefix, inside the first body, inside the second prefix
        send(both, 2, 3, 50, a.length + 1, a.length + 4);
        assertEquals(both.length, helidon.received.size());
        assertTrue(java.util.Arrays.equals(both, helidon.received.toByteArray()));
        assertTrue(writer.headers.isEmpty());
        assertEquals(Http2StreamState.OPEN, handler.streamState());
    }

    @Test
    void aMessageOverTheLimitIsAnsweredResourceExhaustedAndNotPassedOn() {
        byte[] ok = message(10);
        byte[] big = message(LIMIT + 1);
        byte[] both = new byte[ok.length + big.length];
        System.arraycopy(ok, 0, both, 0, ok.length);
        System.arraycopy(big, 0, both, ok.length, big.length);
        // the oversized message's prefix is split over two frames
        send(both, ok.length + 3, ok.length + 20);
        assertEquals(ok.length + 3, helidon.received.size(), "only the frames before the refusal reach Helidon");
        assertEquals(1, helidon.resets.size(), "Helidon's call is cancelled");
        assertEquals(1, writer.headers.size());
        Http2Headers trailers = writer.headers.get(0);
        assertEquals("8", trailers.httpHeaders().get(io.helidon.http.HeaderNames.create("grpc-status")).get());
        assertTrue(trailers.httpHeaders().get(io.helidon.http.HeaderNames.create("grpc-message")).get()
                .contains("101 bytes exceeds the limit of 100 bytes"));
        assertEquals(Http2Flag.END_OF_HEADERS | Http2Flag.END_OF_STREAM, (int) writer.flags.get(0));
        assertEquals(Http2StreamState.CLOSED, handler.streamState(), "the client ended its side, berth answered");
    }
}
