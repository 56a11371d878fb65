package dev.berth.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Request bodies for the load generators: Open Inference Protocol JSON, JSON with Triton's binary
 * tensor extension, and gRPC {@code ModelInferRequest} messages in gRPC's length-prefixed framing
 * (what h2load sends as the body of an HTTP/2 POST). Each body {@code NAME.body} comes with
 * {@code NAME.headers}, the request headers it needs, one {@code Name: value} per line.
 */
public final class Payloads {
    /** How a request carries its tensors. */
    public enum Encoding { JSON, BINARY, GRPC }

    private Payloads() {
    }

    /** The model's input and output names, as the samples and generated models declare them. */
    static String inputName(String model) {
        return switch (model) {
            case "churn" -> "features";
            case "digits" -> "pixels";
            default -> "x";
        };
    }

    static String outputName(String model) {
        return switch (model) {
            case "churn", "digits" -> "probabilities";
            default -> "y";
        };
    }

    /** An encoded request: the body, its request headers, and the JSON header's length (-1: all JSON). */
    public record Encoded(byte[] body, String headers, int headerLength) {
    }

    /** Writes {@code NAME.body} and {@code NAME.headers} into {@code dir}. */
    public static void write(Path dir, String name, String servedAs, String model, int batch, Encoding encoding) throws IOException {
        Encoded e = encode(servedAs, model, batch, encoding);
        Files.createDirectories(dir);
        Files.write(dir.resolve(name + ".body"), e.body());
        Files.writeString(dir.resolve(name + ".headers"), e.headers());
    }

    /** The request for {@code batch} rows of {@link BenchData}'s values, to the model served as {@code servedAs}. */
    public static Encoded encode(String servedAs, String model, int batch, Encoding encoding) {
        long[] shape = BenchModels.shape(model, batch);
        float[] values = BenchData.values(model, BenchData.elements(shape));
        return switch (encoding) {
            case JSON -> new Encoded(json(model, shape, values).getBytes(StandardCharsets.UTF_8), "Content-Type: application/json\n", -1);
            case BINARY -> {
                byte[] raw = BenchData.littleEndian(values);
                byte[] header = binaryHeader(model, shape, raw.length).getBytes(StandardCharsets.UTF_8);
                byte[] body = ByteBuffer.allocate(header.length + raw.length).put(header).put(raw).array();
                yield new Encoded(body, "Content-Type: application/octet-stream\nInference-Header-Content-Length: " + header.length + "\n",
                        header.length);
            }
            case GRPC -> new Encoded(grpcFrame(grpcRequest(servedAs, model, shape, BenchData.littleEndian(values))),
                    "content-type: application/grpc\nte: trailers\n", -1);
        };
    }

    static String json(String model, long[] shape, float[] values) {
        StringBuilder sb = new StringBuilder(values.length * 12 + 128);
        sb.append("{\"id\":\"bench\",\"inputs\":[{\"name\":\"").append(inputName(model)).append("\",\"shape\":")
                .append(shapeJson(shape)).append(",\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(values[i]);
        }
        return sb.append("]}]}").toString();
    }

    static String binaryHeader(String model, long[] shape, int rawBytes) {
        return "{\"id\":\"bench\",\"inputs\":[{\"name\":\"" + inputName(model) + "\",\"shape\":" + shapeJson(shape)
                + ",\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + rawBytes + "}}],"
                + "\"outputs\":[{\"name\":\"" + outputName(model) + "\",\"parameters\":{\"binary_data\":true}}]}";
    }

    /** inference.ModelInferRequest (field numbers of the public open_inference_grpc.proto). */
    static byte[] grpcRequest(String servedAs, String model, long[] shape, byte[] raw) {
        ProtoWriter input = new ProtoWriter()
                .string(1, inputName(model))   // InferInputTensor.name
                .string(2, "FP32")             // datatype
                .packedInt64(3, shape);        // shape
        ProtoWriter output = new ProtoWriter().string(1, outputName(model)); // InferRequestedOutputTensor.name
        return new ProtoWriter()
                .string(1, servedAs)           // model_name
                .string(3, "bench")            // id
                .message(5, input)             // inputs
                .message(6, output)            // outputs
                .bytes(7, raw)                 // raw_input_contents
                .toByteArray();
    }

    /** gRPC's message framing: compressed flag 0, 4-byte big-endian length, message. */
    static byte[] grpcFrame(byte[] message) {
        return ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
    }

    private static String shapeJson(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? "," : "").append(shape[i]);
        }
        return sb.append(']').toString();
    }

    /**
     * {@code payloads DIR NAME=SERVED_AS:MODEL:BATCH:ENCODING...}, for example
     * {@code slow8-grpc=slow:slow:8:grpc}.
     */
    static void main(List<String> args) throws IOException {
        Path dir = Path.of(args.get(0));
        for (String spec : args.subList(1, args.size())) {
            String[] kv = spec.split("=", 2);
            String[] p = kv[1].split(":");
            write(dir, kv[0], p[0], p[1], Integer.parseInt(p[2]), Encoding.valueOf(p[3].toUpperCase(java.util.Locale.ROOT)));
        }
    }
}
