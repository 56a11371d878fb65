package dev.berth.bench;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelRef;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The models the benchmarks use and where their files are. {@code bench/run} passes the registry it
 * built as {@code -Dberth.bench.models=DIR}; without it the repository's own copies are searched
 * (models/, the server's test resources), so a plain {@code java -jar benchmarks.jar} also works.
 */
public final class BenchModels {
    /** System property naming a registry folder laid out as {@code <name>/<version>/model.onnx}. */
    public static final String MODELS_PROPERTY = "berth.bench.models";
    /** The generated large-tensor model (FP32 identity over [batch, 3, 224, 224]). */
    public static final String LARGE = "large";
    /** bench/run's compute-bound model (bench/heavy-model.py: convolutions, about resnet18's work per image). */
    public static final String HEAVY = "heavy";

    private BenchModels() {
    }

    /** The input shape without its batch axis, for the models the benchmarks know. */
    public static long[] rowShape(String model) {
        return switch (model) {
            case "churn" -> new long[]{8};
            case "digits" -> new long[]{64};
            case "slow", "slow_nobatch" -> new long[]{256};
            case LARGE, HEAVY -> new long[]{3, 224, 224};
            default -> throw new IllegalArgumentException("unknown benchmark model '" + model + "' (churn, digits, slow, large, heavy)");
        };
    }

    /** The full input shape for {@code batch} rows. */
    public static long[] shape(String model, int batch) {
        long[] row = rowShape(model);
        long[] shape = new long[row.length + 1];
        shape[0] = batch;
        System.arraycopy(row, 0, shape, 1, row.length);
        return shape;
    }

    /** The model file: from the registry named by the property, else the repository's copies. */
    public static Path locate(String model) {
        String root = System.getProperty(MODELS_PROPERTY);
        if (root != null && !root.isBlank()) {
            return inRegistry(Path.of(root), model).orElseThrow(() ->
                    new IllegalStateException("no model '" + model + "' in " + root));
        }
        if (model.equals(LARGE)) {
            return writeLarge(Path.of(System.getProperty("java.io.tmpdir"), "berth-bench-large", "model.onnx"));
        }
        Path repo = repositoryRoot();
        List<Path> candidates = new ArrayList<>();
        inRegistry(repo.resolve("models"), model).ifPresent(candidates::add);
        candidates.addAll(find(repo.resolve("server/src/test/resources"), model));
        candidates.add(Path.of("/work/shared/samples", model, "model.onnx"));
        candidates.add(Path.of("/work/shared/samples/testing", model, "model.onnx"));
        return candidates.stream().filter(Files::isRegularFile).findFirst().orElseThrow(() ->
                new IllegalStateException("cannot find model '" + model + "'; pass -D" + MODELS_PROPERTY + "=<registry folder>"));
    }

    /** Writes the large-tensor identity model to {@code file} (once) and returns it. */
    public static Path writeLarge(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                Files.createDirectories(file.getParent());
                Path tmp = Files.createTempFile(file.getParent(), ".large", ".onnx");
                Files.write(tmp, OnnxModelWriter.identity("x", "y", new long[]{-1, 3, 224, 224}));
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * The file of the version a request without a version reaches: {@code production} alias, else the
     * highest version (berth's own resolution), or a bare {@code <root>/<model>/model.onnx}.
     */
    static Optional<Path> inRegistry(Path root, String model) {
        Path dir = root.resolve(model);
        if (Files.isRegularFile(dir.resolve("model.onnx"))) {
            return Optional.of(dir.resolve("model.onnx"));
        }
        LocalRegistry registry = LocalRegistry.open(root);
        if (!registry.exists(model)) {
            return Optional.empty();
        }
        Path file = registry.modelFile(model, registry.resolve(ModelRef.parse(model)));
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    private static List<Path> find(Path dir, String model) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().equals("model.onnx"))
                    .filter(p -> p.getParent().getFileName().toString().equals(model)
                            || p.getParent().getParent().getFileName().toString().equals(model))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("benchmarks"))) {
                return p;
            }
        }
        return dir;
    }
}
