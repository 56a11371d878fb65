package dev.berth.monitoring;

import dev.berth.registry.LocalRegistry;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes each served version's report into the registry every interval and at shutdown, on its own
 * thread: request threads only add to the window's accumulators. A write that fails (read-only
 * registry, full disk) is counted, logged once per run of failures, and serving goes on; the finished
 * report is held back in memory (each window stays its own file, never merged into the next) and
 * written, under its own name, at the next interval the registry takes it. Only what is still held
 * back when the process exits is lost, and that is said.
 */
final class Reporter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Reporter.class.getName());
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final LocalRegistry registry;
    private final Duration interval;
    private final Clock clock;
    private final Set<VersionReports> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService executor;
    /** Finished reports whose write failed, oldest first; touched under this object's lock. */
    private final Deque<HeldBack> heldBack = new ArrayDeque<>();
    /** Whether the last write failed: the first failure of a run is logged as a warning, the rest quietly. */
    private boolean failing;

    /** At most this many reports are held back (a day of 5-minute windows for 3 versions); the oldest goes first. */
    static final int MAX_HELD_BACK = 864;

    /** A finished window whose write failed: its version, file name and bytes. */
    private record HeldBack(VersionState state, String name, byte[] json) {
    }

    Reporter(LocalRegistry registry, Duration interval, Clock clock) {
        this.registry = registry;
        this.interval = interval;
        this.clock = clock;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-reports");
            t.setDaemon(true);
            return t;
        });
        long millis = interval.toMillis();
        executor.scheduleAtFixedRate(this::writeAllSafely, millis, millis, TimeUnit.MILLISECONDS);
    }

    Duration interval() {
        return interval;
    }

    /** Starts collecting reports for a version: reads its profile (training data) once. */
    VersionReports open(VersionState state) {
        VersionProfile profile = VersionProfile.load(registry, state.model(), state.version());
        VersionReports reports = new VersionReports(state, profile, clock.instant());
        open.add(reports);
        return reports;
    }

    /** Runs {@code task} on the report thread, after what is queued there; nothing once the reporter is closed. */
    void inBackground(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "opening a version's reports failed: " + e);
                }
            });
        } catch (RejectedExecutionException e) {
            // closed: the version is not reported any more
        }
    }

    /** Stops collecting for a version and writes what its last window holds, in the background. */
    void close(VersionReports reports) {
        if (open.remove(reports)) {
            try {
                executor.execute(() -> write(reports, false));
            } catch (RejectedExecutionException e) {
                write(reports, false);
            }
        }
    }

    /** Writes every open version's window now and waits for it. */
    List<Path> writeNow() {
        try {
            return executor.submit(this::writeAll).get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "writing reports failed: " + e);
            return List.of();
        } catch (RejectedExecutionException e) {
            return writeAll();
        }
    }

    private void writeAllSafely() {
        try {
            writeAll();
        } catch (RuntimeException e) {
            // a scheduled task that throws is never run again; the next interval must still write
            LOG.log(System.Logger.Level.ERROR, "report writing failed", e);
        }
    }

    private List<Path> writeAll() {
        List<Path> written = new ArrayList<>(writeHeldBack());
        List<VersionReports> snapshot = new ArrayList<>(open);
        snapshot.sort((a, b) -> a.state.model().equals(b.state.model())
                ? Integer.compare(a.state.version(), b.state.version()) : a.state.model().compareTo(b.state.model()));
        for (VersionReports r : snapshot) {
            Path p = write(r, true);
            if (p != null) {
                written.add(p);
            }
        }
        return written;
    }

    /**
     * Rotates the version's window and stores the finished one; null when it was empty or failed.
     * {@code exportDrift} is false for the last window of an unloaded version, whose drift gauges are gone.
     */
    private Path write(VersionReports reports, boolean exportDrift) {
        Instant now = clock.instant();
        VersionWindow window = reports.rotate(now);
        if (window.isEmpty()) {
            return null;
        }
        VersionState state = reports.state;
        MonitoringReport report = window.toReport(state.model(), state.version(), now, reports.profile);
        if (exportDrift && report.drift() != null) {
            for (MonitoringReport.InputStats input : report.inputs()) {
                for (MonitoringReport.ColumnStats column : input.columns()) {
                    if (column.summary().psi() != null && column.summary().count() > 0) {
                        state.reportMeters().drift(input.name(), column.name(), column.summary().psi());
                    } else if (report.drift().notEnoughData().containsKey(input.name() + "." + column.name())) {
                        // not enough data this window: the gauge shows no value (NaN), so last window's cannot keep an alert firing
                        state.reportMeters().drift(input.name(), column.name(), Double.NaN);
                    }
                }
            }
        }
        String name = FILE_TIME.format(window.start) + "-" + FILE_TIME.format(now) + ".json";
        return store(new HeldBack(state, name, report.toJson()), false);
    }

    /** Writes one report; on failure holds it back. Null when it was not written. */
    private synchronized Path store(HeldBack r, boolean retry) {
        try {
            Path path = registry.writeMonitoringReport(r.state.model(), r.state.version(), r.name, r.json);
            r.state.reportMeters().written.increment();
            return path;
        } catch (Exception e) {
            r.state.reportMeters().failures.increment();
            if (!retry) {
                heldBack.addLast(r);
                if (heldBack.size() > MAX_HELD_BACK) {
                    HeldBack dropped = heldBack.removeFirst();
                    LOG.log(System.Logger.Level.WARNING, "monitoring report " + dropped.name + " of " + dropped.state.model() + ":"
                            + dropped.state.version() + " dropped: more than " + MAX_HELD_BACK + " are waiting to be written");
                }
            }
            if (!failing) {
                failing = true;
                LOG.log(System.Logger.Level.WARNING, "cannot write monitoring report " + r.name + " for " + r.state.model() + ":"
                        + r.state.version() + " (serving continues; reports are kept in memory and written once the registry takes"
                        + " them again): " + e);
            } else {
                LOG.log(System.Logger.Level.DEBUG, "still cannot write monitoring report " + r.name + ": " + e);
            }
            return null;
        }
    }

    /** Writes the held-back reports, oldest first, until one fails (the registry still cannot take them). */
    private synchronized List<Path> writeHeldBack() {
        List<Path> written = new ArrayList<>();
        while (!heldBack.isEmpty()) {
            Path p = store(heldBack.peekFirst(), true);
            if (p == null) {
                return written;
            }
            heldBack.removeFirst();
            written.add(p);
        }
        if (failing) {
            failing = false;
            LOG.log(System.Logger.Level.INFO, "monitoring reports are written again" + (written.isEmpty() ? ""
                    : "; " + written.size() + " held back meanwhile are now in the registry"));
        }
        return written;
    }

    /** How many finished reports wait to be written. */
    synchronized int heldBack() {
        return heldBack.size();
    }

    /** Stops the schedule and writes the last window of every open version. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writeAll();
        open.clear();
        synchronized (this) {
            if (!heldBack.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, heldBack.size() + " monitoring report(s) could not be written before the server"
                        + " stopped and are lost (the registry did not take them; see the warning above)");
            }
        }
    }
}
