package dev.berth.monitoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Reports written back to the registry and the drift they measured: reports written and failed per
 * version, and the last population stability index per input column as a gauge.
 */
final class ReportMeterBinder implements MeterBinder {
    static final String WRITTEN = "berth.reports.written";
    static final String FAILURES = "berth.report.failures";
    static final String DRIFT = "berth.input.drift.psi";

    private MeterRegistry registry;

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        this.registry = meterRegistry;
    }

    Meters metersFor(String model, String version) {
        return new Meters(registry, model, version);
    }

    static final class Meters {
        private final MeterRegistry registry;
        private final Tags tags;
        final Counter written;
        final Counter failures;
        private final ConcurrentHashMap<String, DriftValue> drift = new ConcurrentHashMap<>();

        Meters(MeterRegistry registry, String model, String version) {
            this.registry = registry;
            this.tags = Tags.of("model", model, "version", version);
            written = Counter.builder(WRITTEN)
                    .description("Monitoring reports written to the registry")
                    .tags(tags).register(registry);
            failures = Counter.builder(FAILURES)
                    .description("Monitoring reports that could not be written (serving goes on)")
                    .tags(tags).register(registry);
        }

        /** Removes the drift gauges (the version was unloaded: its last figures must not keep an alert firing). */
        void removeDrift() {
            for (DriftValue v : drift.values()) {
                if (v.gauge != null) {
                    registry.remove(v.gauge);
                }
            }
            drift.clear();
        }

        /** Called from the report thread only. */
        void drift(String input, String column, double psi) {
            drift.computeIfAbsent(input + "\u0000" + column, k -> {
                DriftValue v = new DriftValue();
                v.gauge = Gauge.builder(DRIFT, v, DriftValue::get)
                        .description("Population stability index of served inputs against the training data, last report window")
                        .tags(tags.and("input", input, "column", column))
                        .register(registry);
                return v;
            }).value = psi;
        }
    }

    static final class DriftValue {
        volatile double value;
        Gauge gauge;

        double get() {
            return value;
        }
    }
}
