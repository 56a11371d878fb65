package dev.berth.monitoring;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/** The report state of one served version: its profile and the window being filled. */
final class VersionReports {
    final VersionState state;
    final VersionProfile profile;
    private final AtomicReference<VersionWindow> current;

    VersionReports(VersionState state, VersionProfile profile, Instant start) {
        this.state = state;
        this.profile = profile;
        this.current = new AtomicReference<>(new VersionWindow(profile, start));
    }

    /**
     * The current window, registered as written to until {@link #exit}. Re-checked after registering
     * so that a writer never lands in a window the report thread has already swapped out and read.
     */
    VersionWindow enter() {
        while (true) {
            VersionWindow w = current.get();
            w.writers.incrementAndGet();
            if (current.get() == w) {
                return w;
            }
            w.writers.decrementAndGet();
        }
    }

    static void exit(VersionWindow w) {
        w.writers.decrementAndGet();
    }

    /** Starts a new window at {@code now} and returns the finished one once no request thread writes to it. */
    VersionWindow rotate(Instant now) {
        VersionWindow old = current.getAndSet(new VersionWindow(profile, now));
        while (old.writers.get() != 0) {
            Thread.onSpinWait();
        }
        return old;
    }
}
