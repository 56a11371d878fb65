package dev.berth.runtime.onnx;

import dev.berth.registry.AtomicFiles;
import dev.berth.registry.DataType;
import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a version's manifest adds: column names and labels in the metadata, and its own serving config. */
class ManifestTest {
    @TempDir
    Path root;

    @Test
    void manifestSignatureEnrichesMetadataAndItsServingConfigApplies() throws Exception {
        TestModels.addVersion(root, "churn", 1, "churn");
        Path dir = root.resolve("churn/1");
        Path model = dir.resolve("model.onnx");
        List<String> columns = List.of("tenure_months", "monthly_charges", "total_charges", "contract_months",
                "support_calls", "paperless_billing", "senior_citizen", "fiber_optic");
        Signature recorded = new Signature(
                List.of(new TensorSpec("features", DataType.FP32, List.of(-1L, 8L), columns, List.of())),
                List.of(new TensorSpec("probabilities", DataType.FP32, List.of(-1L, 2L), List.of(), List.of("stays", "churns")),
                        TensorSpec.of("label", DataType.INT64, -1)));
        ServingConfig noBatching = ServingConfig.builder().dynamicBatching(false).sessions(2).build();
        ModelManifest manifest = new ModelManifest(null, "churn", 1, Instant.parse("2026-01-01T00:00:00Z"), "", "", Map.of(),
                List.of(new FileEntry("model.onnx", Files.size(model), AtomicFiles.sha256(model))), recorded,
                Map.of(), Map.of(), null, null, List.of(), noBatching);
        AtomicFiles.write(dir.resolve(LocalRegistry.MANIFEST_FILE), RegistryJson.mapper().writeValueAsBytes(manifest));

        try (var service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO))) {
            var metadata = service.modelMetadata("churn", "1");
            assertEquals(columns, metadata.inputs().get(0).columns());
            assertEquals(List.of("stays", "churns"), metadata.outputs().get(0).labels());
            assertEquals(List.of(-1L, 2L), metadata.outputs().get(0).shape(), "shapes still come from the session");

            List<InferenceResponse> responses = BatchingTest.runConcurrently(16, caller -> service.infer(
                    new InferenceRequest("churn", null, null, List.of(ValidationTest.features(1, 8)), List.of(), Map.of())));
            assertTrue(responses.stream().allMatch(r -> r.batchRows() == 1), "the version's own config turned batching off");
        }
    }
}
