package dev.berth.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.http.WritableHeaders;
import io.helidon.http.http2.Http2ErrorCode;
import io.helidon.http.http2.Http2Flag;
import io.helidon.http.http2.Http2FrameHeader;
import io.helidon.http.http2.Http2FrameTypes;
import io.helidon.http.http2.Http2Headers;
import io.helidon.http.http2.Http2RstStream;
import io.helidon.http.http2.Http2Settings;
import io.helidon.http.http2.Http2StreamState;
import io.helidon.http.http2.Http2StreamWriter;
import io.helidon.http.http2.Http2WindowUpdate;
import io.helidon.http.http2.StreamFlowControl;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.Router;
import io.helidon.webserver.http2.spi.Http2SubProtocolSelector;
import io.helidon.webserver.http2.spi.SubProtocolResult;

/**
 * Puts berth's request size limit in front of Helidon's gRPC handler. Helidon refuses a message over
 * its read buffer by dropping it and then misreading the rest of the stream (the client sees INTERNAL
 * "Too many requests"); Helidon has no setting to change that answer. This wrapper reads each message's
 * 5-byte length prefix as the DATA frames arrive and, when a message announces more than the limit,
 * answers RESOURCE_EXHAUSTED naming the limit before anything is buffered, cancels the call inside
 * Helidon and drops the stream's remaining data. Everything else passes through untouched.
 */
final class GrpcMessageLimit implements Http2SubProtocolSelector {
    /** gRPC's code for RESOURCE_EXHAUSTED, the status for a message over the receiver's limit. */
    private static final int RESOURCE_EXHAUSTED = 8;
    private static final int PREFIX_BYTES = 5;

    private final Http2SubProtocolSelector grpc;
    private final long maxMessageBytes;

    GrpcMessageLimit(Http2SubProtocolSelector grpc, long maxMessageBytes) {
        this.grpc = grpc;
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public SubProtocolResult subProtocol(ConnectionContext ctx, HttpPrologue prologue, Http2Headers headers,
                                         Http2StreamWriter streamWriter, int streamId, Http2Settings serverSettings,
                                         Http2Settings clientSettings, StreamFlowControl flowControl,
                                         Http2StreamState currentStreamState, Router router) {
        SubProtocolResult result = grpc.subProtocol(ctx, prologue, headers, streamWriter, streamId, serverSettings,
                clientSettings, flowControl, currentStreamState, router);
        if (!result.supported()) {
            return result;
        }
        return new SubProtocolResult(true, new Limited(result.subProtocol(), streamWriter, streamId, flowControl));
    }

    private final class Limited implements SubProtocolHandler {
        private final SubProtocolHandler delegate;
        private final Http2StreamWriter writer;
        private final int streamId;
        private final StreamFlowControl flowControl;
        // framing state of the request stream: bytes of the length prefix seen, and of the message body still to come
        private final byte[] prefix = new byte[PREFIX_BYTES];
        private int prefixSeen;
        private long bodyLeft;
        private boolean refused;
        private Http2StreamState refusedState = Http2StreamState.HALF_CLOSED_LOCAL;

        Limited(SubProtocolHandler delegate, Http2StreamWriter writer, int streamId, StreamFlowControl flowControl) {
            this.delegate = delegate;
            this.writer = writer;
            this.streamId = streamId;
            this.flowControl = flowControl;
        }

        @Override
        public void init() {
            delegate.init();
        }

        @Override
        public Http2StreamState streamState() {
            return refused ? refusedState : delegate.streamState();
        }

        @Override
        public void rstStream(Http2RstStream rstStream) {
            if (refused) {
                refusedState = Http2StreamState.CLOSED;
                return;
            }
            delegate.rstStream(rstStream);
        }

        @Override
        public void windowUpdate(Http2WindowUpdate windowUpdate) {
            delegate.windowUpdate(windowUpdate);
        }

        @Override
        public void data(Http2FrameHeader header, BufferData data) {
            if (refused) {
                if (header.flags(Http2FrameTypes.DATA).endOfStream()) {
                    refusedState = Http2StreamState.CLOSED;
                }
                return;
            }
            long announced = scan(data);
            if (announced < 0) {
                delegate.data(header, data);
                return;
            }
            refuse(announced);
            if (header.flags(Http2FrameTypes.DATA).endOfStream()) {
                refusedState = Http2StreamState.CLOSED;
            }
        }

        /** Follows the message framing through this frame; the announced size of a message over the limit, else -1. */
        private long scan(BufferData data) {
            int available = data.available();
            int i = 0;
            while (i < available) {
                if (bodyLeft > 0) {
                    long step = Math.min(bodyLeft, available - i);
                    bodyLeft -= step;
                    i += (int) step;
                    continue;
                }
                prefix[prefixSeen++] = (byte) data.get(i++);
                if (prefixSeen == PREFIX_BYTES) {
                    prefixSeen = 0;
                    long length = ((prefix[1] & 0xFFL) << 24) | ((prefix[2] & 0xFFL) << 16)
                            | ((prefix[3] & 0xFFL) << 8) | (prefix[4] & 0xFFL);
                    if (length > maxMessageBytes) {
                        return length;
                    }
                    bodyLeft = length;
                }
            }
            return -1;
        }

        private void refuse(long announced) {
            refused = true;
            // let Helidon's call end (the service never sees a message) before the stream is answered
            delegate.rstStream(new Http2RstStream(Http2ErrorCode.CANCEL));
            WritableHeaders<?> trailers = WritableHeaders.create();
            trailers.set(HeaderValues.create(HeaderNames.CONTENT_TYPE, "application/grpc"));
            trailers.set(HeaderValues.create(HeaderNames.create("grpc-status"), RESOURCE_EXHAUSTED));
            // plain ASCII without '%', so no percent-encoding is needed
            trailers.set(HeaderValues.create(HeaderNames.create("grpc-message"), "gRPC message of " + announced
                    + " bytes exceeds the limit of " + maxMessageBytes + " bytes (max-request-bytes)"));
            Http2Headers http2 = Http2Headers.create(trailers).status(Status.OK_200);
            writer.writeHeaders(http2, streamId, Http2Flag.HeaderFlags.create(Http2Flag.END_OF_HEADERS | Http2Flag.END_OF_STREAM),
                    flowControl.outbound());
        }
    }
}
