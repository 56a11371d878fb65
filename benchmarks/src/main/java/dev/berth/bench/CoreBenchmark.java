package dev.berth.bench;

import dev.berth.server.spi.RequestMetrics;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.server.codec.AliasingInferMarshaller;
import dev.berth.server.codec.OipJson;
import dev.berth.server.codec.OipProto;
import dev.berth.server.codec.RestInferRequest;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * berth's inference core with and without meters: {@code infer} is one request through the core
 * (validation, queue, ONNX Runtime run, output copy); {@code roundTrip} adds what a front end does
 * around it (decode the body, encode the answer, report request metrics), everything of a request
 * but the HTTP server. Compare {@code infer} with {@link OrtCeilingBenchmark} for the core's
 * overhead, and {@code meters=on} with {@code off} for the meters' cost.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class CoreBenchmark {
    @Param({"churn:1", "slow:8", "large:1"})
    public String modelBatch;

    @Param({"off", "on"})
    public String meters;

    @Param({"BINARY"})
    public Payloads.Encoding encoding;

    /**
     * The request's timeout: "none", or a duration such as "30s" (what {@code berth serve}'s default
     * {@code max-request-time} gives every request): the cost of arming and disarming a run's deadline.
     */
    @Param({"none"})
    public String timeout;

    /**
     * Who calls the core: "platform" (JMH's own thread) or "virtual" (a new virtual thread per call,
     * as Helidon runs each request; the thread's start and join are part of the measured time).
     */
    @Param({"platform"})
    public String caller;

    private CoreFixture fixture;
    private InferenceRequest request;
    private RequestMetrics requestMetrics;
    private byte[] body;
    private byte[] grpcMessage;
    private int headerLength;

    @Setup(Level.Trial)
    public void open() throws Exception {
        fixture = new CoreFixture(modelBatch, meters.equals("on"));
        request = fixture.request();
        if (!timeout.equals("none")) {
            request = request.withTimeout(java.time.Duration.parse("PT" + timeout.toUpperCase(java.util.Locale.ROOT)));
        }
        requestMetrics = fixture.metrics != null ? fixture.metrics : RequestMetrics.NOOP;
        Payloads.Encoded encoded = Payloads.encode(fixture.model, fixture.model, fixture.batch, encoding);
        body = encoded.body();
        headerLength = encoded.headerLength();
        grpcMessage = Arrays.copyOfRange(body, 5, body.length);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        fixture.close();
    }

    @Benchmark
    public InferenceResponse infer() throws InterruptedException {
        if (caller.equals("virtual")) {
            InferenceResponse[] answer = new InferenceResponse[1];
            Thread.ofVirtual().start(() -> answer[0] = fixture.core.infer(request)).join();
            return answer[0];
        }
        return fixture.core.infer(request);
    }

    @Benchmark
    public long roundTrip() throws IOException {
        long start = System.nanoTime();
        RequestMetrics.Protocol protocol = encoding == Payloads.Encoding.GRPC ? RequestMetrics.Protocol.GRPC : RequestMetrics.Protocol.REST;
        requestMetrics.requestStarted(protocol);
        long written;
        InferenceResponse response;
        if (encoding == Payloads.Encoding.GRPC) {
            // as the server parses it: in place, over the buffer the message was received into
            OipProto.Decoded decoded = OipProto.readInferRequest(AliasingInferMarshaller.parseAliased(grpcMessage));
            response = fixture.core.infer(decoded.request());
            ModelInferResponse message = OipProto.writeInferResponse(response, decoded.rawResponse());
            message.writeTo(OutputStream.nullOutputStream());
            written = message.getSerializedSize();
        } else {
            RestInferRequest decoded = OipJson.readInferRequest(fixture.model, null, body, headerLength);
            response = fixture.core.infer(decoded.request());
            var encoded = OipJson.writeInferResponse(response, decoded);
            encoded.writeTo(OutputStream.nullOutputStream());
            written = encoded.length();
        }
        requestMetrics.requestFinished(protocol, fixture.model, Integer.toString(response.version()),
                RequestMetrics.Outcome.SUCCESS, System.nanoTime() - start, body.length, written);
        return written;
    }
}
