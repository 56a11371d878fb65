package dev.berth.monitoring;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Test registries shaped like the churn sample (its input signature and column names), with a
 * generated training table so the tests need no files from outside the repository.
 */
final class Fixtures {
    static final List<String> CHURN_COLUMNS = List.of("tenure_months", "monthly_charges", "total_charges",
            "contract_months", "support_calls", "paperless_billing", "senior_citizen", "fiber_optic");

    private Fixtures() {
    }

    /** A registry holding churn:1 with its signature's column names and the processed training data copied in. */
    static LocalRegistry churnRegistry(Path root) throws IOException {
        Path version = root.resolve("churn/1");
        Files.createDirectories(version.resolve("data"));
        StringBuilder csv = new StringBuilder(String.join(",", CHURN_COLUMNS)).append(",churned\n");
        for (float[] row : churnRows()) {
            for (float v : row) {
                csv.append(v).append(',');
            }
            csv.append(row[4] > 3 ? 1 : 0).append('\n');
        }
        Files.writeString(version.resolve("data/processed_customer_data.csv"), csv);
        TensorSpec features = new TensorSpec("features", DataType.FP32, List.of(-1L, 8L), CHURN_COLUMNS, List.of());
        Signature signature = new Signature(List.of(features), List.of(
                TensorSpec.of("probabilities", DataType.FP32, -1, 2), TensorSpec.of("label", DataType.INT64, -1)));
        ModelManifest manifest = new ModelManifest(null, "churn", 1, Instant.parse("2026-11-01T00:00:00Z"), "test", "",
                Map.of(), List.of(new dev.berth.registry.FileEntry("model.onnx", 0, "0".repeat(64))),
                signature, Map.of(), Map.of(), null,
                new ModelManifest.Lineage(List.of(new ModelManifest.DataRef("processed", "data/processed_customer_data.csv", null, null, null)), null, Map.of()),
                List.of(), null);
        Files.write(version.resolve(LocalRegistry.MANIFEST_FILE), RegistryJson.mapper().writeValueAsBytes(manifest));
        return LocalRegistry.open(root);
    }

    /** 3,000 training rows like churn's: continuous, count and 0/1 columns, from a fixed seed. */
    static List<float[]> churnRows() {
        java.util.Random random = new java.util.Random(42);
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            float tenure = 1 + random.nextInt(72);
            float monthly = (float) (20 + 100 * random.nextDouble());
            int[] contracts = {1, 12, 24};
            rows.add(new float[]{tenure, monthly, tenure * monthly, contracts[random.nextInt(3)],
                    (float) Math.min(10, Math.floor(-Math.log(1 - random.nextDouble()) * 1.5)),
                    random.nextDouble() < 0.6 ? 1 : 0, random.nextDouble() < 0.16 ? 1 : 0, random.nextDouble() < 0.44 ? 1 : 0});
        }
        return rows;
    }

    static Tensor features(List<float[]> rows) {
        ByteBuffer b = ByteBuffer.allocate(rows.size() * 8 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] r : rows) {
            for (float v : r) {
                b.putFloat(v);
            }
        }
        b.flip();
        return Tensor.ofRaw("features", DataType.FP32, new long[]{rows.size(), 8}, b);
    }
}
