package dev.berth.packager;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.berth.registry.AliasTarget;
import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.VersionPolicy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A registry folder holding the churn sample (from test resources) as versions 1..n, laid down
 * in berth's registry format: files, manifest with hashes, metrics and requirements, model.json.
 */
final class ChurnRegistry {
    static final String NAME = "churn";
    private static final List<String> ARTIFACTS = List.of("metrics.json", "requirements.txt", "hyperparameters.json");

    private ChurnRegistry() {
    }

    static LocalRegistry create(Path root, int versions) throws IOException {
        for (int v = 1; v <= versions; v++) {
            Path dir = Files.createDirectories(root.resolve(NAME).resolve(Integer.toString(v)));
            copy("model.onnx", dir);
            List<FileEntry> artifacts = new ArrayList<>();
            for (String a : ARTIFACTS) {
                copy(a, dir);
                artifacts.add(entry(dir, a));
            }
            Map<String, Object> metrics = RegistryJson.mapper().readValue(dir.resolve("metrics.json").toFile(), new TypeReference<>() {
            });
            Map<String, Object> params = RegistryJson.mapper().readValue(dir.resolve("hyperparameters.json").toFile(), new TypeReference<>() {
            });
            List<String> requirements = Files.readAllLines(dir.resolve("requirements.txt")).stream().filter(l -> !l.isBlank()).toList();
            ModelManifest manifest = new ModelManifest(null, NAME, v, Instant.parse("2026-01-0" + v + "T10:00:00Z"), "tests",
                    "Customer churn classifier, version " + v, Map.of("team", "growth"), List.of(entry(dir, "model.onnx")), null,
                    metrics, params, new ModelManifest.Dependencies("requirements.txt", requirements, Map.of("onnxruntime", "1.23.2")),
                    null, artifacts, null);
            Files.write(dir.resolve(LocalRegistry.MANIFEST_FILE), RegistryJson.mapper().writeValueAsBytes(manifest));
        }
        ModelInfo info = new ModelInfo(NAME, "Customer churn", Map.of(ModelInfo.PRODUCTION, AliasTarget.single(1)), VersionPolicy.all(), null);
        Files.write(root.resolve(NAME).resolve(LocalRegistry.MODEL_INFO_FILE), RegistryJson.mapper().writeValueAsBytes(info));
        return LocalRegistry.open(root);
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = ChurnRegistry.class.getResourceAsStream("/churn/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource churn/" + name);
            }
            return in.readAllBytes();
        }
    }

    private static void copy(String name, Path dir) throws IOException {
        Files.write(dir.resolve(name), resource(name));
    }

    private static FileEntry entry(Path dir, String name) throws IOException {
        Path file = dir.resolve(name);
        return new FileEntry(name, Files.size(file), DependencyManifest.sha256(file));
    }
}
