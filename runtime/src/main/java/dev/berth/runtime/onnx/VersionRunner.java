package dev.berth.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.DataType;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * One loaded model version: its ONNX Runtime sessions, one platform worker thread per session, and
 * the queue they share.
 *
 * <p>ONNX Runtime runs are long native calls; run on a virtual thread they would pin its carrier
 * and starve the HTTP handlers, so callers (virtual threads) only enqueue and wait, and the workers
 * (platform threads) run. The same queue gives dynamic batching for free: while every session is
 * busy, requests pile up, and the next free worker takes all compatible ones at once (up to
 * {@code max_batch_size} rows), waiting at most {@code max_queue_delay} after the oldest request
 * for more to arrive. Only one worker gathers at a time so that arrivals join one batch instead of
 * being spread over idle workers.
 *
 * <p>Retiring puts one stop marker per worker behind the queued work: everything accepted before
 * runs, then each worker closes its own session. So a session is never closed under a run.
 */
final class VersionRunner {
    private static final System.Logger LOG = System.getLogger(VersionRunner.class.getName());
    private static final Job STOP = new Job(null, null, null, Set.of(), 0, 0, Long.MAX_VALUE, 0);

    private final String model;
    private final int version;
    private final ServingConfig config;
    private final Signature signature;
    private final InferenceObserver observer;
    private final LongSupplier ticker;
    private final OrtEnvironment env = OrtNatives.environment();
    private final List<OrtSession> sessions;
    private final boolean batchable;
    private final long maxQueueDelayNanos;
    private final LinkedBlockingDeque<Job> queue = new LinkedBlockingDeque<>();
    private final ReentrantLock gatherLock = new ReentrantLock();
    private final AtomicInteger liveWorkers;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final InputValidator validator;
    private final RunLimits limits;
    private final int maxQueueSize;
    private volatile boolean batchingBroken;
    private boolean retired;
    /** Requests submitted and not yet answered. */
    private final AtomicInteger inFlight = new AtomicInteger();
    // the most requests in flight at once, over the current and the previous window: how many
    // callers a batch can expect to gather. Races between updates only blur the estimate.
    private volatile long windowStart;
    private volatile int peakCurrent;
    private volatile int peakPrevious;
    private static final long PEAK_WINDOW_NANOS = 1_000_000_000L;

    private VersionRunner(String model, int version, ServingConfig config, Signature signature, List<OrtSession> sessions,
                          InferenceObserver observer, LongSupplier ticker, RunLimits limits) {
        this.model = model;
        this.version = version;
        this.config = config;
        this.signature = signature;
        this.sessions = sessions;
        this.observer = observer;
        this.ticker = ticker;
        this.maxQueueDelayNanos = TimeUnit.MICROSECONDS.toNanos(config.maxQueueDelayMicros());
        this.batchable = config.dynamicBatching() && config.maxBatchSize() > 1
                && !signature.inputs().isEmpty()
                && signature.inputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis)
                && signature.outputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis);
        this.validator = new InputValidator("model '" + model + "' version " + version, signature, limits.maxElements());
        this.limits = limits;
        this.maxQueueSize = config.maxQueueSize() > 0 ? config.maxQueueSize() : limits.maxQueueSize();
        this.liveWorkers = new AtomicInteger(sessions.size());
        this.windowStart = ticker.getAsLong();
    }

    /**
     * Opens the sessions (on the model as {@link ModelGuards} rewrote it, where it needed guards),
     * warms each up and starts the workers.
     *
     * @param versionDir the version's folder, where the warm-up looks for {@value ExampleRequest#FILE}
     * @param enrich     adds column names and labels (from the registry) to the signature read from the session
     * @throws LoadFailure where warm-up failed: the reason is the version's UNAVAILABLE reason
     */
    static VersionRunner open(String model, int version, Path versionDir, Path modelFile, ServingConfig config,
                              java.util.function.UnaryOperator<Signature> enrich, InferenceObserver observer,
                              LongSupplier ticker, RunLimits limits) throws OrtException, IOException, LoadFailure {
        OrtEnvironment env = OrtNatives.environment();
        byte[] guarded = guardedModel(env, model + " version " + version, modelFile);
        List<OrtSession> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < config.sessions(); i++) {
                try (OrtSession.SessionOptions options = sessionOptions(config)) {
                    if (guarded == null) {
                        sessions.add(env.createSession(modelFile.toString(), options));
                        EnvironmentHold.sessionOpened();
                    } else {
                        // loaded from memory: external weights are still found beside the model file
                        options.addConfigEntry(EXTERNAL_DATA_FOLDER, modelFile.toAbsolutePath().getParent().toString());
                        sessions.add(env.createSession(guarded, options));
                        EnvironmentHold.sessionOpened();
                    }
                }
            }
            Signature signature = enrich.apply(OnnxSignatureReader.signatureOf(sessions.get(0)));
            VersionRunner runner = new VersionRunner(model, version, config, signature, List.copyOf(sessions),
                    observer, ticker, limits);
            if (config.warmup()) {
                runner.warmUp(versionDir);
            }
            runner.startWorkers();
            return runner;
        } catch (OrtException | RuntimeException | LoadFailure e) {
            for (OrtSession s : sessions) {
                closeQuietly(s);
            }
            throw e;
        }
    }

    /** ONNX Runtime's session option for where external initializers live when a model is loaded from bytes. */
    private static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

    /**
     * The model with {@link ModelGuards}' guards, or null when it needs none (then the session
     * loads the file itself, without a copy on the Java heap).
     */
    private static byte[] guardedModel(OrtEnvironment env, String label, Path modelFile) throws IOException {
        if (!ModelGuards.mayNeedGuards(modelFile)) {
            return null;
        }
        ModelGuards.Result result = ModelGuards.apply(Files.readAllBytes(modelFile), (probe, names) -> probeTypes(env, probe, names));
        for (String line : result.unguarded()) {
            LOG.log(System.Logger.Level.WARNING, label + ": " + line);
        }
        if (!result.applied().isEmpty()) {
            LOG.log(System.Logger.Level.INFO, () -> label + ": " + result.applied().size() + " guard(s) against ONNX Runtime crashes: "
                    + String.join("; ", result.applied()));
        }
        return result.model();
    }

    /** Element types ONNX Runtime infers for {@code names}, exposed as outputs of {@code probe}. */
    private static Map<String, Integer> probeTypes(OrtEnvironment env, byte[] probe, Set<String> names) {
        Map<String, Integer> types = new HashMap<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(probe, options)) {
                for (Map.Entry<String, ai.onnxruntime.NodeInfo> e : session.getOutputInfo().entrySet()) {
                    if (names.contains(e.getKey()) && e.getValue().getInfo() instanceof ai.onnxruntime.TensorInfo info) {
                        types.put(e.getKey(), info.onnxType.value);
                    }
                }
            }
        } catch (OrtException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not ask ONNX Runtime for the types of " + names + ": " + e);
        }
        return types;
    }

    private static OrtSession.SessionOptions sessionOptions(ServingConfig config) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        if (config.intraOpThreads() > 0) {
            options.setIntraOpNumThreads(config.intraOpThreads());
        }
        if (config.interOpThreads() > 0) {
            options.setInterOpNumThreads(config.interOpThreads());
        }
        options.setOptimizationLevel(switch (config.optimizationLevel()) {
            case "disabled" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            default -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
        });
        return options;
    }

    Signature signature() {
        return signature;
    }

    ServingConfig config() {
        return config;
    }

    boolean batchable() {
        return batchable && !batchingBroken;
    }

    InputValidator validator() {
        return validator;
    }

    /**
     * Queues a validated request (inputs in signature order). Returns null when this version no
     * longer accepts work (it is being unloaded), so the caller can resolve again.
     *
     * @param deadline     the {@code ticker} time past which the request must not run, {@link Long#MAX_VALUE} for none
     * @param timeoutNanos the request's timeout, for messages (0: none)
     * @throws InferenceException.QueueFull when {@code max_queue_size} requests already wait
     * @throws InferenceException.TooLarge  when the inputs take more than the per-request ceiling
     */
    Job submit(List<Tensor> inputs, List<String> requestedOutputs, long deadline, long timeoutNanos) {
        long inputBytes = 0;
        for (Tensor t : inputs) {
            inputBytes += t.datatype() == DataType.BYTES ? bytesOf(t.bytesElements()) : t.byteSize();
        }
        if (inputBytes > limits.maxTensorBytes()) {
            throw new InferenceException.TooLarge("the inputs of this request take " + inputBytes + " bytes, more than the limit of "
                    + limits.maxTensorBytes() + " bytes one request may hold (max-tensor-bytes)");
        }
        String[][] strings = new String[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t.datatype() == DataType.BYTES) {
                // decoded on the caller's thread so a bad string fails only its own request, never a batch
                strings[i] = OnnxTensors.decodeStrings(t.name(), t.bytesElements());
            }
        }
        int rows = inputs.isEmpty() || inputs.get(0).rank() == 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, inputs.get(0).dim(0));
        Set<String> outputs = requestedOutputs.isEmpty() ? Set.of() : new LinkedHashSet<>(requestedOutputs);
        Job job = new Job(inputs, strings, batchable ? BatchKey.of(inputs) : null, outputs, rows, ticker.getAsLong(),
                deadline, timeoutNanos);
        synchronized (this) {
            if (retired) {
                return null;
            }
            if (liveWorkers.get() == 0) {
                throw new InferenceException.Unavailable("model '" + model + "' version " + version + " has no running session");
            }
            if (queue.size() >= maxQueueSize) {
                throw new InferenceException.QueueFull("model '" + model + "' version " + version + " has " + maxQueueSize
                        + " requests waiting, its queue limit (max_queue_size); retry later", 1);
            }
            recordConcurrency(inFlight.incrementAndGet(), job.enqueuedNanos);
            queue.addLast(job);
        }
        return job;
    }

    private static long bytesOf(List<byte[]> elements) {
        long n = 0;
        for (byte[] e : elements) {
            n += e.length + 4L; // as Triton's binary form counts them: a length and the bytes
        }
        return n;
    }

    /**
     * Answers a job whose deadline passed before it ran (or whose caller stopped waiting) without
     * running it. Returns true when the job is done and must be skipped.
     */
    private boolean skipExpired(Job job) {
        if (job.future.isDone()) {
            inFlight.decrementAndGet();
            return true;
        }
        if (ticker.getAsLong() - job.deadline >= 0 && job.deadline != Long.MAX_VALUE) {
            inFlight.decrementAndGet();
            job.future.completeExceptionally(expiredInQueue(job));
            return true;
        }
        return false;
    }

    /**
     * Takes a job whose caller stopped waiting out of the queue, so that only requests still waited
     * for count against {@code max_queue_size}. False when a worker has taken it already (the worker
     * then drops it, since its answer is given).
     */
    boolean withdraw(Job job) {
        if (queue.remove(job)) {
            inFlight.decrementAndGet();
            return true;
        }
        return false;
    }

    /** The failure of a request whose timeout passed while it waited for a session. */
    InferenceException.DeadlineExceeded expiredInQueue(Job job) {
        return new InferenceException.DeadlineExceeded("the request's timeout of " + millis(job.timeoutNanos)
                + " passed while it waited in the queue of model '" + model + "' version " + version + "; it was not run");
    }

    /**
     * The failure of a request whose timeout passed while its run went on: a run it is alone in is
     * cancelled; a merged run goes on for the requests of its batch that still wait.
     */
    InferenceException.DeadlineExceeded expiredInRun(Job job) {
        return new InferenceException.DeadlineExceeded("the request's timeout of " + millis(job.timeoutNanos)
                + " passed while model '" + model + "' version " + version + " ran it; its run was cancelled"
                + " (a batched run goes on for the requests still waiting for it)");
    }

    private static String millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
    }

    /** Stops accepting work; queued work still runs, then the sessions close. Idempotent. */
    CompletableFuture<Void> retire() {
        synchronized (this) {
            if (!retired) {
                retired = true;
                for (int i = 0; i < sessions.size(); i++) {
                    queue.addLast(STOP);
                }
            }
        }
        return closed;
    }

    private void startWorkers() {
        for (int i = 0; i < sessions.size(); i++) {
            Lane lane = new Lane(sessions.get(i));
            Thread.ofPlatform().daemon().name("berth-" + model + "-v" + version + "-" + i).start(() -> work(lane));
        }
    }

    private void work(Lane lane) {
        try {
            while (true) {
                List<Job> batch;
                gatherLock.lock();
                try {
                    Job first = queue.takeFirst();
                    if (first == STOP) {
                        return;
                    }
                    if (skipExpired(first)) {
                        continue;
                    }
                    batch = gather(first);
                } finally {
                    gatherLock.unlock();
                }
                execute(lane, batch);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "worker of " + model + " version " + version + " stopped", t);
        } finally {
            closeQuietly(lane.session);
            if (liveWorkers.decrementAndGet() == 0) {
                // fail anything a dead worker left behind rather than leave callers waiting forever
                Job left;
                while ((left = queue.pollFirst()) != null) {
                    if (left != STOP) {
                        inFlight.decrementAndGet();
                        left.future.completeExceptionally(new InferenceException.Unavailable(
                                "model '" + model + "' version " + version + " was unloaded"));
                    }
                }
                closed.complete(null);
            }
        }
    }

    private void recordConcurrency(int now, long at) {
        if (at - windowStart > PEAK_WINDOW_NANOS) {
            peakPrevious = peakCurrent;
            peakCurrent = 0;
            windowStart = at;
        }
        if (now > peakCurrent) {
            peakCurrent = now;
        }
    }

    /** How many requests were recently in flight at once (at least 1). */
    int recentConcurrency() {
        return Math.max(1, Math.max(peakCurrent, peakPrevious));
    }

    /**
     * The batch for {@code first}: every compatible request already queued, and while fewer requests
     * than were recently in flight at once have joined, whatever arrives until the oldest has waited
     * {@code max_queue_delay}. A lone client therefore never waits for a batch that cannot come,
     * while a crowd of clients fills the batch.
     */
    private List<Job> gather(Job first) throws InterruptedException {
        if (!batchable() || first.rows >= config.maxBatchSize() || first.key.isSolo()) {
            return List.of(first);
        }
        List<Job> batch = new ArrayList<>();
        batch.add(first);
        long rows = first.rows;
        long deadline = first.enqueuedNanos + maxQueueDelayNanos;
        int expected = recentConcurrency();
        List<Job> deferred = new ArrayList<>();
        while (rows < config.maxBatchSize()) {
            long wait = batch.size() < expected ? deadline - ticker.getAsLong() : 0;
            Job next = wait > 0 ? queue.pollFirst(wait, TimeUnit.NANOSECONDS) : queue.pollFirst();
            if (next == null) {
                break;
            }
            if (next == STOP) {
                deferred.add(next);
                break;
            }
            if (!first.key.equals(next.key)) {
                deferred.add(next);
                continue;
            }
            if (skipExpired(next)) {
                continue;
            }
            if (rows + next.rows > config.maxBatchSize()) {
                deferred.add(next);
                break;
            }
            batch.add(next);
            rows += next.rows;
        }
        for (int i = deferred.size() - 1; i >= 0; i--) {
            queue.addFirst(deferred.get(i));
        }
        return batch;
    }

    /**
     * Runs a batch. Its run is cancelled (ONNX Runtime's terminate flag) once the latest deadline of
     * its requests passes: while any request of the batch still waits for the answer the run goes on,
     * and each request whose own deadline passed has already been answered by its caller.
     */
    private void execute(Lane lane, List<Job> batch) {
        lane.reset();
        long start = ticker.getAsLong();
        for (Job job : batch) {
            job.started = true;
        }
        long deadline = 0;
        for (Job job : batch) {
            deadline = Math.max(deadline, job.deadline);
        }
        if (batch.size() == 1) {
            Job job = batch.get(0);
            RunDeadline watch = null;
            try {
                watch = deadline == Long.MAX_VALUE ? null : RunDeadline.in(deadline - start);
                List<Tensor> outputs = run(lane, job.inputs, job.strings, job.outputs, watch);
                long compute = ticker.getAsLong() - start;
                observer.batchExecuted(model, version, job.rows, 1, compute);
                inFlight.decrementAndGet();
                job.future.complete(new Result(outputs, start - job.enqueuedNanos, compute, job.rows));
            } catch (Throwable t) {
                inFlight.decrementAndGet();
                job.future.completeExceptionally(watch != null && watch.fired() ? expiredInRun(job) : mapFailure(t));
            } finally {
                if (watch != null) {
                    watch.close();
                }
            }
            return;
        }
        int totalRows = batch.stream().mapToInt(Job::rows).sum();
        List<Tensor> merged;
        RunDeadline watch = null;
        try {
            watch = deadline == Long.MAX_VALUE ? null : RunDeadline.in(deadline - start);
            List<Tensor> mergedInputs = new ArrayList<>(signature.inputs().size());
            String[][] mergedStrings = new String[signature.inputs().size()][];
            for (int i = 0; i < signature.inputs().size(); i++) {
                mergeInput(lane, batch, i, totalRows, mergedInputs, mergedStrings);
            }
            merged = run(lane, mergedInputs, mergedStrings, Set.of(), watch);
        } catch (Throwable t) {
            if (watch != null && watch.fired()) {
                // every request of the batch is past its deadline: none is run again
                for (Job job : batch) {
                    inFlight.decrementAndGet();
                    job.future.completeExceptionally(expiredInRun(job));
                }
                return;
            }
            // one request's values can break a merged run (an index out of range); run each alone so only it fails
            LOG.log(System.Logger.Level.DEBUG, () -> "merged run of " + batch.size() + " requests failed, running them one by one: " + t);
            for (Job job : batch) {
                if (!skipExpired(job)) {
                    execute(lane, List.of(job));
                }
            }
            return;
        } finally {
            if (watch != null) {
                watch.close();
            }
        }
        long compute = ticker.getAsLong() - start;
        for (Tensor out : merged) {
            if (out.rank() == 0 || out.dim(0) != totalRows) {
                // the model does not keep rows aligned on this output; batching cannot be split back
                batchingBroken = true;
                LOG.log(System.Logger.Level.WARNING, "output '" + out.name() + "' of " + model + " version " + version
                        + " does not have one row per input row; dynamic batching turned off for this version");
                for (Job job : batch) {
                    if (!skipExpired(job)) {
                        execute(lane, List.of(job));
                    }
                }
                return;
            }
        }
        observer.batchExecuted(model, version, totalRows, batch.size(), compute);
        int offset = 0;
        for (Job job : batch) {
            List<Tensor> mine = new ArrayList<>();
            if (job.outputs.isEmpty()) {
                for (Tensor out : merged) {
                    mine.add(rows(out, offset, job.rows, totalRows));
                }
            } else {
                for (String name : job.outputs) {
                    for (Tensor out : merged) {
                        if (out.name().equals(name)) {
                            mine.add(rows(out, offset, job.rows, totalRows));
                        }
                    }
                }
            }
            offset += job.rows;
            inFlight.decrementAndGet();
            job.future.complete(new Result(mine, start - job.enqueuedNanos, compute, totalRows));
        }
    }

    private void mergeInput(Lane lane, List<Job> batch, int index, int totalRows, List<Tensor> mergedInputs, String[][] mergedStrings) {
        Tensor first = batch.get(0).inputs.get(index);
        long[] shape = first.shape();
        shape[0] = totalRows;
        if (first.datatype() == DataType.BYTES) {
            String[] all = new String[(int) Tensor.elementCount(shape)];
            int at = 0;
            for (Job job : batch) {
                String[] part = job.strings[index];
                System.arraycopy(part, 0, all, at, part.length);
                at += part.length;
            }
            mergedStrings[index] = all;
            mergedInputs.add(Tensor.ofBytes(first.name(), shape, List.of()));
        } else {
            long bytes = 0;
            for (Job job : batch) {
                bytes += job.inputs.get(index).byteSize();
            }
            ByteBuffer all = lane.take(Math.toIntExact(bytes));
            for (Job job : batch) {
                all.put(job.inputs.get(index).data());
            }
            all.flip();
            mergedInputs.add(Tensor.ofRaw(first.name(), first.datatype(), shape, all));
        }
    }

    /** Rows [offset, offset + count) of an output, without copying. */
    private static Tensor rows(Tensor out, int offset, int count, int totalRows) {
        long[] shape = out.shape();
        shape[0] = count;
        if (out.datatype() == DataType.BYTES) {
            int perRow = out.bytesElements().size() / totalRows;
            return Tensor.ofBytes(out.name(), shape, out.bytesElements().subList(offset * perRow, (offset + count) * perRow));
        }
        ByteBuffer data = out.data();
        int rowBytes = data.remaining() / totalRows;
        ByteBuffer slice = data.duplicate();
        slice.position(offset * rowBytes).limit((offset + count) * rowBytes);
        return Tensor.ofRaw(out.name(), out.datatype(), shape, slice);
    }

    /** One ONNX Runtime run; the outputs come back in the signature's order. */
    private List<Tensor> run(Lane lane, List<Tensor> inputs, String[][] strings, Set<String> wanted, RunDeadline deadline)
            throws OrtException {
        OrtSession session = lane.session;
        Map<String, OnnxTensor> feed = new HashMap<>(inputs.size() * 2);
        try {
            for (int i = 0; i < inputs.size(); i++) {
                Tensor t = inputs.get(i);
                if (t.datatype() != DataType.BYTES && !t.data().isDirect()) {
                    ByteBuffer copy = lane.take(Math.toIntExact(t.byteSize()));
                    copy.put(t.data()).flip();
                    t = Tensor.ofRaw(t.name(), t.datatype(), t.shape(), copy);
                }
                OnnxTensor value = t.datatype() == DataType.BYTES
                        ? OnnxTensors.strings(env, strings[i], t.shape())
                        : OnnxTensors.toOnnx(env, t);
                feed.put(t.name(), value);
            }
            // all outputs in the model's order, or the requested ones in the order asked for
            Set<String> names = new LinkedHashSet<>();
            if (wanted.isEmpty()) {
                for (TensorSpec out : signature.outputs()) {
                    names.add(out.name());
                }
            } else {
                names.addAll(wanted);
            }
            try (OrtSession.Result result = deadline == null ? session.run(feed, names)
                    : session.run(feed, names, deadline.options())) {
                checkOutputSize(result, names);
                List<Tensor> outputs = new ArrayList<>(names.size());
                for (String name : names) {
                    OnnxValue value = result.get(name).orElseThrow(() ->
                            new InferenceException.Internal("ONNX Runtime returned no output '" + name + "'", null));
                    if (!(value instanceof OnnxTensor tensor)) {
                        throw new InferenceException.Internal("output '" + name + "' is not a tensor", null);
                    }
                    outputs.add(OnnxTensors.fromOnnx(name, tensor));
                }
                return outputs;
            }
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    /**
     * Refuses outputs larger than one request may make the server hold, before they are copied out
     * of ONNX Runtime (and then encoded): a model can make any amount from a small request (Expand
     * to a shape the request names, ConstantOfShape).
     */
    private void checkOutputSize(OrtSession.Result result, Set<String> names) {
        long bytes = 0;
        for (String name : names) {
            if (result.get(name).orElse(null) instanceof OnnxTensor tensor) {
                ai.onnxruntime.TensorInfo info = tensor.getInfo();
                long size = info.type == ai.onnxruntime.OnnxJavaType.STRING ? info.getNumElements() * 16L
                        : info.getNumElements() * Math.max(1, info.type.size);
                bytes += size;
            }
        }
        if (bytes > limits.maxTensorBytes()) {
            throw new InferenceException.TooLarge("model '" + model + "' version " + version + " made outputs of " + bytes
                    + " bytes for this request, more than the limit of " + limits.maxTensorBytes()
                    + " bytes one request may hold (max-tensor-bytes)");
        }
    }

    /**
     * One run per session: with the version's registered example request where it has one that
     * fits the signature, else with generated inputs that avoid zeros (a zero divisor is the first
     * thing a model can refuse).
     */
    private void warmUp(Path versionDir) throws LoadFailure {
        List<Tensor> inputs = null;
        String source = ExampleRequest.FILE;
        try {
            List<Tensor> example = ExampleRequest.read(versionDir);
            if (!example.isEmpty()) {
                inputs = validator.validate(example);
            }
        } catch (IllegalArgumentException | InferenceException e) {
            LOG.log(System.Logger.Level.WARNING, model + " version " + version + ": " + ExampleRequest.FILE
                    + " is not used for warm-up: " + e.getMessage());
        }
        if (inputs == null) {
            inputs = generatedInputs();
            source = "generated inputs";
        }
        String[][] strings = new String[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t.datatype() == DataType.BYTES) {
                strings[i] = OnnxTensors.decodeStrings(t.name(), t.bytesElements());
            }
        }
        for (OrtSession session : sessions) {
            Lane lane = new Lane(session);
            try {
                run(lane, inputs, strings, Set.of(), null);
            } catch (OrtException | RuntimeException e) {
                throw new LoadFailure("warm-up with " + source + " failed: " + reason(e)
                        + (source.equals(ExampleRequest.FILE) ? "" : " (register an " + ExampleRequest.FILE
                        + " the model can run, or turn warm-up off in its serving config)"));
            }
        }
    }

    /**
     * Inputs for a warm-up run without an example: dynamic dimensions 1, every number 1 (true for
     * BOOL), every string "1".
     */
    private List<Tensor> generatedInputs() {
        List<Tensor> inputs = new ArrayList<>();
        for (TensorSpec spec : signature.inputs()) {
            long[] shape = spec.shape().stream().mapToLong(d -> d < 0 ? 1 : d).toArray();
            int count = Math.toIntExact(Tensor.elementCount(shape));
            if (spec.datatype() == DataType.BYTES) {
                List<byte[]> elements = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    elements.add(new byte[] {'1'});
                }
                inputs.add(Tensor.ofBytes(spec.name(), shape, elements));
                continue;
            }
            ByteBuffer data = ByteBuffer.allocateDirect(count * spec.datatype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                switch (spec.datatype()) {
                    case BOOL, UINT8, INT8 -> data.put((byte) 1);
                    case UINT16, INT16 -> data.putShort((short) 1);
                    case FP16 -> data.putShort(Float.floatToFloat16(1f));
                    case BF16 -> data.putShort((short) (Float.floatToRawIntBits(1f) >>> 16));
                    case UINT32, INT32 -> data.putInt(1);
                    case UINT64, INT64 -> data.putLong(1);
                    case FP32 -> data.putFloat(1f);
                    case FP64 -> data.putDouble(1d);
                    case BYTES -> throw new IllegalStateException("handled above");
                }
            }
            data.flip();
            inputs.add(Tensor.ofRaw(spec.name(), spec.datatype(), shape, data));
        }
        return inputs;
    }

    /** The cause of a failed run in one line: a guard's explanation, or ONNX Runtime's message without its noise. */
    static String reason(Throwable t) {
        if (t instanceof OrtException e) {
            String guard = ModelGuards.explain(e.getMessage());
            return guard != null ? guard : OrtMessages.cause(e.getMessage());
        }
        return t.getMessage() == null ? t.toString() : firstLine(t.getMessage());
    }

    /** Why a version could not be made ready (warm-up failed); the message is the version's reason as it stands. */
    static final class LoadFailure extends Exception {
        LoadFailure(String reason) {
            super(reason);
        }
    }

    private RuntimeException mapFailure(Throwable t) {
        if (t instanceof InferenceException e) {
            return e;
        }
        if (t instanceof OrtException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> model + " version " + version + " run failed: " + e.getMessage());
            String reason = reason(e);
            if (isAllocationFailure(e.getMessage())) {
                return new InferenceException.TooLarge("model '" + model + "' version " + version
                        + " could not allocate the memory these inputs need: " + reason);
            }
            return switch (e.getCode()) {
                // with names, types, ranks and fixed dims checked, what ONNX Runtime still rejects is a
                // combination of inputs the graph cannot compute (mismatched dynamic dims, values out of
                // range, a zero divisor, a guard of ModelGuards)
                case ORT_INVALID_ARGUMENT, ORT_RUNTIME_EXCEPTION, ORT_FAIL -> new InferenceException.InvalidInput(
                        "model '" + model + "' version " + version + " cannot run these inputs: " + reason);
                default -> new InferenceException.Internal("model '" + model + "' version " + version + " failed: " + reason, e);
            };
        }
        return new InferenceException.Internal("model '" + model + "' version " + version + " failed: " + t, t);
    }

    /** ONNX Runtime's words for an allocation that failed (the arena, or the system allocator). */
    static boolean isAllocationFailure(String message) {
        return message != null && (message.contains("Failed to allocate memory") || message.contains("bad_alloc")
                || message.contains("bad allocation") || message.contains("std::bad_array_new_length"));
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private static void closeQuietly(OrtSession session) {
        try {
            EnvironmentHold.sessionClosed();
            session.close();
        } catch (OrtException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing a session failed: " + e);
        }
    }

    /**
     * One session and its worker's scratch memory: the direct buffer that heap inputs and merged
     * batches are copied into. ONNX Runtime only reads it during the run, so it is reused for the
     * next one instead of allocating (and later freeing) direct memory per request.
     */
    private static final class Lane {
        private static final int KEEP_LIMIT = 64 << 20;
        final OrtSession session;
        private ByteBuffer scratch = ByteBuffer.allocateDirect(0);
        private int used;

        Lane(OrtSession session) {
            this.session = session;
        }

        void reset() {
            used = 0;
        }

        /** A direct little-endian region of {@code bytes} bytes, valid until the next {@link #reset()}. */
        ByteBuffer take(int bytes) {
            if (used + bytes > scratch.capacity()) {
                int size = Math.max(used + bytes, Math.min(KEEP_LIMIT, scratch.capacity() * 2));
                if (size > KEEP_LIMIT) {
                    return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
                }
                // regions handed out earlier keep the old buffer alive until they are dropped
                scratch = ByteBuffer.allocateDirect(size);
                used = 0;
            }
            ByteBuffer region = scratch.duplicate().position(used).limit(used + bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
            used += bytes;
            return region;
        }
    }

    /** What a run gave one request. */
    record Result(List<Tensor> outputs, long queueNanos, long computeNanos, int batchRows) {
    }

    /** One queued request and the answer its caller waits for. */
    static final class Job {
        final List<Tensor> inputs;
        final String[][] strings;
        final BatchKey key;
        final Set<String> outputs;
        final int rows;
        final long enqueuedNanos;
        /** {@code ticker} time past which the job is not started; {@link Long#MAX_VALUE} for none. */
        final long deadline;
        final long timeoutNanos;
        final CompletableFuture<Result> future = new CompletableFuture<>();
        /** Set by the worker when the job's run starts. */
        volatile boolean started;

        Job(List<Tensor> inputs, String[][] strings, BatchKey key, Set<String> outputs, int rows, long enqueuedNanos,
            long deadline, long timeoutNanos) {
            this.inputs = inputs;
            this.strings = strings;
            this.key = key;
            this.outputs = outputs;
            this.rows = rows;
            this.enqueuedNanos = enqueuedNanos;
            this.deadline = deadline;
            this.timeoutNanos = timeoutNanos;
        }

        int rows() {
            return rows;
        }

        CompletableFuture<Result> future() {
            return future;
        }
    }

    /**
     * Requests merge only when every input has the same dimensions past the first axis, and a request
     * merges at all only when its inputs agree on the first (batch) axis. Without that second rule a
     * request with one row of {@code ids} and two of {@code mask} (an error when run alone) merged
     * with another whose counts are the other way round would run "fine" and shift rows between the
     * two callers. A request whose inputs disagree runs alone and gets ONNX Runtime's own verdict.
     */
    private record BatchKey(long[] trailing) {
        /** A key equal to no other, not even another solo key: its request runs alone. */
        static BatchKey solo() {
            return new BatchKey(null);
        }

        boolean isSolo() {
            return trailing == null;
        }

        static BatchKey of(List<Tensor> inputs) {
            for (Tensor t : inputs) {
                if (t.rank() == 0 || t.dim(0) != inputs.get(0).dim(0)) {
                    return solo();
                }
            }
            int n = 0;
            for (Tensor t : inputs) {
                n += t.rank();
            }
            long[] dims = new long[n + inputs.size()];
            int at = 0;
            for (Tensor t : inputs) {
                dims[at++] = t.rank();
                for (int axis = 1; axis < t.rank(); axis++) {
                    dims[at++] = t.dim(axis);
                }
            }
            return new BatchKey(Arrays.copyOf(dims, at));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BatchKey k && trailing != null && k.trailing != null && Arrays.equals(trailing, k.trailing);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(trailing);
        }

        @Override
        public String toString() {
            return Arrays.toString(trailing);
        }
    }
}
