package dev.berth.conformance;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.Registration;
import dev.berth.registry.RegistryException;
import dev.berth.runtime.onnx.OnnxSignatureReader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fresh registries for the checks, written through the registry API (one JVM for every model,
 * rather than one {@code berth register} process per model).
 */
final class TestRegistry {
    /** The small test models of {@code src/test/resources/testing}, each with its cases.json. */
    static final List<String> TEST_MODELS = List.of("all_types", "fixed_batch", "multi_io", "scalar_io", "strings");

    private TestRegistry() {
    }

    /** Deletes {@code dir} if it exists and creates it empty. */
    static Path fresh(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        return Files.createDirectories(dir);
    }

    /**
     * Copies the test models out of the class path into {@code copies} (model.onnx and cases.json
     * per folder, what the client scripts read) and registers each as version 1 in {@code registry}.
     */
    static void registerTestModels(Path copies, Path registry) throws IOException {
        fresh(copies);
        LocalRegistry models = LocalRegistry.open(fresh(registry));
        OnnxSignatureReader reader = new OnnxSignatureReader();
        for (String name : TEST_MODELS) {
            Path folder = Files.createDirectories(copies.resolve(name));
            for (String file : List.of("model.onnx", "cases.json")) {
                try (InputStream in = TestRegistry.class.getResourceAsStream("/testing/" + name + "/" + file)) {
                    if (in == null) {
                        throw new IllegalStateException("test resource testing/" + name + "/" + file + " is missing");
                    }
                    Files.copy(in, folder.resolve(file));
                }
            }
            models.register(Registration.builder(name, folder.resolve("model.onnx")).author("berth conformance tests").build(),
                    reader);
        }
    }

    /**
     * Registers {@code cases/<name>/model.onnx} for every name, with the case's inputs as the
     * version's {@code example_request.json} where the case folder has one. A model berth refuses
     * to register is not a reason to stop: its name maps to the refusal in the result.
     */
    static Map<String, String> registerCases(Path cases, List<String> names, Path registry) throws IOException {
        LocalRegistry models = LocalRegistry.open(fresh(registry));
        OnnxSignatureReader reader = new OnnxSignatureReader();
        Map<String, String> refused = new LinkedHashMap<>();
        for (String name : names) {
            Path folder = cases.resolve(name);
            Registration.Builder b = Registration.builder(name, folder.resolve("model.onnx")).author("ONNX backend node test");
            Path example = folder.resolve("example_request.json");
            if (Files.isRegularFile(example)) {
                b.artifact(example);
            }
            try {
                models.register(b.build(), reader);
            } catch (RegistryException | UncheckedIOException e) {
                refused.put(name, e.getMessage());
            }
        }
        return refused;
    }
}
