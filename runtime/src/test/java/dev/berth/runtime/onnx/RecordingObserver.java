package dev.berth.runtime.onnx;

import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/** Keeps what the core reported, for assertions. */
final class RecordingObserver implements InferenceObserver {
    record Batch(String model, int version, int rows, int requests) {
    }

    record Load(String model, int version, Throwable failure) {
    }

    final ConcurrentLinkedQueue<Batch> batches = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Load> loads = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> unloads = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Load> refusedReloads = new ConcurrentLinkedQueue<>();
    final AtomicInteger completed = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicInteger reloads = new AtomicInteger();

    @Override
    public void requestCompleted(String model, int version, List<Tensor> inputs, InferenceResponse response, Throwable failure) {
        (failure == null ? completed : failed).incrementAndGet();
    }

    @Override
    public void batchExecuted(String model, int version, int rows, int requests, long computeNanos) {
        batches.add(new Batch(model, version, rows, requests));
    }

    @Override
    public void modelReloadRefused(String model, int version, long nanos, Throwable failure) {
        refusedReloads.add(new Load(model, version, failure));
    }

    @Override
    public void modelLoaded(String model, int version, long nanos, Throwable failure) {
        loads.add(new Load(model, version, failure));
    }

    @Override
    public void modelUnloaded(String model, int version) {
        unloads.add(model + ":" + version);
    }

    @Override
    public void registryReloaded() {
        reloads.incrementAndGet();
    }
}
