package dev.berth.bench;

import dev.berth.runtime.InferenceResponse;
import dev.berth.server.codec.AliasingInferMarshaller;
import dev.berth.server.codec.OipJson;
import dev.berth.server.codec.OipProto;
import dev.berth.server.codec.RestInferRequest;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.MethodDescriptor;
import io.grpc.internal.ReadableBuffers;
import dev.berth.server.grpc.proto.ModelInferResponse;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * berth's wire codecs on their own: a request body to the core's {@code Tensor}s ({@code decode})
 * and the core's answer to the bytes on the wire ({@code encode}), for JSON, JSON with binary
 * tensors, and gRPC. The answer encoded is a real one, from berth's core on the same model.
 * Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the allocation per request.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class CodecBenchmark {
    @Param({"churn:1", "slow:8", "large:1"})
    public String modelBatch;

    @Param({"JSON", "BINARY", "GRPC"})
    public Payloads.Encoding encoding;

    /**
     * How gRPC requests are read: the server's aliasing marshaller, or grpc-java's generated one
     * (pass {@code -p grpcMarshaller=GENERATED,ALIASING} to compare).
     */
    @Param({"ALIASING"})
    public String grpcMarshaller;

    private MethodDescriptor.Marshaller<ModelInferRequest> marshaller;
    private String model;
    private byte[] body;
    private byte[] grpcMessage;
    private int headerLength;
    private RestInferRequest restRequest;
    private InferenceResponse response;

    @Setup(Level.Trial)
    public void prepare() throws Exception {
        try (CoreFixture fixture = new CoreFixture(modelBatch, false)) {
            model = fixture.model;
            Payloads.Encoded encoded = Payloads.encode(model, model, fixture.batch, encoding);
            body = encoded.body();
            headerLength = encoded.headerLength();
            grpcMessage = Arrays.copyOfRange(body, 5, body.length);
            Payloads.Encoded rest = encoding == Payloads.Encoding.GRPC
                    ? Payloads.encode(model, model, fixture.batch, Payloads.Encoding.BINARY) : encoded;
            restRequest = OipJson.readInferRequest(model, null, rest.body(), rest.headerLength());
            response = fixture.core.infer(restRequest.request());
        }
        marshaller = switch (grpcMarshaller) {
            case "ALIASING" -> AliasingInferMarshaller.create();
            case "GENERATED" -> GRPCInferenceServiceGrpc.getModelInferMethod().getRequestMarshaller();
            default -> throw new IllegalArgumentException("grpcMarshaller is ALIASING or GENERATED, got " + grpcMarshaller);
        };
    }

    /**
     * gRPC: the stream grpc-java's deframer gives a request marshaller, a view of the buffers the
     * message arrived in (like the REST body, the received message, not counted here).
     */
    @Benchmark
    public Object decode() {
        if (encoding == Payloads.Encoding.GRPC) {
            InputStream received = ReadableBuffers.openStream(ReadableBuffers.wrap(grpcMessage), true);
            return OipProto.readInferRequest(marshaller.parse(received)).request();
        }
        return OipJson.readInferRequest(model, null, body, headerLength).request();
    }

    /** Encodes into a sink that discards, as the server streams into Helidon's socket buffers. */
    @Benchmark
    public long encode() throws IOException {
        if (encoding == Payloads.Encoding.GRPC) {
            ModelInferResponse message = OipProto.writeInferResponse(response, true);
            message.writeTo(OutputStream.nullOutputStream());
            return message.getSerializedSize();
        }
        var encoded = OipJson.writeInferResponse(response, restRequest);
        encoded.writeTo(OutputStream.nullOutputStream());
        return encoded.length();
    }
}
