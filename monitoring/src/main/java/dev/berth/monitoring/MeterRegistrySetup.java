package dev.berth.monitoring;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Prometheus registry with berth's binders (and, when asked, the JVM, process and system ones),
 * set up on a background thread: the Prometheus client is slow to start in a cold JVM, and need not
 * delay a server's start. The first {@link #registry()} call waits for it.
 */
final class MeterRegistrySetup implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MeterRegistrySetup.class.getName());

    private final CompletableFuture<PrometheusMeterRegistry> setup = new CompletableFuture<>();
    private volatile PrometheusMeterRegistry meters;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /**
     * @param given   a registry to add to, or null for a new one
     * @param jvm     whether to bind the JVM, process and system meters too
     * @param binders berth's own binders
     */
    MeterRegistrySetup(PrometheusMeterRegistry given, boolean jvm, List<MeterBinder> binders) {
        Thread.ofPlatform().name("berth-metrics-setup").daemon().start(() -> {
            try {
                setup.complete(bind(given != null ? given : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), jvm, binders));
            } catch (Throwable t) {
                setup.completeExceptionally(t);
            }
        });
    }

    private PrometheusMeterRegistry bind(PrometheusMeterRegistry registry, boolean jvm, List<MeterBinder> berth) {
        List<MeterBinder> binders = new ArrayList<>(berth);
        if (jvm) {
            JvmGcMetrics gc = new JvmGcMetrics();
            synchronized (closeables) {
                closeables.add(gc);
            }
            binders.addAll(List.of(new JvmMemoryMetrics(), gc, new JvmThreadMetrics(), new ClassLoaderMetrics(),
                    new JvmInfoMetrics(), new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics(),
                    new ProcessMemoryBinder()));
        }
        for (MeterBinder binder : binders) {
            binder.bindTo(registry);
        }
        return registry;
    }

    /** The registry, once set up; throws what the setup threw. */
    PrometheusMeterRegistry registry() {
        PrometheusMeterRegistry r = meters;
        if (r == null) {
            r = setup.join();
            meters = r;
        }
        return r;
    }

    /** Waits for the setup (a failed one is only logged), then closes the binders that hold resources. */
    @Override
    public void close() {
        try {
            registry();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "metrics setup had failed", e);
        }
        List<AutoCloseable> toClose;
        synchronized (closeables) {
            toClose = List.copyOf(closeables);
        }
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "closing a binder failed", e);
            }
        }
    }
}
