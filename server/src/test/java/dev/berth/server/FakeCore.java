package dev.berth.server;

import dev.berth.registry.DataType;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.ModelMetadata;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import dev.berth.runtime.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small in-test core for the adapter tests: model "echo" (versions 1 and 2, alias production -> 2)
 * returns its inputs unchanged, "loading" exists but is not ready, "boom" fails unexpectedly, and
 * "gate" blocks until released (for shutdown tests). The end-to-end tests use the real ONNX core.
 */
final class FakeCore implements InferenceService {
    final AtomicBoolean ready = new AtomicBoolean(true);
    final AtomicBoolean closed = new AtomicBoolean();
    final AtomicReference<InferenceRequest> last = new AtomicReference<>();
    final List<String> repositoryCalls = new CopyOnWriteArrayList<>();
    final CountDownLatch gateEntered = new CountDownLatch(1);
    final CountDownLatch gateRelease = new CountDownLatch(1);

    @Override
    public boolean live() {
        return true;
    }

    @Override
    public boolean ready() {
        return ready.get();
    }

    private int resolve(String model, String version) {
        if (!List.of("echo", "loading", "boom", "gate").contains(model)) {
            throw new InferenceException.NotFound("no model '" + model + "'");
        }
        if (version == null || version.equals("production") || version.equals("2")) {
            return 2;
        }
        if (version.equals("1")) {
            return 1;
        }
        throw new InferenceException.NotFound("model '" + model + "' has no version or alias '" + version + "'");
    }

    @Override
    public ModelMetadata modelMetadata(String model, String version) {
        resolve(model, version);
        return new ModelMetadata(model, List.of("1", "2"), ModelMetadata.ONNX_PLATFORM,
                List.of(TensorSpec.of("x", DataType.FP32, -1, 3)), List.of(TensorSpec.of("x", DataType.FP32, -1, 3)));
    }

    @Override
    public boolean modelReady(String model, String version) {
        resolve(model, version);
        return !model.equals("loading");
    }

    @Override
    public InferenceResponse infer(InferenceRequest request) {
        int version = resolve(request.model(), request.version());
        last.set(request);
        switch (request.model()) {
            case "loading" -> throw new InferenceException.Unavailable("model 'loading' is not ready");
            case "boom" -> throw new IllegalStateException("secret internal detail");
            case "gate" -> {
                gateEntered.countDown();
                try {
                    gateRelease.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            default -> { }
        }
        List<Tensor> outputs = new ArrayList<>();
        for (Tensor t : request.inputs()) {
            if (request.requestedOutputs().isEmpty() || request.requestedOutputs().contains(t.name())) {
                outputs.add(t);
            }
        }
        for (String wanted : request.requestedOutputs()) {
            if (request.inputs().stream().noneMatch(t -> t.name().equals(wanted))) {
                throw new InferenceException.InvalidInput("model has no output '" + wanted + "'");
            }
        }
        return new InferenceResponse(request.model(), version, request.id(), outputs, 0, 0, 1);
    }

    @Override
    public List<ModelStatus> repositoryIndex() {
        return List.of(new ModelStatus("echo", 1, ModelState.READY, ""),
                new ModelStatus("echo", 2, ModelState.READY, ""),
                new ModelStatus("loading", 1, ModelState.LOADING, "warming up"));
    }

    @Override
    public void load(String model) {
        resolve(model, null);
        repositoryCalls.add("load " + model);
    }

    @Override
    public void unload(String model) {
        resolve(model, null);
        repositoryCalls.add("unload " + model);
    }

    @Override
    public void close() {
        closed.set(true);
    }
}
