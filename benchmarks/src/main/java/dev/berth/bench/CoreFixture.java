package dev.berth.bench;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.onnx.OnnxInferenceService;
import dev.berth.server.codec.OipJson;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * berth's inference core on a private registry holding one benchmark model (as version 1), with or
 * without the Micrometer meters berth serve installs. Registry polling is off: a benchmark must
 * not measure file system scans.
 */
final class CoreFixture implements AutoCloseable {
    final String model;
    final int batch;
    final Path registryDir;
    final OnnxInferenceService core;
    final BerthMetrics metrics;

    CoreFixture(String modelBatch, boolean meters) throws Exception {
        String[] parts = modelBatch.split(":");
        model = parts[0];
        batch = Integer.parseInt(parts[1]);
        registryDir = Files.createTempDirectory("berth-bench-core");
        Path version = registryDir.resolve(model).resolve("1");
        Files.createDirectories(version);
        Files.copy(BenchModels.locate(model), version.resolve("model.onnx"));
        LocalRegistry registry = LocalRegistry.open(registryDir);
        metrics = meters ? BerthMetrics.builder().jvmMetrics(true).build() : null;
        core = OnnxInferenceService.builder()
                .registry(registry)
                .observer(meters ? metrics : InferenceObserver.NOOP)
                .pollInterval(Duration.ZERO)
                .build();
        if (!core.awaitInitialLoad(Duration.ofMinutes(2)) || !core.ready()) {
            throw new IllegalStateException(model + " did not load: " + core.repositoryIndex());
        }
    }

    /** The benchmark's request, decoded from the JSON body a client sends. */
    InferenceRequest request() {
        byte[] body = Payloads.encode(model, model, batch, Payloads.Encoding.JSON).body();
        return OipJson.readInferRequest(model, null, body, -1).request();
    }

    @Override
    public void close() throws IOException {
        core.close();
        if (metrics != null) {
            metrics.close();
        }
        try (Stream<Path> files = Files.walk(registryDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
