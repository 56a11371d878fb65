package dev.berth.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import dev.berth.server.codec.OipJson;
import dev.berth.server.codec.RestInferRequest;
import org.openjdk.jmh.annotations.AuxCounters;
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
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Big JSON tensors: MB/s of JSON text decoded into a core request ({@code decodeBerth}, berth's
 * streaming reader) against Jackson's tree parser on the same text ({@code decodeJacksonTree}, the
 * baseline a Jackson user gets), and MB/s of JSON text written from an FP32 answer
 * ({@code encodeBerth}) against Jackson's {@code ObjectMapper} writing the same {@code float[]}
 * ({@code encodeJackson}); {@code tokensJackson} is Jackson's tokenizer alone on the same text. The {@code mb} counter is the figure: megabytes of JSON text per second,
 * one thread (one core). Run with {@code -prof gc} for the allocation per request.
 *
 * <p>{@code numbers}: {@code python} writes each value as Python's {@code json.dumps} writes a NumPy
 * float32 array's {@code tolist()} (the float widened to a double, shortest double form, up to 17
 * digits), the common client; {@code java} as {@code Float.toString} (shortest float form, about 9
 * digits), which is what berth itself writes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class JsonTensorBenchmark {
    /** FP32 elements of the tensor: 1x3x224x224 by default. */
    @Param({"150528"})
    public int elements;

    @Param({"python", "java"})
    public String numbers;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private byte[] body;
    private float[] values;
    private InferenceResponse response;
    private RestInferRequest request;
    private int encodedLength;

    /** Megabytes of JSON text handled, as a rate (JMH reports it per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Text {
        public double mb;
    }

    @Setup(Level.Trial)
    public void prepare() throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        values = new float[elements];
        StringBuilder json = new StringBuilder(elements * 20);
        json.append("{\"inputs\": [{\"name\": \"x\", \"shape\": [1, ").append(elements).append("], \"datatype\": \"FP32\", \"data\": [");
        for (int i = 0; i < elements; i++) {
            float v = (float) (random.nextGaussian() * 2);
            values[i] = v;
            if (i > 0) {
                json.append(", ");
            }
            // Python writes exponents in lower case (1e-05); Java's 1.0E-5 is the same number for a JSON parser
            json.append(numbers.equals("python") ? Double.toString(v).toLowerCase(Locale.ROOT) : Float.toString(v));
        }
        json.append("]}]}");
        body = json.toString().getBytes(StandardCharsets.UTF_8);
        request = OipJson.readInferRequest("x", null, body, -1);
        ByteBuffer data = ByteBuffer.allocate(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        data.flip();
        response = new InferenceResponse("x", 1, null, List.of(Tensor.ofRaw("y", DataType.FP32, new long[] {1, elements}, data)), 0, 0, 1);
        var encoded = OipJson.writeInferResponse(response, request);
        encodedLength = (int) encoded.length();
    }

    @Benchmark
    public Object decodeBerth(Text text) {
        text.mb += body.length / 1e6;
        return OipJson.readInferRequest("x", null, body, -1).request();
    }

    @Benchmark
    public Object decodeJacksonTree(Text text) throws IOException {
        text.mb += body.length / 1e6;
        return MAPPER.readTree(body);
    }

    /**
     * Jackson's streaming tokenizer alone over the same text: every token, no number converted. The
     * floor of any decoder built on Jackson's parser, to show where decodeBerth's time goes.
     */
    @Benchmark
    public long tokensJackson(Text text) throws IOException {
        text.mb += body.length / 1e6;
        long tokens = 0;
        try (com.fasterxml.jackson.core.JsonParser p = MAPPER.getFactory().createParser(body)) {
            while (p.nextToken() != null) {
                tokens++;
            }
        }
        return tokens;
    }

    @Benchmark
    public long encodeBerth(Text text) throws IOException {
        var encoded = OipJson.writeInferResponse(response, request);
        encoded.writeTo(OutputStream.nullOutputStream());
        text.mb += encoded.length() / 1e6;
        return encoded.length();
    }

    @Benchmark
    public long encodeJackson(Text text) throws IOException {
        byte[] out = MAPPER.writeValueAsBytes(values);
        text.mb += out.length / 1e6;
        return out.length + encodedLength;
    }
}
