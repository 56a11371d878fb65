package dev.berth.monitoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.concurrent.TimeUnit;

/**
 * What the inference core sees: time waiting for a batch or a session, time in the ONNX Runtime run,
 * rows per executed batch and rows inferred, labelled {@code model} and {@code version} (the core does
 * not know the protocol).
 */
final class InferenceMeterBinder implements MeterBinder {
    static final String QUEUE = "berth.queue.duration";
    static final String COMPUTE = "berth.compute.duration";
    static final String BATCH_SIZE = "berth.batch.size";
    static final String INFERENCES = "berth.inferences";

    static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

    private MeterRegistry registry;

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        this.registry = meterRegistry;
    }

    Meters metersFor(String model, String version) {
        return new Meters(registry, model, version);
    }

    static final class Meters {
        final Timer queue;
        final Timer compute;
        final DistributionSummary batchSize;
        final Counter inferences;
        /** Wall-clock millis of the last completed request, for Triton's last_inference. */
        volatile long lastInferenceMillis;

        Meters(MeterRegistry registry, String model, String version) {
            Tags tags = Tags.of("model", model, "version", version);
            queue = Timer.builder(QUEUE)
                    .description("Time a request waited for a batch to form or a session to be free")
                    .tags(tags).serviceLevelObjectives(RequestMeterBinder.LATENCY_BUCKETS).register(registry);
            compute = Timer.builder(COMPUTE)
                    .description("Time in the ONNX Runtime run that served a request")
                    .tags(tags).serviceLevelObjectives(RequestMeterBinder.LATENCY_BUCKETS).register(registry);
            batchSize = DistributionSummary.builder(BATCH_SIZE)
                    .description("Rows per executed ONNX Runtime run")
                    .baseUnit("rows").tags(tags).serviceLevelObjectives(BATCH_BUCKETS).register(registry);
            inferences = Counter.builder(INFERENCES)
                    .description("Rows (batch elements) inferred successfully")
                    .tags(tags).register(registry);
        }

        void completed(long queueNanos, long computeNanos, long rows, long nowMillis) {
            queue.record(Math.max(0, queueNanos), TimeUnit.NANOSECONDS);
            compute.record(Math.max(0, computeNanos), TimeUnit.NANOSECONDS);
            inferences.increment(rows);
            lastInferenceMillis = nowMillis;
        }
    }
}
