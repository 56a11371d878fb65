package dev.berth.monitoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Model life cycle: load duration and failures per version, a ready gauge per version (1 ready,
 * 0 failed to load; removed when the version is unloaded on purpose, so an alert on 0 only fires for
 * real failures), the number of loaded versions, and registry reloads.
 */
final class ModelMeterBinder extends VersionMeterBinder<ModelMeterBinder.Meters> {
    static final String LOAD_DURATION = "berth.model.load.duration";
    static final String LOAD_FAILURES = "berth.model.load.failures";
    static final String READY = "berth.model.ready";
    static final String LOADED = "berth.models.loaded";
    static final String RELOADS = "berth.registry.reloads";

    private final ConcurrentHashMap<VersionState, Gauge> readyGauges = new ConcurrentHashMap<>();
    private Counter reloads;

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        super.bindTo(meterRegistry);
        Gauge.builder(LOADED, this, ModelMeterBinder::loadedCount)
                .description("Model versions loaded and ready to serve")
                .register(meterRegistry);
        reloads = Counter.builder(RELOADS)
                .description("Times the server re-read the registry after a change")
                .register(meterRegistry);
    }

    @Override
    Meters newMeters(MeterRegistry registry, Tags versionTags) {
        return new Meters(registry, versionTags);
    }

    void loaded(VersionState state, long nanos, boolean success) {
        Meters m = state.modelMeters();
        m.loadDuration.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
        if (!success) {
            m.loadFailures.increment();
        }
        m.ready.set(success ? 1 : 0);
        readyGauges.computeIfAbsent(state, s -> Gauge.builder(READY, m.ready, AtomicInteger::get)
                .description("1 when the version is loaded and ready, 0 when it failed to load")
                .tags(versionTags(s.model(), s.versionLabel()))
                .register(registry()));
    }

    /** A failed load of a version's changed files: counted as a failure, the gauge left as it is (it still serves). */
    void reloadRefused(VersionState state, long nanos) {
        Meters m = state.modelMeters();
        m.loadDuration.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
        m.loadFailures.increment();
    }

    void unloaded(VersionState state) {
        state.modelMeters().ready.set(0);
        Gauge g = readyGauges.remove(state);
        if (g != null) {
            registry().remove(g);
        }
    }

    void registryReloaded() {
        reloads.increment();
    }

    boolean ready(VersionState state) {
        return readyGauges.containsKey(state) && state.modelMeters().ready.get() == 1;
    }

    private double loadedCount() {
        int n = 0;
        for (VersionState s : readyGauges.keySet()) {
            n += s.modelMeters().ready.get();
        }
        return n;
    }

    static final class Meters {
        final Timer loadDuration;
        final Counter loadFailures;
        final AtomicInteger ready = new AtomicInteger();

        Meters(MeterRegistry registry, Tags tags) {
            loadDuration = Timer.builder(LOAD_DURATION)
                    .description("Time to load and warm up a model version, failed attempts included")
                    .tags(tags).register(registry);
            loadFailures = Counter.builder(LOAD_FAILURES)
                    .description("Model version loads that failed")
                    .tags(tags).register(registry);
        }
    }
}
