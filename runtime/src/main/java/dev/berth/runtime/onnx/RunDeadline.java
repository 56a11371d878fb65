package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The deadline of one ONNX Runtime run: its {@link OrtSession.RunOptions}, on which a timer sets
 * ONNX Runtime's terminate flag when the deadline passes. ONNX Runtime looks at the flag between
 * the graph's nodes, so a run stops at the next node boundary and fails; the session stays usable.
 *
 * <p>The timer and the worker that closes the options after the run race: both hold this object's
 * monitor, and a closed run's options are never touched (setting the flag on freed native options
 * would be a use after free). Both sides are platform threads, so the monitor pins nothing.
 */
final class RunDeadline implements AutoCloseable {
    private static final ScheduledExecutorService TIMER = timer();

    private final OrtSession.RunOptions options;
    private final ScheduledFuture<?> alarm;
    private boolean closed;
    private boolean fired;

    private RunDeadline(long delayNanos) throws OrtException {
        this.options = new OrtSession.RunOptions();
        this.alarm = TIMER.schedule(this::fire, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    private static ScheduledExecutorService timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("berth-run-deadlines").factory());
        t.setRemoveOnCancelPolicy(true); // most runs finish in time: do not keep their cancelled alarms
        return t;
    }

    /** Options for a run that must stop {@code delayNanos} from now. */
    static RunDeadline in(long delayNanos) throws OrtException {
        return new RunDeadline(delayNanos);
    }

    OrtSession.RunOptions options() {
        return options;
    }

    private synchronized void fire() {
        if (closed) {
            return;
        }
        try {
            options.setTerminate(true);
            fired = true;
        } catch (OrtException e) {
            // the run goes on to its end; its callers have had their answer at the deadline anyway
            System.getLogger(RunDeadline.class.getName()).log(System.Logger.Level.WARNING,
                    "could not cancel an ONNX Runtime run past its deadline: " + e.getMessage());
        }
    }

    /** Whether the deadline passed and the run was told to stop. */
    synchronized boolean fired() {
        return fired;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            alarm.cancel(false);
            options.close();
        }
    }
}
