package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The deadline of the ONNX Runtime runs on one lane: the lane's {@link OrtSession.RunOptions}, on
 * which a watchdog sets ONNX Runtime's terminate flag when an armed run's deadline passes. ONNX
 * Runtime looks at the flag between the graph's nodes, so a run stops at the next node boundary
 * and fails; the session stays usable. A lane runs one run at a time, so one object per lane is
 * armed before each run with a deadline and disarmed after it, and its options are reused.
 *
 * <p>Why not a timer task per run: scheduling and cancelling one on a {@code ScheduledExecutorService}
 * for every request (nearly all of which finish long before their deadline) woke the timer thread
 * twice per request and allocated native run options each time; for a model that runs in
 * microseconds that was a measurable share of a request's CPU. The one {@link Watchdog} thread
 * instead sleeps until the earliest armed deadline, or at most {@link Watchdog#IDLE_NANOS}, and
 * arming only wakes it when the new deadline comes before the time it sleeps until.
 *
 * <p>The watchdog and the lane's owner race on the options: both hold this object's monitor, and
 * closed options are never touched (setting the flag on freed native options would be a use after
 * free). Both sides are platform threads or short holds, so the monitor pins nothing for long.
 */
final class RunDeadline {
    private static final Watchdog WATCHDOG = new Watchdog();

    private final OrtSession.RunOptions options;
    /** Whether a run is armed; read by the watchdog without the monitor. */
    private volatile boolean armed;
    /** {@link System#nanoTime()} at which the armed run must stop; valid while {@link #armed}. */
    private volatile long at;
    private boolean fired;
    private boolean closed;

    private RunDeadline() throws OrtException {
        this.options = new OrtSession.RunOptions();
    }

    /** The deadline of a lane's runs, watched until {@link #close()}. */
    static RunDeadline create() throws OrtException {
        RunDeadline d = new RunDeadline();
        WATCHDOG.watched.add(d);
        return d;
    }

    /** Arms the next run to stop {@code delayNanos} from now, and returns this for its options. */
    RunDeadline arm(long delayNanos) {
        long when = System.nanoTime() + Math.max(0, delayNanos);
        synchronized (this) {
            fired = false;
            at = when;
            armed = true;
        }
        WATCHDOG.armed(when);
        return this;
    }

    OrtSession.RunOptions options() {
        return options;
    }

    /** Whether the armed run's deadline passed and the run was told to stop. */
    synchronized boolean fired() {
        return fired;
    }

    /** Ends the armed run's watch; the options are ready for the next run. */
    synchronized void disarm() {
        armed = false;
        if (fired && !closed) {
            try {
                options.setTerminate(false);
            } catch (OrtException e) {
                // the options keep asking runs to stop: the lane cannot be trusted with them any more
                closed = true;
                options.close();
                throw new IllegalStateException("could not reset ONNX Runtime's terminate flag: " + e.getMessage(), e);
            }
        }
    }

    /** Whether the options can be armed again (a failed reset closes them). */
    synchronized boolean usable() {
        return !closed;
    }

    /** Frees the options; the watchdog forgets this lane. */
    synchronized void close() {
        WATCHDOG.watched.remove(this);
        armed = false;
        if (!closed) {
            closed = true;
            options.close();
        }
    }

    /** Called by the watchdog once {@code now} is past the armed deadline. */
    private synchronized void fire(long now) {
        if (!armed || closed || at - now > 0) {
            return;
        }
        armed = false;
        try {
            options.setTerminate(true);
            fired = true;
        } catch (OrtException | RuntimeException e) {
            // the run goes on to its end; its callers have had their answer at the deadline anyway
            System.getLogger(RunDeadline.class.getName()).log(System.Logger.Level.WARNING,
                    "could not cancel an ONNX Runtime run past its deadline: " + e.getMessage());
        }
    }

    /**
     * One daemon thread for every lane's deadline. It publishes the time it sleeps until before it
     * looks at the lanes, and a lane publishes its armed deadline before it reads that time: with
     * both volatile, either the watchdog sees the new deadline or the lane sees that it must wake it.
     */
    private static final class Watchdog implements Runnable {
        /** The longest sleep: how often an idle watchdog looks again, so arming seldom has to wake it. */
        static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
        final Set<RunDeadline> watched = ConcurrentHashMap.newKeySet();
        private final Thread thread;
        private volatile long wakeAt = System.nanoTime();

        Watchdog() {
            thread = Thread.ofPlatform().daemon().name("berth-run-deadlines").start(this);
        }

        void armed(long when) {
            if (when - wakeAt < 0) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            while (true) {
                long now = System.nanoTime();
                long next = now + IDLE_NANOS;
                wakeAt = next;
                for (RunDeadline d : watched) {
                    if (!d.armed) {
                        continue;
                    }
                    long when = d.at;
                    if (when - now <= 0) {
                        try {
                            d.fire(now);
                        } catch (RuntimeException | Error e) {
                            // one lane's failure must not end the watch of every other lane's deadlines
                            // (a dead watchdog lets every later run go on past its timeout)
                            System.getLogger(RunDeadline.class.getName()).log(System.Logger.Level.WARNING,
                                    "could not cancel an ONNX Runtime run past its deadline: " + e);
                        }
                    } else if (when - next < 0) {
                        next = when;
                    }
                }
                wakeAt = next;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    LockSupport.parkNanos(this, sleep);
                }
            }
        }
    }
}
