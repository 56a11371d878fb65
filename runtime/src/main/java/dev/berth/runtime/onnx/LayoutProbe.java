package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.ServingLayout.Candidate;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.LongSupplier;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Times a version's warm-up run on candidate layouts ({@link LayoutChoice#candidates}) when it
 * loads with {@code layout: auto}: how long one run takes on the sessions already open, and how
 * many runs per second each layout completes with one thread per session running at once, as the
 * batcher runs one batch per session under load. Each candidate other than the open one gets its
 * own sessions for the measurement, closed afterwards.
 */
final class LayoutProbe {
    /** How long each candidate is timed per round (at least {@link #MIN_RUNS} runs per session, whatever that takes). */
    static final long WINDOW_NANOS = 100_000_000L;
    /** Rounds in which the candidates take turns. */
    static final int ROUNDS = 2;
    /** One version's layouts are timed at a time: versions loading side by side would time each other. */
    private static final ReentrantLock PROBING = new ReentrantLock();
    /** Fewest timed runs per session of a candidate. */
    static final int MIN_RUNS = 2;
    /** Fewest runs timed for the single-run figure (fewer only past {@link #SINGLE_BUDGET_NANOS}). */
    static final int SINGLE_RUNS = 10;
    /** Longest the single-run figure is timed for. */
    static final long SINGLE_BUDGET_NANOS = 40_000_000L;

    /** One run of the warm-up inputs on a lane. */
    interface Run {
        void on(Lane lane) throws OrtException;
    }

    /** Opens {@code sessions} sessions of the model with {@code intraOpThreads} threads each. */
    interface Opener {
        List<OrtSession> open(int sessions, int intraOpThreads) throws OrtException, IOException;
    }

    private final Run run;
    private final Opener opener;

    LayoutProbe(Run run, Opener opener) {
        this.run = run;
        this.opener = opener;
    }

    /**
     * The shortest of the runs timed on {@code session}, already warmed up, in CPU time of the
     * calling thread where {@code onCaller} (the session has one intra-op thread, so the run is
     * done by its caller) and the JVM can tell it, else in wall time: the least disturbed one. Runs go on until one is under {@link LayoutChoice#CHEAP_RUN_NANOS} (after at least
     * {@link #SINGLE_RUNS}: a cheap model, nothing more to time) or {@link #SINGLE_BUDGET_NANOS} have
     * passed. A JVM that has just started runs the Java side of a run interpreted, several times
     * slower than once compiled, so a cheap model needs some hundreds of runs to show it: at
     * 30 us a run, a few milliseconds.
     */
    long runNanos(OrtSession session, boolean onCaller) throws OrtException {
        // CPU time of this thread where the run happens on it (one intra-op thread): at start-up the
        // JIT's compiler threads and other versions' loads take the cores in turns
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        LongSupplier cpu = onCaller && mx.isCurrentThreadCpuTimeSupported() ? mx::getCurrentThreadCpuTime : System::nanoTime;
        Lane lane = new Lane(session);
        long shortest = Long.MAX_VALUE;
        PROBING.lock();
        try {
            long started = System.nanoTime();
            for (int n = 0; n < SINGLE_RUNS || shortest >= LayoutChoice.CHEAP_RUN_NANOS; n++) {
                if (n > 0 && System.nanoTime() - started >= SINGLE_BUDGET_NANOS) {
                    break;
                }
                long t0 = cpu.getAsLong();
                lane.reset();
                run.on(lane);
                shortest = Math.min(shortest, cpu.getAsLong() - t0);
            }
        } finally {
            PROBING.unlock();
            lane.close();
        }
        return shortest;
    }

    /**
     * Runs per second of each candidate; the first is the layout of {@code open} (already warmed
     * up), which is timed on those sessions. The candidates take turns for {@link #ROUNDS} rounds
     * and each keeps its best round, so that a burst of other work on the machine (another
     * version loading, a build) lands on one round of one candidate rather than decide the
     * choice. Only one version is timed at a time in this process.
     */
    List<Candidate> time(List<Candidate> candidates, List<OrtSession> open) throws OrtException, IOException {
        List<List<OrtSession>> sessions = new ArrayList<>();
        double[] best = new double[candidates.size()];
        PROBING.lock();
        try {
            sessions.add(open);
            for (int i = 1; i < candidates.size(); i++) {
                Candidate c = candidates.get(i);
                sessions.add(opener.open(c.sessions(), c.intraOpThreads()));
            }
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < candidates.size(); i++) {
                    best[i] = Math.max(best[i], runsPerSecond(sessions.get(i), round == 0 && i > 0));
                }
            }
        } finally {
            PROBING.unlock();
            for (int i = 1; i < sessions.size(); i++) {
                GuardedSessions.closeAll(sessions.get(i));
            }
        }
        List<Candidate> timed = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            timed.add(new Candidate(c.sessions(), c.intraOpThreads(), best[i]));
        }
        return timed;
    }

    /** All sessions running at once, one platform thread each (a native run would pin a virtual thread's carrier). */
    private double runsPerSecond(List<OrtSession> sessions, boolean warmFirst) throws OrtException {
        AtomicLong runs = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(sessions.size());
        CountDownLatch go = new CountDownLatch(1);
        long[] clock = new long[1];
        List<Thread> threads = new ArrayList<>();
        for (OrtSession session : sessions) {
            threads.add(Thread.ofPlatform().name("berth-layout-probe").daemon(true).start(() -> {
                Lane lane = new Lane(session);
                try {
                    try {
                        if (warmFirst) {
                            run.on(lane); // a fresh session's first run pays for its allocations
                        }
                    } finally {
                        ready.countDown();
                    }
                    go.await();
                    int mine = 0;
                    while (mine < MIN_RUNS || System.nanoTime() - clock[0] < WINDOW_NANOS) {
                        lane.reset();
                        run.on(lane);
                        mine++;
                    }
                    runs.addAndGet(mine);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    lane.close();
                }
            }));
        }
        long end;
        try {
            ready.await();
            clock[0] = System.nanoTime(); // published to the threads by the latch
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            end = System.nanoTime();
        } catch (InterruptedException e) {
            go.countDown();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while timing layouts", e);
        }
        Throwable t = failure.get();
        if (t instanceof OrtException e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException("timing a layout failed: " + t, t);
        }
        return runs.get() / ((end - clock[0]) / 1e9);
    }
}
