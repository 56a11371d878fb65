package dev.berth.monitoring;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * A binder whose meters belong to one model version each: they are created when the version first
 * appears (after binding), on the registry the binder was bound to, labelled {@code model} and
 * {@code version}.
 *
 * @param <M> the meters of one version
 */
abstract class VersionMeterBinder<M> implements MeterBinder {
    private MeterRegistry registry;

    /** Remembers the registry for the versions' meters; a subclass registers its version-independent meters after calling this. */
    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        this.registry = meterRegistry;
    }

    /** The registry bound to. */
    final MeterRegistry registry() {
        return registry;
    }

    /** Creates and registers the meters of one version. */
    final M metersFor(String model, String version) {
        return newMeters(registry, versionTags(model, version));
    }

    abstract M newMeters(MeterRegistry registry, Tags versionTags);

    static Tags versionTags(String model, String version) {
        return Tags.of("model", model, "version", version);
    }
}
