package dev.berth.monitoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The background setup of the Prometheus registry: what it binds, and a failed setup. */
class MeterRegistrySetupTest {
    private static final MeterBinder OWN = r -> Counter.builder("berth.test.own").register(r);

    @Test
    void bindsIntoTheGivenRegistryAndTheJvmMetersOnlyWhenAsked() {
        PrometheusMeterRegistry given = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (MeterRegistrySetup setup = new MeterRegistrySetup(given, false, List.of(OWN))) {
            assertSame(given, setup.registry());
            assertNotNull(given.find("berth.test.own").counter());
            assertNull(given.find("jvm.memory.used").gauge());
        }
        try (MeterRegistrySetup setup = new MeterRegistrySetup(null, true, List.of(OWN))) {
            PrometheusMeterRegistry made = setup.registry();
            assertNotNull(made.find("jvm.memory.used").gauge());
            assertNotNull(made.find("berth.test.own").counter());
            assertSame(made, setup.registry(), "one registry");
        }
    }

    @Test
    void aFailedSetupIsThrownOnReadAndOnlyLoggedOnClose() {
        MeterBinder broken = r -> {
            throw new IllegalStateException("broken binder");
        };
        MeterRegistrySetup setup = new MeterRegistrySetup(null, false, List.of(broken));
        CompletionException e = assertThrows(CompletionException.class, setup::registry);
        assertEquals("broken binder", e.getCause().getMessage());
        setup.close();
    }
}
