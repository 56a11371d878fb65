package dev.berth.monitoring;

import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import dev.berth.server.Durations;
import dev.berth.server.spi.RequestMetrics;
import dev.berth.server.spi.Scrape;
import dev.berth.server.spi.ServerMonitoring;
import dev.berth.server.spi.TritonStats;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * berth's monitoring, the server's {@link ServerMonitoring}: the meters of the protocol front ends
 * ({@link RequestMetrics}) and of the inference core ({@link InferenceObserver}) in one Micrometer
 * Prometheus registry, Triton's statistics from the same meters, and per-version performance reports
 * written back to the registry.
 *
 * <pre>{@code
 * BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(dir)).build();
 * BerthServer server = BerthServer.builder().models(dir).monitoring(metrics).build().start();
 * Scrape s = metrics.scrape(acceptHeader);
 * metrics.close(); // writes the last reports
 * }</pre>
 *
 * Every method called on the request path is cheap and never throws: meters for a (model, version)
 * are created on its first request and found afterwards without allocating.
 *
 * <p>Why over 400 lines: it is the one implementation of the server's monitoring interfaces, and each
 * of their methods is a short delegation; the registry set-up and Triton's statistics live apart.
 */
public final class BerthMetrics implements ServerMonitoring, AutoCloseable {
    /** The label used for models that no loaded version has, so unknown names sent by clients cannot grow the series without bound. */
    public static final String UNKNOWN_MODEL = "_unknown";
    /** Default time between reports. */
    public static final Duration DEFAULT_REPORT_INTERVAL = Duration.ofMinutes(5);
    /** Content type of the Prometheus text exposition format. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** Content type of OpenMetrics text. */
    public static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static final System.Logger LOG = System.getLogger(BerthMetrics.class.getName());

    private final MeterRegistrySetup setup;
    private final RequestMeterBinder requestBinder = new RequestMeterBinder();
    private final InferenceMeterBinder inferenceBinder = new InferenceMeterBinder();
    private final ModelMeterBinder modelBinder = new ModelMeterBinder();
    private final ReportMeterBinder reportBinder = new ReportMeterBinder();
    private final ModelVersionTable table;
    private final Set<String> knownModels = ConcurrentHashMap.newKeySet();
    private final TritonStatsView stats;
    private final Reporter reporter;
    private final Clock clock;
    private volatile boolean closed;

    private BerthMetrics(Builder b) {
        this.clock = b.clock;
        this.setup = new MeterRegistrySetup(b.meterRegistry, b.jvmMetrics,
                List.of(requestBinder, inferenceBinder, modelBinder, reportBinder));
        this.table = new ModelVersionTable((model, version, label) -> {
            meterRegistry(); // the binders hold the registry once setup is done
            return new VersionState(model, version, label, requestBinder, inferenceBinder, modelBinder, reportBinder);
        });
        this.stats = new TritonStatsView(table, knownModels);
        this.reporter = b.registry == null ? null : new Reporter(b.registry, b.reportInterval, b.clock);
    }

    /** Options for the metrics; {@link Builder#build()} checks them. */
    public static Builder builder() {
        return new Builder();
    }

    /** The Micrometer registry, for further binders (a server's own meters); waits for the setup on first use. */
    public PrometheusMeterRegistry meterRegistry() {
        return setup.registry();
    }

    // ---- RequestMetrics: the protocol front ends ----

    @Override
    public void requestStarted(Protocol protocol) {
        requestBinder.started(protocol);
    }

    @Override
    public void requestFinished(Protocol protocol, String model, String version, Outcome outcome,
                                long durationNanos, long requestBytes, long responseBytes) {
        try {
            requestBinder.finished(protocol);
            String v = version == null ? "" : version;
            String m = model == null || (v.isEmpty() && !knownModels.contains(model)) ? UNKNOWN_MODEL : model;
            VersionState state = table.get(m, v);
            state.requestMeters().record(protocol, outcome, durationNanos, requestBytes, responseBytes);
            VersionReports reports = state.reports;
            if (reports != null) {
                VersionWindow w = reports.enter();
                try {
                    w.requestFinished(protocol, outcome, durationNanos, requestBytes, responseBytes);
                } finally {
                    VersionReports.exit(w);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "request metrics failed", e);
        }
    }

    // ---- InferenceObserver: the core ----

    @Override
    public void requestCompleted(String model, int version, List<Tensor> inputs, InferenceResponse response, Throwable failure) {
        if (version <= 0) {
            // failed before a version was resolved (unknown model or version): the front end counts it
            return;
        }
        try {
            knownModels.add(model);
            VersionState state = table.get(model, version);
            long rows = rows(inputs);
            if (response != null) {
                state.inferenceMeters().completed(response.queueNanos(), response.computeNanos(), rows, clock.millis());
            }
            VersionReports reports = reportsOf(state);
            if (reports != null) {
                VersionWindow w = reports.enter();
                try {
                    if (response != null) {
                        w.inferenceCompleted(response.queueNanos(), response.computeNanos(), rows);
                    }
                    if (inputs != null) {
                        w.inputs(inputs);
                    }
                } finally {
                    VersionReports.exit(w);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "inference metrics failed", e);
        }
    }

    @Override
    public void batchExecuted(String model, int version, int rows, int requests, long computeNanos) {
        if (version <= 0) {
            return;
        }
        try {
            VersionState state = table.get(model, version);
            state.inferenceMeters().batchSize.record(rows);
            VersionReports reports = state.reports;
            if (reports != null) {
                VersionWindow w = reports.enter();
                try {
                    w.batchExecuted(rows);
                } finally {
                    VersionReports.exit(w);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "batch metrics failed", e);
        }
    }

    @Override
    public void modelLoaded(String model, int version, long nanos, Throwable failure) {
        if (version <= 0) {
            return;
        }
        try {
            knownModels.add(model);
            VersionState state = table.get(model, version);
            modelBinder.loaded(state, nanos, failure == null);
            if (failure == null) {
                state.unloaded = false;
                // the window starts now, but the training profile (a CSV read and binned) is read on the
                // report thread: a load, and so readiness, does not wait for it; a request that comes
                // first reads it itself (reportsOf is idempotent under the state's lock)
                if (reporter != null) {
                    reporter.inBackground(() -> reportsOf(state));
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "model load metrics failed", e);
        }
    }

    @Override
    public void modelReloadRefused(String model, int version, long nanos, Throwable failure) {
        if (version <= 0) {
            return;
        }
        try {
            modelBinder.reloadRefused(table.get(model, version), nanos);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "recording a refused reload failed: " + e);
        }
    }

    @Override
    public void modelUnloaded(String model, int version) {
        try {
            VersionState state = table.find(model, version);
            if (state == null) {
                return;
            }
            modelBinder.unloaded(state);
            state.reportMeters().removeDrift();
            VersionReports reports;
            synchronized (state) {
                state.unloaded = true;
                reports = state.reports;
                state.reports = null;
            }
            if (reports != null && reporter != null) {
                reporter.close(reports);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "model unload metrics failed", e);
        }
    }

    @Override
    public void registryReloaded() {
        try {
            meterRegistry();
            modelBinder.registryReloaded();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "registry reload metrics failed", e);
        }
    }

    private static long rows(List<Tensor> inputs) {
        if (inputs == null || inputs.isEmpty()) {
            return 1;
        }
        Tensor first = inputs.get(0);
        return first.rank() == 0 ? 1 : first.dim(0);
    }

    /** The version's report state, opened on first use (reading its training data once). */
    private VersionReports reportsOf(VersionState state) {
        VersionReports r = state.reports;
        if (r != null || reporter == null || state.unloaded || closed) {
            return r;
        }
        synchronized (state) {
            if (state.reports == null && !state.unloaded) {
                state.reports = reporter.open(state);
            }
            return state.reports;
        }
    }

    /**
     * Parses a report interval as users write it: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h},
     * a number of seconds, or ISO-8601 ({@code PT5M}). At least one second.
     *
     * @throws IllegalArgumentException with a message for the user otherwise
     */
    public static Duration parseInterval(String text) {
        Duration d = Durations.parse("report interval", text);
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("report interval must be at least 1s, was " + text);
        }
        return d;
    }

    // ---- reading ----

    /**
     * The meters in the format the client asked for: OpenMetrics 1.0.0 when the Accept header names
     * {@code application/openmetrics-text}, else the Prometheus text format 0.0.4.
     */
    @Override
    public Scrape scrape(String acceptHeader) {
        String contentType = acceptHeader != null && acceptHeader.toLowerCase(Locale.ROOT).contains("application/openmetrics-text")
                ? OPENMETRICS : PROMETHEUS_TEXT;
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            meterRegistry().scrape(out, contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Scrape(contentType, out.toByteArray());
    }

    /**
     * Triton statistics as both front ends serve them: all models when {@code model} is null or empty,
     * all versions of it when {@code version} is null or empty.
     *
     * @throws InferenceException.NotFound for a model that was never loaded or a version without statistics
     */
    @Override
    public TritonStats statistics(String model, String version) {
        return stats.statistics(model, version);
    }

    /** True once the model had a version loaded (or failed to load), or served a request. */
    public boolean knowsModel(String model) {
        return model != null && knownModels.contains(model);
    }

    /**
     * Triton statistics: every version of every model when {@code model} is null, every version of
     * {@code model} when {@code version} is null, else that version. Versions listed are those the core
     * loaded or served; an unknown model or version gives an empty list.
     */
    public TritonStats tritonStats(String model, String version) {
        return stats.tritonStats(model, version);
    }

    /** Writes the current window of every served version to the registry now (empty windows are skipped); the paths written. */
    public List<Path> writeReports() {
        return reporter == null ? List.of() : reporter.writeNow();
    }

    /** Time between reports, or empty when reports are off (no registry given). */
    public Optional<Duration> reportInterval() {
        return reporter == null ? Optional.empty() : Optional.of(reporter.interval());
    }

    /** Writes the last reports and stops the report thread. Meters stay readable. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (reporter != null) {
            reporter.close();
        }
        setup.close();
    }

    /** Options of {@link BerthMetrics}; all optional. */
    public static final class Builder {
        private LocalRegistry registry;
        private Duration reportInterval = DEFAULT_REPORT_INTERVAL;
        private Clock clock = Clock.systemUTC();
        private boolean jvmMetrics = true;
        private PrometheusMeterRegistry meterRegistry;

        private Builder() {
        }

        /** The registry to write reports into; without it no reports are written. */
        public Builder registry(LocalRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** Time between reports (default 5 minutes); at least one second. */
        public Builder reportInterval(Duration interval) {
            this.reportInterval = interval;
            return this;
        }

        /** Clock for report windows (tests). */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Whether to bind JVM, GC, process and system meters (default true). */
        public Builder jvmMetrics(boolean enabled) {
            this.jvmMetrics = enabled;
            return this;
        }

        /** An existing Prometheus registry to add to, instead of a new one. */
        public Builder meterRegistry(PrometheusMeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        /** The metrics; throws {@link IllegalArgumentException} naming every invalid option at once. */
        public BerthMetrics build() {
            List<String> problems = new ArrayList<>();
            if (reportInterval == null || reportInterval.compareTo(Duration.ofMillis(100)) < 0) {
                problems.add("report interval must be at least 100 ms, was " + reportInterval);
            }
            if (clock == null) {
                problems.add("clock must not be null");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            return new BerthMetrics(this);
        }
    }
}
