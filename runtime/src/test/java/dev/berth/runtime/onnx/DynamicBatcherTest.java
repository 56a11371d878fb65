package dev.berth.runtime.onnx;

import dev.berth.runtime.InferenceException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batcher on its own, without ONNX Runtime: the run function here adds up integers and records
 * each run (its thread and its batch), and a gate lets a test hold a run to let a queue build up.
 */
class DynamicBatcherTest {
    /** One recorded run: the payloads it took and the thread it ran on. */
    record Run(List<Integer> payloads, Thread thread, String lane) {
    }

    final List<Run> runs = new CopyOnWriteArrayList<>();
    final List<String> closedLanes = new CopyOnWriteArrayList<>();
    volatile CountDownLatch gate = new CountDownLatch(0);
    volatile CountDownLatch entered = new CountDownLatch(0);
    /** A payload that makes every merged run it is in fail, and fails when run alone. */
    static final int POISON = -1;
    final ExecutorService callers = Executors.newCachedThreadPool();
    DynamicBatcher<String, Integer, Integer> batcher;
    /** How far the batcher's clock runs ahead of System.nanoTime: a test may skip time with it. */
    final AtomicLong clockAhead = new AtomicLong();

    @AfterEach
    void stop() throws Exception {
        gate.countDown();
        if (batcher != null) {
            batcher.retire().get(10, TimeUnit.SECONDS);
        }
        callers.shutdownNow();
    }

    DynamicBatcher<String, Integer, Integer> start(int lanes, int maxBatch, long delayMicros, int maxQueue) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            names.add("lane" + i);
        }
        batcher = DynamicBatcher.<String, Integer, Integer>builder()
                .label("model 'm' version 1")
                .lanes(names)
                .runFunction(this::run)
                .closeLane(closedLanes::add)
                .expiredInQueue(job -> new InferenceException.DeadlineExceeded("expired in the queue"))
                .maxBatchSize(maxBatch)
                .maxQueueDelay(TimeUnit.MICROSECONDS.toNanos(delayMicros))
                .maxQueueSize(maxQueue)
                .ticker(() -> System.nanoTime() + clockAhead.get())
                .build()
                .start("test-worker-");
        return batcher;
    }

    private boolean run(String lane, List<BatchJob<Integer, Integer>> batch) throws InterruptedException {
        entered.countDown();
        assertTrue(gate.await(10, TimeUnit.SECONDS));
        List<Integer> payloads = batch.stream().map(BatchJob::payload).toList();
        runs.add(new Run(payloads, Thread.currentThread(), lane));
        if (payloads.contains(POISON)) {
            if (batch.size() > 1) {
                return false;
            }
            batch.get(0).fail(new InferenceException.InvalidInput("poison"));
            return true;
        }
        for (BatchJob<Integer, Integer> job : batch) {
            job.answer(job.payload() * 10);
        }
        return true;
    }

    Future<Integer> send(int payload) {
        return callers.submit(() -> answer(batcher.submit(payload, "k", 1, Long.MAX_VALUE, 0)));
    }

    static Integer answer(BatchJob<Integer, Integer> job) throws Exception {
        try {
            return job.future().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void aLoneCallerRunsOnItsOwnThreadAtOnce() throws Exception {
        start(1, 32, 60_000_000, 10); // a queue delay no test could sit out
        for (int i = 1; i <= 3; i++) {
            BatchJob<Integer, Integer> job = batcher.submit(i, "k", 1, Long.MAX_VALUE, 0);
            assertTrue(job.future().isDone(), "answered before submit returned");
            assertEquals(i * 10, job.future().get());
        }
        assertEquals(3, runs.size());
        for (Run run : runs) {
            assertEquals(Thread.currentThread(), run.thread(), "run on the caller's thread");
        }
        assertEquals(0, batcher.inFlight());
    }

    @Test
    void aCallerTakesAFreeLaneWhileAnotherRunsWhenNoneWaits() throws Exception {
        start(2, 32, 1_000, 10);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> first = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        // one request is running, none waits: the second cannot join a batch, and the other lane is free
        entered = new CountDownLatch(1);
        Future<Integer> second = send(2);
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the second request started while the first still ran");
        gate.countDown();
        assertEquals(10, first.get(10, TimeUnit.SECONDS));
        assertEquals(20, second.get(10, TimeUnit.SECONDS));
        assertEquals(2, runs.size());
        for (Run run : runs) {
            assertFalse(run.thread().getName().startsWith("test-worker-"), "run on its caller's thread, not a worker");
            assertEquals(1, run.payloads().size());
        }
        assertNotEquals(runs.get(0).lane(), runs.get(1).lane());
    }

    @Test
    void aVirtualCallerRunsItselfOnlyWhileRunsAreShort() throws Exception {
        start(1, 32, 0, 10);
        AtomicReference<Thread> caller = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            caller.set(Thread.currentThread());
            batcher.submit(1, "k", 1, Long.MAX_VALUE, 0).future().join();
        }).join();
        assertNotEquals(caller.get(), runs.get(0).thread(), "no run measured yet: a worker runs it");

        batcher.recordSingleRun(TimeUnit.MICROSECONDS.toNanos(50), 1);
        // the worker hands the lane back just after answering: until then a caller finds none free
        waitUntil(1, () -> batcher.idleLanes());
        Thread.ofVirtual().start(() -> {
            caller.set(Thread.currentThread());
            batcher.submit(2, "k", 1, Long.MAX_VALUE, 0).future().join();
        }).join();
        assertEquals(caller.get(), runs.get(1).thread(), "short runs: the caller runs it");

        batcher.recordSingleRun(DynamicBatcher.INLINE_RUN_LIMIT_NANOS + 1, 1);
        Thread.ofVirtual().start(() -> {
            caller.set(Thread.currentThread());
            batcher.submit(3, "k", 1, Long.MAX_VALUE, 0).future().join();
        }).join();
        assertFalse(runs.get(2).thread().isVirtual(), "a long run would pin the carrier: a worker runs it");

        batcher.recordSingleRun(TimeUnit.MICROSECONDS.toNanos(50), 1);
        waitUntil(1, () -> batcher.idleLanes());
        Thread.ofVirtual().start(() -> batcher.submit(4, "k", 30_000, Long.MAX_VALUE, 0).future().join()).join();
        assertFalse(runs.get(3).thread().isVirtual(), "a short run of one row says nothing of 30,000: a worker runs it");
    }

    @Test
    void aVirtualCallerRunsItselfOnlyWhileItsVersionHadOneRequestAtATime() throws Exception {
        start(2, 32, 0, 10);
        batcher.recordSingleRun(TimeUnit.MICROSECONDS.toNanos(50), 1);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        AtomicReference<Thread> firstCaller = new AtomicReference<>();
        Thread first = Thread.ofVirtual().start(() -> {
            firstCaller.set(Thread.currentThread());
            batcher.submit(1, "k", 1, Long.MAX_VALUE, 0).future().join();
        });
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        // the first runs on its caller's thread; a second while it runs finds the other lane free,
        // but two in flight at once is load: a worker runs it
        entered = new CountDownLatch(1);
        Thread second = Thread.ofVirtual().start(() -> batcher.submit(2, "k", 1, Long.MAX_VALUE, 0).future().join());
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        gate.countDown();
        first.join();
        second.join();
        assertEquals(firstCaller.get(), runs.stream().filter(r -> r.payloads().equals(List.of(1))).findFirst().orElseThrow().thread());
        assertTrue(runs.stream().filter(r -> r.payloads().equals(List.of(2))).findFirst().orElseThrow()
                .thread().getName().startsWith("test-worker-"), "the concurrent request ran on a worker: " + runs);

        waitUntil(2, () -> batcher.idleLanes());
        // alone again, but within the window that saw two at once: still a worker
        Thread.ofVirtual().start(() -> batcher.submit(3, "k", 1, Long.MAX_VALUE, 0).future().join()).join();
        assertTrue(runs.get(2).thread().getName().startsWith("test-worker-"), "recent load: a worker runs it");

        // two windows later, one request at a time: the caller runs its own again
        // the worker times its run and then hands the lane back: move the clock only after that
        waitUntil(2, () -> batcher.idleLanes());
        clockAhead.addAndGet(TimeUnit.SECONDS.toNanos(3));
        AtomicReference<Thread> lastCaller = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            lastCaller.set(Thread.currentThread());
            batcher.submit(4, "k", 1, Long.MAX_VALUE, 0).future().join();
        }).join();
        assertEquals(lastCaller.get(), runs.get(3).thread(), "a lone client again: the caller runs it");
    }

    @Test
    void requestsQueuedWhileTheLaneIsBusyMergeIntoOneRunInOrder() throws Exception {
        start(1, 32, 0, 100);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> first = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        List<Future<Integer>> rest = new ArrayList<>();
        for (int i = 2; i <= 6; i++) {
            rest.add(send(i));
            waitUntil(i, () -> batcher.inFlight());
        }
        gate.countDown();
        assertEquals(10, first.get(10, TimeUnit.SECONDS));
        for (int i = 0; i < rest.size(); i++) {
            assertEquals((i + 2) * 10, rest.get(i).get(10, TimeUnit.SECONDS), "each caller gets its own answer");
        }
        assertEquals(List.of(1), runs.get(0).payloads());
        assertEquals(List.of(2, 3, 4, 5, 6), runs.get(1).payloads(), "one run, in arrival order");
        assertEquals(2, runs.size());
    }

    @Test
    void aBatchHoldsAtMostMaxBatchSizeRowsAndOnlyEqualKeys() throws Exception {
        start(1, 3, 0, 100);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> first = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        List<Future<Integer>> rest = new ArrayList<>();
        int[] payloads = {2, 3, 4, 5, 6};
        String[] keys = {"a", "b", "a", "a", "a"};
        for (int i = 0; i < payloads.length; i++) {
            int p = payloads[i];
            String key = keys[i];
            rest.add(callers.submit(() -> answer(batcher.submit(p, key, 1, Long.MAX_VALUE, 0))));
            waitUntil(i + 2, () -> batcher.inFlight());
        }
        gate.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (Future<Integer> f : rest) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertEquals(List.of(List.of(1), List.of(2, 4, 5), List.of(3), List.of(6)),
                runs.stream().map(Run::payloads).toList(), "key 'b' waits for the next run; 3 rows at most");
    }

    @Test
    void aMergedRunOneRequestBreaksIsRunAgainOneByOne() throws Exception {
        start(1, 32, 0, 100);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> first = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        Future<Integer> good = send(2);
        waitUntil(2, () -> batcher.inFlight());
        Future<Integer> bad = send(POISON);
        waitUntil(3, () -> batcher.inFlight());
        gate.countDown();
        assertEquals(10, first.get(10, TimeUnit.SECONDS));
        assertEquals(20, good.get(10, TimeUnit.SECONDS), "the innocent request is answered");
        ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(10, TimeUnit.SECONDS));
        assertInstanceOf(InferenceException.InvalidInput.class, e.getCause());
        assertEquals(List.of(List.of(1), List.of(2, POISON), List.of(2), List.of(POISON)),
                runs.stream().map(Run::payloads).toList());
        assertEquals(0, batcher.inFlight());
    }

    @Test
    void aFullQueueRefusesAtOnce() throws Exception {
        start(1, 1, 0, 2);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> running = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        Future<Integer> q1 = send(2);
        Future<Integer> q2 = send(3);
        waitUntil(3, () -> batcher.inFlight());
        InferenceException.QueueFull full = assertThrows(InferenceException.QueueFull.class,
                () -> batcher.submit(4, "k", 1, Long.MAX_VALUE, 0));
        assertTrue(full.getMessage().contains("2 requests waiting"), full.getMessage());
        gate.countDown();
        assertEquals(10, running.get(10, TimeUnit.SECONDS));
        assertEquals(20, q1.get(10, TimeUnit.SECONDS));
        assertEquals(30, q2.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aRequestWhoseDeadlinePassedInTheQueueIsNeverRun() throws Exception {
        start(1, 1, 0, 10);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> running = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        BatchJob<Integer, Integer> late = batcher.submit(2, "k", 1, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20), 20);
        Thread.sleep(50);
        gate.countDown();
        running.get(10, TimeUnit.SECONDS);
        Exception e = assertThrows(Exception.class, () -> answer(late));
        assertEquals("expired in the queue", e.getMessage());
        assertEquals(1, runs.size(), "only the first ran");
        waitUntil(0, () -> batcher.inFlight());
    }

    @Test
    void retiringRunsWhatWasAcceptedThenClosesEveryLaneAfterItsRun() throws Exception {
        start(2, 1, 0, 10);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> running = send(1); // on the caller's own thread: nothing else in flight
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        List<Future<Integer>> queued = new ArrayList<>();
        for (int i = 2; i <= 4; i++) {
            queued.add(send(i));
        }
        waitUntil(4, () -> batcher.inFlight());
        CompletableFuture<Void> closed = batcher.retire();
        assertNull(batcher.submit(9, "k", 1, Long.MAX_VALUE, 0), "a retired batcher takes nothing new");
        Thread.sleep(100);
        assertFalse(closed.isDone(), "runs are still going on");
        assertTrue(closedLanes.size() < 2, "no lane is closed under a run: " + closedLanes);
        gate.countDown();
        assertEquals(10, running.get(10, TimeUnit.SECONDS));
        for (int i = 0; i < queued.size(); i++) {
            assertEquals((i + 2) * 10, queued.get(i).get(10, TimeUnit.SECONDS));
        }
        closed.get(10, TimeUnit.SECONDS);
        List<String> sorted = new ArrayList<>(closedLanes);
        Collections.sort(sorted);
        assertEquals(List.of("lane0", "lane1"), sorted, "each lane closed once");
        batcher = null;
    }

    @Test
    void aWithdrawnJobLeavesTheQueueAndIsNotRun() throws Exception {
        start(1, 1, 0, 2);
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
        Future<Integer> running = send(1);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        BatchJob<Integer, Integer> job = batcher.submit(2, "k", 1, Long.MAX_VALUE, 0);
        job.future().completeExceptionally(new InferenceException.DeadlineExceeded("caller gave up"));
        // out of the queue, or (when a worker holds it already, waiting for the lane) skipped by that worker
        batcher.withdraw(job);
        BatchJob<Integer, Integer> next = batcher.submit(3, "k", 1, Long.MAX_VALUE, 0);
        gate.countDown();
        running.get(10, TimeUnit.SECONDS);
        assertEquals(30, answer(next));
        assertEquals(List.of(List.of(1), List.of(3)), runs.stream().map(Run::payloads).toList());
    }

    private static void waitUntil(int expected, java.util.function.IntSupplier value) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.getAsInt() != expected) {
            if (System.nanoTime() > end) {
                throw new AssertionError("expected " + expected + ", still " + value.getAsInt());
            }
            Thread.sleep(1);
        }
    }
}
