package dev.berth.runtime.onnx;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request: its payload, what batching needs to know of it, and the answer its caller waits
 * for. The batcher's count of requests in flight drops exactly once per job, before its answer is
 * given, so that a caller that sends its next request as soon as it has the answer is alone again.
 *
 * @param <P> the payload
 * @param <R> the answer
 */
final class BatchJob<P, R> {
    private final P payload;
    private final Object key;
    private final int rows;
    private final long enqueuedNanos;
    private final long deadline;
    private final long timeoutNanos;
    private final AtomicInteger inFlight;
    private final AtomicInteger waitingCount;
    private final CompletableFuture<R> future = new CompletableFuture<>();
    private boolean released;
    /** Counted in {@code waitingCount}: queued and not started. */
    private boolean waiting;
    /** Set when the job's run starts. */
    private volatile boolean started;

    BatchJob(P payload, Object key, int rows, long enqueuedNanos, long deadline, long timeoutNanos,
             AtomicInteger inFlight, AtomicInteger waitingCount) {
        this.payload = payload;
        this.key = key;
        this.rows = rows;
        this.enqueuedNanos = enqueuedNanos;
        this.deadline = deadline;
        this.timeoutNanos = timeoutNanos;
        this.inFlight = inFlight;
        this.waitingCount = waitingCount;
    }

    P payload() {
        return payload;
    }

    /** Requests merge only with requests of an equal key; null runs alone. */
    Object key() {
        return key;
    }

    int rows() {
        return rows;
    }

    /** {@code ticker} time of the submit. */
    long enqueuedNanos() {
        return enqueuedNanos;
    }

    /** {@code ticker} time past which the job is not started; {@link Long#MAX_VALUE} for none. */
    long deadline() {
        return deadline;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /** Whether its run has started. */
    boolean started() {
        return started;
    }

    /** The answer; the caller may also complete it (exceptionally) when it stops waiting. */
    CompletableFuture<R> future() {
        return future;
    }

    /** Gives the job's answer (called by the run function). */
    void answer(R result) {
        release();
        future.complete(result);
    }

    /** Fails the job (called by the run function, or the batcher). */
    void fail(Throwable failure) {
        release();
        future.completeExceptionally(failure);
    }

    /** Counts the job as waiting (in {@code waitingCount}) until it starts or is released. */
    void markWaiting() {
        waiting = true;
        waitingCount.incrementAndGet();
    }

    boolean released() {
        return released;
    }

    void markStarted() {
        started = true;
        leaveWaiting();
    }

    // only whoever holds the job calls these: the thread that took it out of the queue, or the caller that ran it
    void release() {
        if (!released) {
            released = true;
            leaveWaiting();
            inFlight.decrementAndGet();
        }
    }

    private void leaveWaiting() {
        if (waiting) {
            waiting = false;
            waitingCount.decrementAndGet();
        }
    }
}
