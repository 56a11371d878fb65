package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.monitoring.BerthMetrics;
import dev.berth.monitoring.Exposition;
import dev.berth.registry.LocalRegistry;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.InferParameter;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same requests, good and bad, over REST and over gRPC against one real server (churn:1 on the
 * ONNX Runtime core, real monitoring): each pair gets the same outcome, the same error message, and
 * the same request meters, series by series, with only the {@code protocol} label apart.
 */
class FrontEndParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The memory ceiling of one request's tensors: 32 rows of churn's 8 FP32 features. */
    private static final long MAX_TENSOR_BYTES = 1024;

    private static final String NAMES_ITS_FIELD = "values do not fill the shape";

    @TempDir
    Path models;

    /**
     * One request, written once and sent in both encodings.
     *
     * @param timeoutMicros Triton's {@code timeout} parameter, or null for none
     */
    record Case(String what, String model, String version, String datatype, long[] shape, int values, Long timeoutMicros,
                int httpStatus, Status.Code grpcStatus) {
        String restPath() {
            return "/v2/models/" + model + (version == null ? "" : "/versions/" + version) + "/infer";
        }

        String restBody() {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < values; i++) {
                data.append(i == 0 ? "" : ",").append(i % 7);
            }
            StringBuilder dims = new StringBuilder();
            for (long d : shape) {
                dims.append(dims.isEmpty() ? "" : ",").append(d);
            }
            return "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"" + datatype + "\",\"shape\":[" + dims
                    + "],\"data\":[" + data + "]}]"
                    + (timeoutMicros == null ? "" : ",\"parameters\":{\"timeout\":" + timeoutMicros + "}") + "}";
        }

        ModelInferRequest grpc() {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            for (int i = 0; i < values; i++) {
                contents.addFp32Contents(i % 7);
            }
            ModelInferRequest.InferInputTensor.Builder in = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("features").setDatatype(datatype).setContents(contents);
            for (long d : shape) {
                in.addShape(d);
            }
            ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).addInputs(in);
            if (version != null) {
                b.setModelVersion(version);
            }
            if (timeoutMicros != null) {
                b.putParameters("timeout", InferParameter.newBuilder().setInt64Param(timeoutMicros).build());
            }
            return b.build();
        }
    }

    private static List<Case> cases() {
        long[] row = {1, 8};
        return List.of(
                new Case("good", "churn", null, "FP32", row, 8, null, 200, Status.Code.OK),
                new Case("good, by version", "churn", "1", "FP32", new long[] {2, 8}, 16, null, 200, Status.Code.OK),
                new Case("unknown model", "no-such-model", null, "FP32", row, 8, null, 404, Status.Code.NOT_FOUND),
                new Case("unknown version", "churn", "7", "FP32", row, 8, null, 404, Status.Code.NOT_FOUND),
                new Case("unknown alias", "churn", "canary", "FP32", row, 8, null, 404, Status.Code.NOT_FOUND),
                new Case("bad datatype", "churn", null, "FP99", row, 8, null, 400, Status.Code.INVALID_ARGUMENT),
                new Case("bad datatype, unknown model", "nope", null, "FP99", row, 8, null, 404, Status.Code.NOT_FOUND),
                new Case("wrong shape", "churn", "1", "FP32", new long[] {1, 3}, 3, null, 400, Status.Code.INVALID_ARGUMENT),
                new Case(NAMES_ITS_FIELD, "churn", null, "FP32", row, 5, null, 400, Status.Code.INVALID_ARGUMENT),
                new Case("tensors over the memory ceiling", "churn", null, "FP32", new long[] {64, 8}, 512, null,
                        413, Status.Code.RESOURCE_EXHAUSTED),
                new Case("timeout passed", "churn", null, "FP32", row, 8, 1L, 504, Status.Code.DEADLINE_EXCEEDED),
                new Case("timeout not a duration", "churn", null, "FP32", row, 8, -1L, 400, Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void bothFrontEndsAnswerAndCountTheSame() throws Exception {
        Churn.copyChurn(models);
        BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(models))
                .reportInterval(Duration.ofHours(1)).jvmMetrics(false).build();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        // closed after the server (reverse order): its last report is written before the temporary folder goes
        try (metrics; BerthServer server = BerthServer.builder().models(models).port(0)
                .maxTensorBytes(MAX_TENSOR_BYTES).monitoring(metrics).build().start()) {
            Churn.awaitReady(server, "churn");
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            List<String> mismatches = new ArrayList<>();
            try {
                var grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel);
                for (Case c : cases()) {
                    HttpResponse<String> rest = http.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + server.port() + c.restPath()))
                            .POST(HttpRequest.BodyPublishers.ofString(c.restBody())).build(), HttpResponse.BodyHandlers.ofString());
                    Status.Code grpcCode = Status.Code.OK;
                    String grpcMessage = null;
                    try {
                        grpc.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(c.grpc());
                    } catch (StatusRuntimeException e) {
                        grpcCode = e.getStatus().getCode();
                        grpcMessage = e.getStatus().getDescription();
                    }
                    assertEquals(c.httpStatus(), rest.statusCode(), c.what() + ": " + rest.body());
                    assertEquals(c.grpcStatus(), grpcCode, c.what() + ": " + grpcMessage);
                    JsonNode error = JSON.readTree(rest.body()).get("error");
                    String restMessage = error == null ? null : error.asText();
                    if (c.what().equals(NAMES_ITS_FIELD)) {
                        // a decoding error names the field the client wrote, which each encoding spells its own way
                        String common = "input 'features' has shape [1, 8] (8 elements) but 5 ";
                        assertTrue(restMessage.startsWith(common + "data elements"), restMessage);
                        assertTrue(grpcMessage.startsWith(common + "fp32_contents values"), grpcMessage);
                    } else if (!Objects.equals(restMessage, grpcMessage)) {
                        mismatches.add(c.what() + ":\n  REST: " + restMessage + "\n  gRPC: " + grpcMessage);
                    }
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            assertTrue(mismatches.isEmpty(), "error messages differ:\n" + String.join("\n", mismatches));

            Exposition e = Exposition.parse(http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
            for (String meter : List.of("berth_requests_total", "berth_request_duration_seconds_count",
                    "berth_request_payload_bytes_count", "berth_response_payload_bytes_count")) {
                Map<String, Double> rest = byLabels(e, meter, "rest");
                Map<String, Double> grpc = byLabels(e, meter, "grpc");
                assertFalse(rest.isEmpty(), meter + " has REST series");
                assertEquals(rest, grpc, meter + ", REST against gRPC");
            }
            // a failure records no response bytes on either protocol: where nothing succeeded, nothing was answered
            for (String protocol : List.of("rest", "grpc")) {
                for (String[] series : List.of(new String[] {BerthMetrics.UNKNOWN_MODEL, ""}, new String[] {"churn", ""})) {
                    assertEquals(0, e.value("berth_response_payload_bytes_sum", "model", series[0], "version", series[1],
                            "protocol", protocol), protocol + " " + String.join(":", series));
                }
            }
            // one success series per protocol and version, failures where a version answered under it
            assertEquals(2, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "grpc",
                    "outcome", "success"));
            assertEquals(2, e.value("berth_response_payload_bytes_count", "model", "churn", "version", "1",
                    "protocol", "rest"), "only answered inferences record response bytes");
        }
    }

    /** A meter's series of one protocol, keyed by their other labels. */
    private static Map<String, Double> byLabels(Exposition e, String meter, String protocol) {
        Map<String, Double> out = new TreeMap<>();
        for (Exposition.Sample s : e.find(meter, "protocol", protocol)) {
            Map<String, String> labels = new TreeMap<>(s.labels());
            labels.remove("protocol");
            out.put(labels.toString(), s.value());
        }
        return out;
    }
}
