package dev.berth.runtime.onnx;

import dev.berth.runtime.InferenceException;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Dynamic batching: the queue of one model version, the lanes that run it (one per session) and
 * the platform worker threads that merge queued requests into runs. It knows nothing of ONNX
 * Runtime: what a run does is the {@link RunFunction} it is given, and a lane is whatever that
 * function needs exclusively during a run (for the core, a session and its scratch memory).
 *
 * <p><b>How a batch forms.</b> A worker that becomes free takes the oldest request and every
 * compatible one already queued (same {@linkplain BatchJob#key() key}, up to {@code maxBatchSize} rows)
 * and, while fewer requests joined than were recently in flight at once (the peak over the last
 * 1-2 s), waits for more until the oldest has waited {@code maxQueueDelay}. Only one worker gathers
 * at a time, so that arrivals join one batch instead of being spread over idle workers. Requests
 * that cannot join keep their order for the next run.
 *
 * <p><b>A lone caller never waits for a batch.</b> When a request arrives, no other request of the
 * version waits for a run (none is queued, none is held by a worker gathering a batch) and a lane is
 * free, no batch can form: the request runs at once on the caller's own thread, on that lane,
 * without the hand-off to a worker and back. Requests that arrive while every lane is busy queue
 * and merge as before, so batching still forms under load; what it no longer does is make a request
 * that finds a free session wait for company (for a model that runs in microseconds, the hand-off
 * alone cost more CPU than the run). A virtual-thread caller
 * does so only while the version's recent single runs took at most {@link #INLINE_RUN_LIMIT_NANOS}
 * (a native call pins its carrier thread, and a long one would stall the other requests sharing it)
 * and while no two of its requests were in flight at once in the last one to two seconds: under
 * concurrent load even short native runs on the few carriers lengthen every connection's tail, and
 * the worker's hand-off costs less than that.
 *
 * <p><b>The queue bound</b> ({@code maxQueueSize}) counts requests accepted that no run has started:
 * queued, or taken by a worker that gathers a batch or waits for a lane a caller runs on.
 *
 * <p><b>Retiring</b> puts one stop marker per worker behind the queued work: everything accepted
 * before runs, then each worker closes one lane, waiting for a lane a caller still runs on. So a
 * lane is never closed under a run.
 *
 * @param <L> what one run needs to itself (a session)
 * @param <P> a request's payload, handed to the run function
 * @param <R> a request's answer
 *
 * <p>Why over 400 lines: the queue, the lanes, gathering, the lone-caller path and retiring share
 * one set of counters and one lock discipline, which are easier to check in one place; about a
 * fifth is the builder.
 */
final class DynamicBatcher<L, P, R> {
    private static final System.Logger LOG = System.getLogger(DynamicBatcher.class.getName());
    /** The longest recent single run after which a virtual-thread caller still runs its request itself. */
    static final long INLINE_RUN_LIMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long PEAK_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * Runs requests as one run on a lane.
     *
     * @param <L> the lane
     * @param <P> the payload
     * @param <R> the answer
     */
    @FunctionalInterface
    interface RunFunction<L, P, R> {
        /**
         * Runs {@code batch} (one job, or several with equal keys) and answers every job with
         * {@link BatchJob#answer} or {@link BatchJob#fail}. Returns false, answering none, when a merged run
         * failed in a way one request may have caused: each job is then run again alone, so that only
         * the culprit fails. A throwable that escapes fails the jobs left unanswered.
         */
        boolean run(L lane, List<BatchJob<P, R>> batch) throws Exception;
    }

    private final String label;
    private final RunFunction<L, P, R> runFunction;
    private final Consumer<L> closeLane;
    private final BooleanSupplier batching;
    private final int maxBatchSize;
    private final long maxQueueDelayNanos;
    private final int maxQueueSize;
    private final LongSupplier ticker;
    private final Function<BatchJob<P, R>, RuntimeException> expiredInQueue;
    private final int laneCount;

    private final LinkedBlockingDeque<BatchJob<P, R>> queue = new LinkedBlockingDeque<>();
    private final LinkedBlockingDeque<L> idleLanes = new LinkedBlockingDeque<>();
    private final ReentrantLock gatherLock = new ReentrantLock();
    private final AtomicInteger liveWorkers;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Requests submitted and not yet answered (queued or running). */
    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * Requests accepted that no run has started yet: in the queue, or taken by a worker that gathers
     * a batch or waits for a lane. What {@code maxQueueSize} bounds.
     */
    private final AtomicInteger waiting = new AtomicInteger();
    private final BatchJob<P, R> stop;
    private boolean retired;
    // the most requests in flight at once, over the current and the previous window: how many
    // callers a batch can expect to gather. Races between updates only blur the estimate.
    private volatile long windowStart;
    private volatile int peakCurrent;
    private volatile int peakPrevious;
    /** The compute time of the latest run of a single request; unknown (no inline run) until one ran. */
    private volatile long recentSingleRunNanos = Long.MAX_VALUE;
    /** The rows of that run: a request with more may run longer than it did. */
    private volatile int recentSingleRunRows;

    private DynamicBatcher(Builder<L, P, R> b) {
        this.label = b.label;
        this.runFunction = b.runFunction;
        this.closeLane = b.closeLane;
        this.batching = b.batching;
        this.maxBatchSize = b.maxBatchSize;
        this.maxQueueDelayNanos = b.maxQueueDelayNanos;
        this.maxQueueSize = b.maxQueueSize;
        this.ticker = b.ticker;
        this.expiredInQueue = b.expiredInQueue;
        this.laneCount = b.lanes.size();
        this.idleLanes.addAll(b.lanes);
        this.liveWorkers = new AtomicInteger(laneCount);
        this.windowStart = ticker.getAsLong();
        this.stop = new BatchJob<>(null, null, 0, 0, Long.MAX_VALUE, 0, inFlight, waiting);
    }

    /** A builder; label, lanes, run function, lane closer and expiry failure are required. */
    static <L, P, R> Builder<L, P, R> builder() {
        return new Builder<>();
    }

    /** Starts one platform worker per lane, threads named {@code namePrefix0}, {@code namePrefix1}, ... */
    DynamicBatcher<L, P, R> start(String namePrefix) {
        for (int i = 0; i < laneCount; i++) {
            Thread.ofPlatform().daemon().name(namePrefix + i).start(this::work);
        }
        return this;
    }

    /**
     * Takes a request: runs it at once on the caller's thread when no other request waits for a run
     * and a lane is free (see the class comment), else queues it for a worker. Returns null when the batcher no longer
     * accepts work (it was retired), so the caller can look for another version.
     *
     * @param key          requests merge only with requests of an equal key; null: the request runs alone
     * @param deadline     the {@code ticker} time past which the request must not start, {@link Long#MAX_VALUE} for none
     * @param timeoutNanos the request's timeout, for messages (0: none)
     * @throws InferenceException.QueueFull   when {@code maxQueueSize} requests already wait
     * @throws InferenceException.Unavailable when every worker has stopped
     */
    BatchJob<P, R> submit(P payload, Object key, int rows, long deadline, long timeoutNanos) {
        BatchJob<P, R> job = new BatchJob<>(payload, key, rows, ticker.getAsLong(), deadline, timeoutNanos, inFlight, waiting);
        L lane = null;
        synchronized (this) {
            if (retired) {
                return null;
            }
            if (liveWorkers.get() == 0) {
                throw new InferenceException.Unavailable(label + " has no running session");
            }
            if (waiting.get() == 0 && mayRunOnCaller(rows)) {
                lane = idleLanes.pollFirst();
            }
            if (lane == null && waiting.get() >= maxQueueSize) {
                throw new InferenceException.QueueFull(label + " has " + maxQueueSize
                        + " requests waiting, its queue limit (max_queue_size); retry later", 1);
            }
            recordConcurrency(inFlight.incrementAndGet(), job.enqueuedNanos());
            if (lane == null) {
                job.markWaiting();
                queue.addLast(job);
            }
        }
        if (lane != null) {
            try {
                if (!skipExpired(job)) {
                    execute(lane, List.of(job));
                }
            } finally {
                idleLanes.addFirst(lane);
            }
        }
        return job;
    }

    private boolean mayRunOnCaller(int rows) {
        if (!Thread.currentThread().isVirtual()) {
            return true;
        }
        // A short run of one row says nothing of a request with thousands: its run could pin the carrier
        // for seconds, and a caller running its own request cannot answer at its deadline (only ONNX
        // Runtime's terminate flag stops it), where a caller waiting on a worker answers then itself.
        // A virtual caller runs inline only while the version has recently had one request at a time:
        // the lone client the path exists for. Under concurrent load, native runs on the carriers
        // (Helidon's 2 on 2 cores) put 6-17 ms p99 and 35-77 ms max on every connection at
        // saturation, against 2.5-3.8 ms and 9-16 ms when the worker runs them (bench/soak, 3 x 20 s,
        // interleaved, docs/reliability.md "Inline runs on the carriers and the tail").
        return recentSingleRunNanos <= INLINE_RUN_LIMIT_NANOS && rows <= recentSingleRunRows && inFlight.get() == 0
                && peakSince(ticker.getAsLong()) <= 1;
    }

    /** The most requests in flight at once over the last one to two windows, as of {@code now}. */
    private int peakSince(long now) {
        long age = now - windowStart;
        if (age > 2 * PEAK_WINDOW_NANOS) {
            return 0;
        }
        return age > PEAK_WINDOW_NANOS ? peakCurrent : Math.max(peakCurrent, peakPrevious);
    }

    /**
     * Takes a job whose caller stopped waiting out of the queue, so that only requests still waited
     * for count against {@code maxQueueSize}. False when a worker has taken it already (the worker
     * then drops it, since its answer is given).
     */
    boolean withdraw(BatchJob<P, R> job) {
        if (queue.remove(job)) {
            job.release();
            return true;
        }
        return false;
    }

    /** Stops accepting work; queued work still runs, then the lanes close. Idempotent. */
    CompletableFuture<Void> retire() {
        synchronized (this) {
            if (!retired) {
                retired = true;
                for (int i = 0; i < laneCount; i++) {
                    queue.addLast(stop);
                }
            }
        }
        return closed;
    }

    /** How many requests were recently in flight at once (at least 1). */
    int recentConcurrency() {
        return Math.max(1, peakSince(ticker.getAsLong()));
    }

    /** Requests submitted and not yet answered. */
    int inFlight() {
        return inFlight.get();
    }

    /**
     * Lanes no run holds now. A worker hands its lane back just after answering its last job, so a
     * caller that submits at that moment finds none free and queues (harmless: the worker runs it).
     */
    int idleLanes() {
        return idleLanes.size();
    }

    /**
     * Records how long a single request's run of {@code rows} rows took: the measure of whether a
     * virtual-thread caller may run the next lone request (of at most as many rows) itself. The owner may also report its warm-up runs here.
     */
    void recordSingleRun(long nanos, int rows) {
        recentSingleRunRows = rows;
        recentSingleRunNanos = nanos;
    }

    private void work() {
        try {
            while (true) {
                List<BatchJob<P, R>> batch;
                L lane;
                gatherLock.lock();
                try {
                    BatchJob<P, R> first = queue.takeFirst();
                    if (first == stop) {
                        return;
                    }
                    if (skipExpired(first)) {
                        continue;
                    }
                    // a caller may be running on a lane of its own; the batch forms once a lane is free
                    lane = idleLanes.takeFirst();
                    if (skipExpired(first)) {
                        idleLanes.addFirst(lane);
                        continue;
                    }
                    batch = gather(first);
                } finally {
                    gatherLock.unlock();
                }
                try {
                    execute(lane, batch);
                } finally {
                    idleLanes.addFirst(lane);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "worker of " + label + " stopped", t);
        } finally {
            closeOneLane();
            if (liveWorkers.decrementAndGet() == 0) {
                // fail anything a dead worker left behind rather than leave callers waiting forever
                BatchJob<P, R> left;
                while ((left = queue.pollFirst()) != null) {
                    if (left != stop) {
                        left.fail(new InferenceException.Unavailable(label + " was unloaded"));
                    }
                }
                closed.complete(null);
            }
        }
    }

    /** Closes one lane, waiting for a caller that runs on it; each worker closes one as it stops. */
    private void closeOneLane() {
        L lane;
        try {
            lane = idleLanes.takeFirst();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lane = idleLanes.pollFirst();
        }
        if (lane != null) {
            closeLane.accept(lane);
        }
    }

    private void recordConcurrency(int now, long at) {
        long age = at - windowStart;
        if (age > PEAK_WINDOW_NANOS) {
            peakPrevious = age > 2 * PEAK_WINDOW_NANOS ? 0 : peakCurrent;
            peakCurrent = 0;
            windowStart = at;
        }
        if (now > peakCurrent) {
            peakCurrent = now;
        }
    }

    /**
     * Answers a job whose deadline passed before it ran (or whose caller stopped waiting) without
     * running it. Returns true when the job is done and must be skipped.
     */
    private boolean skipExpired(BatchJob<P, R> job) {
        if (job.future().isDone()) {
            job.release();
            return true;
        }
        if (job.deadline() != Long.MAX_VALUE && ticker.getAsLong() - job.deadline() >= 0) {
            job.fail(expiredInQueue.apply(job));
            return true;
        }
        return false;
    }

    /**
     * The batch for {@code first}: every compatible request already queued, and while fewer requests
     * than were recently in flight at once have joined, whatever arrives until the oldest has waited
     * {@code maxQueueDelay}.
     */
    private List<BatchJob<P, R>> gather(BatchJob<P, R> first) throws InterruptedException {
        if (!batching.getAsBoolean() || first.rows() >= maxBatchSize || first.key() == null) {
            return List.of(first);
        }
        List<BatchJob<P, R>> batch = new ArrayList<>();
        batch.add(first);
        long rows = first.rows();
        long deadline = first.enqueuedNanos() + maxQueueDelayNanos;
        int expected = recentConcurrency();
        List<BatchJob<P, R>> deferred = new ArrayList<>();
        while (rows < maxBatchSize) {
            long wait = batch.size() < expected ? deadline - ticker.getAsLong() : 0;
            BatchJob<P, R> next = wait > 0 ? queue.pollFirst(wait, TimeUnit.NANOSECONDS) : queue.pollFirst();
            if (next == null) {
                break;
            }
            if (next == stop) {
                deferred.add(next);
                break;
            }
            if (!Objects.equals(first.key(), next.key())) {
                deferred.add(next);
                continue;
            }
            if (skipExpired(next)) {
                continue;
            }
            if (rows + next.rows() > maxBatchSize) {
                deferred.add(next);
                break;
            }
            batch.add(next);
            rows += next.rows();
        }
        for (int i = deferred.size() - 1; i >= 0; i--) {
            queue.addFirst(deferred.get(i));
        }
        return batch;
    }

    private void execute(L lane, List<BatchJob<P, R>> batch) {
        for (BatchJob<P, R> job : batch) {
            job.markStarted();
        }
        long start = ticker.getAsLong();
        boolean answered;
        try {
            answered = runFunction.run(lane, batch) || batch.size() == 1;
        } catch (Throwable t) {
            for (BatchJob<P, R> job : batch) {
                job.fail(t);
            }
            return;
        }
        if (batch.size() == 1) {
            recordSingleRun(ticker.getAsLong() - start, batch.get(0).rows());
        }
        if (answered) {
            for (BatchJob<P, R> job : batch) {
                if (!job.released()) {
                    job.fail(new IllegalStateException("the run of " + label + " left a request unanswered"));
                }
            }
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "merged run of " + batch.size() + " requests of " + label
                + " failed, running them one by one");
        for (BatchJob<P, R> job : batch) {
            if (!skipExpired(job)) {
                execute(lane, List.of(job));
            }
        }
    }

    /**
     * Options of a batcher.
     *
     * @param <L> the lane
     * @param <P> the payload
     * @param <R> the answer
     */
    static final class Builder<L, P, R> {
        private String label;
        private List<L> lanes = List.of();
        private RunFunction<L, P, R> runFunction;
        private Consumer<L> closeLane;
        private Function<BatchJob<P, R>, RuntimeException> expiredInQueue;
        private BooleanSupplier batching = () -> true;
        private int maxBatchSize = 1;
        private long maxQueueDelayNanos;
        private int maxQueueSize = Integer.MAX_VALUE;
        private LongSupplier ticker = System::nanoTime;

        private Builder() {
        }

        /** Names the version in messages, as {@code model 'm' version 3}. */
        Builder<L, P, R> label(String label) {
            this.label = label;
            return this;
        }

        /** One worker per lane; at least one. */
        Builder<L, P, R> lanes(List<L> lanes) {
            this.lanes = List.copyOf(lanes);
            return this;
        }

        Builder<L, P, R> runFunction(RunFunction<L, P, R> run) {
            this.runFunction = run;
            return this;
        }

        /** Called once per lane as the batcher stops, never while a run uses it. */
        Builder<L, P, R> closeLane(Consumer<L> close) {
            this.closeLane = close;
            return this;
        }

        /** The failure of a request whose deadline passed before it started. */
        Builder<L, P, R> expiredInQueue(Function<BatchJob<P, R>, RuntimeException> failure) {
            this.expiredInQueue = failure;
            return this;
        }

        /** Whether requests may merge at all, asked for each batch (the owner may turn batching off). */
        Builder<L, P, R> batching(BooleanSupplier on) {
            this.batching = on;
            return this;
        }

        /** Most rows in one run; 1 (the default) never merges. */
        Builder<L, P, R> maxBatchSize(int rows) {
            this.maxBatchSize = rows;
            return this;
        }

        Builder<L, P, R> maxQueueDelay(long nanos) {
            this.maxQueueDelayNanos = nanos;
            return this;
        }

        /** Most requests waiting for a lane; one more is refused with QueueFull. */
        Builder<L, P, R> maxQueueSize(int size) {
            this.maxQueueSize = size;
            return this;
        }

        Builder<L, P, R> ticker(LongSupplier nanoTime) {
            this.ticker = nanoTime;
            return this;
        }

        /** The batcher, not started yet ({@link DynamicBatcher#start(String)}). */
        DynamicBatcher<L, P, R> build() {
            List<String> problems = new ArrayList<>();
            if (label == null) {
                problems.add("label is required");
            }
            if (lanes.isEmpty()) {
                problems.add("at least one lane is required");
            }
            if (runFunction == null || closeLane == null || expiredInQueue == null) {
                problems.add("runFunction, closeLane and expiredInQueue are required");
            }
            if (maxBatchSize < 1 || maxQueueSize < 1 || maxQueueDelayNanos < 0) {
                problems.add("maxBatchSize and maxQueueSize must be 1 or more, maxQueueDelay 0 or more");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("invalid batcher options: " + String.join("; ", problems));
            }
            return new DynamicBatcher<>(this);
        }
    }
}
