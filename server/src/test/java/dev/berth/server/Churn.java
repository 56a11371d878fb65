package dev.berth.server;

import com.google.protobuf.ByteString;
import dev.berth.server.grpc.proto.ModelInferRequest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The churn sample of models/ as tests serve it: copies of it, its example rows, requests for it in both encodings. */
public final class Churn {
    private Churn() {
    }

    public static final Path CHURN = Path.of("..", "models", "churn");
    /** Two rows of the churn training data (the sample's example request). */
    public static final float[] EXAMPLE = {43.0f, 66.39f, 2809.13f, 1.0f, 1.0f, 1.0f, 0.0f, 1.0f,
            24.0f, 43.58f, 1083.49f, 24.0f, 5.0f, 0.0f, 0.0f, 1.0f};

    /** Copies churn:1 only (no model.json), so it is the model's one version and its default. */
    public static void copyChurn(Path models) throws IOException {
        Path source = CHURN.resolve("1");
        Path target = models.resolve("churn").resolve("1");
        try (var files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.toString().contains("/monitoring/")) {
                    Files.copy(p, to);
                }
            }
        }
    }

    public static String inferBody(float[] values) {
        StringBuilder data = new StringBuilder();
        for (float v : values) {
            data.append(data.isEmpty() ? "" : ",").append(v);
        }
        return "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[" + values.length / 8 + ",8],\"data\":[" + data + "]}]}";
    }

    public static ModelInferRequest grpcRequest(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return ModelInferRequest.newBuilder().setModelName("churn")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(values.length / 8).addShape(8))
                .addRawInputContents(ByteString.copyFrom(b.array())).build();
    }

    public static void awaitReady(BerthServer server, String model) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            try {
                if (server.inferenceService().modelReady(model, null)) {
                    return;
                }
            } catch (RuntimeException e) {
                // not in the index yet
            }
            assertTrue(System.nanoTime() < deadline, model + " did not load in time");
            Thread.sleep(50);
        }
    }
}
