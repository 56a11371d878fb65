package dev.berth.server;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts requests inside the core, so shutdown can stop admitting new ones and wait for the rest
 * before the core closes its sessions. Shared by both front ends.
 */
final class InFlight {
    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean draining;

    /** Admits a request; false once draining has begun (the caller answers "unavailable"). */
    boolean enter() {
        count.incrementAndGet();
        if (draining) {
            exit();
            return false;
        }
        return true;
    }

    void exit() {
        if (count.decrementAndGet() == 0 && draining) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    boolean draining() {
        return draining;
    }

    /** Stops admitting: from now on {@link #enter()} is false and {@link #draining()} true. */
    void stopAdmitting() {
        draining = true;
    }

    /** Stops admitting and waits until nothing is in flight or the timeout passes; true when drained. */
    boolean drain(Duration timeout) {
        stopAdmitting();
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (count.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    wait(Math.max(1, left / 1_000_000), 0);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }
}
