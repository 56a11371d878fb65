package dev.berth.runtime.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.ServingLayout;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * One loaded model version: its ONNX Runtime sessions and what one run does with them (inputs in,
 * merged batches split back per caller, outputs copied out). Which requests run together, and on
 * which thread, is its {@link DynamicBatcher}'s job; this class is the run function it is given.
 *
 * <p>Why over 400 lines: merging inputs, running, the output ceiling and splitting outputs back per
 * caller are one run function and share the lane's scratch memory; opening, warm-up inputs and
 * failure mapping already live apart ({@link GuardedSessions}, {@link WarmUp}, {@link RunFailures}).
 */
final class VersionRunner {
    private static final System.Logger LOG = System.getLogger(VersionRunner.class.getName());

    /** A validated request as the batcher carries it: inputs in signature order, BYTES already decoded. */
    record Work(List<Tensor> inputs, String[][] strings, Set<String> outputs) {
    }

    /** What a run gave one request. */
    record Result(List<Tensor> outputs, long queueNanos, long computeNanos, int batchRows) {
    }

    /** Rows a layout is measured with where the version batches ({@link #measureLayout}). */
    static final int PROBE_ROWS = 8;

    private final String model;
    private final int version;
    private final String label;
    private final ServingConfig config;
    private final Signature signature;
    private final InferenceObserver observer;
    private final LongSupplier ticker;
    private final OrtEnvironment env = OrtNatives.environment();
    private final boolean batchable;
    private final InputValidator validator;
    private final RunLimits limits;
    private final DynamicBatcher<Lane, Work, Result> batcher;
    private volatile boolean batchingBroken;

    private VersionRunner(String model, int version, ServingConfig config, Signature signature, List<OrtSession> sessions,
                          InferenceObserver observer, LongSupplier ticker, RunLimits limits) {
        this.model = model;
        this.version = version;
        this.label = "model '" + model + "' version " + version;
        this.config = config;
        this.signature = signature;
        this.observer = observer;
        this.ticker = ticker;
        this.batchable = config.dynamicBatching() && config.maxBatchSize() > 1
                && !signature.inputs().isEmpty()
                && signature.inputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis)
                && signature.outputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis);
        this.validator = new InputValidator(label, signature, limits.maxElements());
        this.limits = limits;
        this.batcher = DynamicBatcher.<Lane, Work, Result>builder()
                .label(label)
                .lanes(sessions.stream().map(Lane::new).toList())
                .runFunction(this::runBatch)
                .closeLane(lane -> {
                    lane.close();
                    GuardedSessions.closeQuietly(lane.session());
                })
                .expiredInQueue(this::expiredInQueue)
                .batching(this::batchable)
                .maxBatchSize(config.maxBatchSize())
                .maxQueueDelay(TimeUnit.MICROSECONDS.toNanos(config.maxQueueDelayMicros()))
                .maxQueueSize(config.maxQueueSize() > 0 ? config.maxQueueSize() : limits.maxQueueSize())
                .ticker(ticker)
                .build();
    }

    /**
     * Opens the sessions, warms each up and starts the workers. With {@code layout: auto} (and
     * warm-up on: the measurement runs the warm-up inputs) the sessions and intra-op threads come
     * from {@code layouts} when it holds a measurement made on as many cores, else from a short
     * measurement ({@link LayoutProbe}, {@link LayoutChoice}) that is then written to it; where
     * that picks another layout than {@code config}'s, the version is opened again with it.
     *
     * @param versionDir the version's folder, where the warm-up looks for {@value ExampleRequest#FILE}
     * @param enrich     adds column names and labels (from the registry) to the signature read from the session
     * @throws LoadFailure where warm-up failed: the reason is the version's UNAVAILABLE reason
     */
    static VersionRunner open(String model, int version, Path versionDir, Path modelFile, ServingConfig config,
                              UnaryOperator<Signature> enrich, InferenceObserver observer,
                              LongSupplier ticker, RunLimits limits, LayoutStore layouts)
            throws OrtException, IOException, LoadFailure {
        String label = model + " version " + version;
        ServingConfig effective = config;
        boolean measure = config.autoLayout() && config.warmup();
        if (measure) {
            Optional<ServingLayout> stored = layouts.read().filter(l -> l.cores() == cores());
            if (stored.isPresent()) {
                effective = config.withLayout(stored.get().sessions(), stored.get().intraOpThreads());
                measure = false;
                LOG.log(System.Logger.Level.DEBUG, () -> label + ": serving layout from " + LocalRegistry.LAYOUT_FILE + ": "
                        + stored.get().describe());
            }
        }
        List<OrtSession> sessions = GuardedSessions.open(label, modelFile, effective);
        try {
            Signature signature = enrich.apply(OnnxSignatureReader.signatureOf(sessions.get(0)));
            VersionRunner runner = new VersionRunner(model, version, effective, signature, sessions, observer, ticker, limits);
            if (config.warmup()) {
                runner.warmUp(versionDir, sessions);
            }
            if (measure) {
                ServingLayout chosen = runner.measureLayout(versionDir, modelFile, sessions);
                try {
                    layouts.write(chosen);
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.INFO, label + ": the measured serving layout could not be written ("
                            + e.getMessage() + "); it is used, and measured again at the next load");
                }
                LOG.log(System.Logger.Level.INFO, label + ": serving layout " + chosen.describe());
                if (chosen.sessions() != effective.sessions() || chosen.intraOpThreads() != effective.intraOpThreads()) {
                    GuardedSessions.closeAll(sessions);
                    return open(model, version, versionDir, modelFile, config, enrich, observer, ticker, limits,
                            new Remembered(chosen));
                }
            }
            runner.batcher.start("berth-" + model + "-v" + version + "-");
            return runner;
        } catch (RuntimeException | LoadFailure | OrtException | IOException e) {
            GuardedSessions.closeAll(sessions);
            throw e;
        }
    }

    /** The processors this JVM may use: what a layout is measured for. */
    static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** A layout just measured, handed to the second open so that it is not measured again. */
    private record Remembered(ServingLayout layout) implements LayoutStore {
        @Override
        public Optional<ServingLayout> read() {
            return Optional.of(layout);
        }

        @Override
        public void write(ServingLayout l) {
        }
    }

    /**
     * Times the candidate layouts and picks one ({@link LayoutChoice}). What is run: the warm-up
     * inputs, and where the version batches, as many copies of them as make
     * {@value #PROBE_ROWS} rows (at most {@code max_batch_size}): under load a session runs merged
     * batches, and a layout's worth shows at their size, not at one row.
     */
    private ServingLayout measureLayout(Path versionDir, Path modelFile, List<OrtSession> open) throws OrtException, IOException {
        WarmUp.Inputs warm = WarmUp.inputs(label, versionDir, signature, validator);
        int warmRows = rowsOf(warm.tensors());
        int times = batchable() ? Math.max(1, Math.min(PROBE_ROWS, config.maxBatchSize()) / Math.max(1, warmRows)) : 1;
        List<Tensor> tensors = WarmUp.repeatRows(warm.tensors(), times);
        String[][] strings = decodedStrings(tensors);
        // ONNX Runtime's own run on inputs made once: what the layout changes. The Java around a run
        // (tensors in, outputs copied out) is the same for every layout, and while the JVM has just
        // started it runs interpreted and would make a cheap model look dear
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                if (t.datatype() != DataType.BYTES && !t.data().isDirect()) {
                    ByteBuffer copy = ByteBuffer.allocateDirect(Math.toIntExact(t.byteSize())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    copy.put(t.data()).flip();
                    t = Tensor.ofRaw(t.name(), t.datatype(), t.shape(), copy);
                }
                feed.put(t.name(), t.datatype() == DataType.BYTES ? OnnxTensors.strings(env, strings[i], t.shape()) : OnnxTensors.toOnnx(env, t));
            }
            LayoutProbe probe = new LayoutProbe(lane -> lane.session().run(feed).close(),
                    (n, threads) -> GuardedSessions.open(model + " version " + version, modelFile, config.withLayout(n, threads)));
            long runNanos = probe.runNanos(open.get(0), config.intraOpThreads() == 1);
            List<ServingLayout.Candidate> timed = List.of();
            if (!LayoutChoice.cheap(runNanos)) {
                timed = probe.time(LayoutChoice.candidates(cores(), config.sessions(), config.intraOpThreads()), open);
            }
            LayoutChoice.Choice choice = LayoutChoice.choose(runNanos, timed, config.sessions(), config.intraOpThreads());
            return layout(warm, tensors, runNanos, timed, choice);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private static ServingLayout layout(WarmUp.Inputs warm, List<Tensor> tensors, long runNanos, List<ServingLayout.Candidate> timed,
                                        LayoutChoice.Choice choice) {
        int rows = rowsOf(tensors);
        return new ServingLayout(ServingLayout.FORMAT, Instant.now().truncatedTo(ChronoUnit.SECONDS), cores(), choice.sessions(),
                choice.intraOpThreads(), runNanos / 1000.0, warm.source() + ", " + rows + (rows == 1 ? " row" : " rows"),
                choice.reason(), timed);
    }

    private static int rowsOf(List<Tensor> inputs) {
        return inputs.isEmpty() || inputs.get(0).rank() == 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, inputs.get(0).dim(0));
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
     * Takes a validated request (inputs in signature order): runs it, or queues it (see
     * {@link DynamicBatcher#submit}). Returns null when this version no longer accepts work (it is
     * being unloaded), so the caller can resolve again.
     *
     * @param deadline     the {@code ticker} time past which the request must not run, {@link Long#MAX_VALUE} for none
     * @param timeoutNanos the request's timeout, for messages (0: none)
     * @throws InferenceException.QueueFull when {@code max_queue_size} requests already wait
     * @throws InferenceException.TooLarge  when the inputs take more than the per-request ceiling
     */
    BatchJob<Work, Result> submit(List<Tensor> inputs, List<String> requestedOutputs, long deadline, long timeoutNanos) {
        long inputBytes = 0;
        for (Tensor t : inputs) {
            inputBytes += t.datatype() == DataType.BYTES ? bytesOf(t.bytesElements()) : t.byteSize();
        }
        if (inputBytes > limits.maxTensorBytes()) {
            throw new InferenceException.TooLarge("the inputs of this request take " + inputBytes + " bytes, more than the limit of "
                    + limits.maxTensorBytes() + " bytes one request may hold (max-tensor-bytes)");
        }
        String[][] strings = decodedStrings(inputs);
        int rows = inputs.isEmpty() || inputs.get(0).rank() == 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, inputs.get(0).dim(0));
        Set<String> outputs = requestedOutputs.isEmpty() ? Set.of() : new LinkedHashSet<>(requestedOutputs);
        return batcher.submit(new Work(inputs, strings, outputs), batchable ? BatchKey.of(inputs) : null, rows,
                deadline, timeoutNanos);
    }

    // decoded on the caller's thread so a bad string fails only its own request, never a batch
    private static String[][] decodedStrings(List<Tensor> inputs) {
        String[][] strings = new String[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t.datatype() == DataType.BYTES) {
                strings[i] = OnnxTensors.decodeStrings(t.name(), t.bytesElements());
            }
        }
        return strings;
    }

    private static long bytesOf(List<byte[]> elements) {
        long n = 0;
        for (byte[] e : elements) {
            n += e.length + 4L; // as Triton's binary form counts them: a length and the bytes
        }
        return n;
    }

    /** See {@link DynamicBatcher#withdraw}. */
    boolean withdraw(BatchJob<Work, Result> job) {
        return batcher.withdraw(job);
    }

    /** The failure of a request whose timeout passed while it waited for a session. */
    InferenceException.DeadlineExceeded expiredInQueue(BatchJob<Work, Result> job) {
        return new InferenceException.DeadlineExceeded("the request's timeout of " + millis(job.timeoutNanos())
                + " passed while it waited in the queue of " + label + "; it was not run");
    }

    /**
     * The failure of a request whose timeout passed while its run went on: a run it is alone in is
     * cancelled; a merged run goes on for the requests of its batch that still wait.
     */
    InferenceException.DeadlineExceeded expiredInRun(BatchJob<Work, Result> job) {
        return new InferenceException.DeadlineExceeded("the request's timeout of " + millis(job.timeoutNanos())
                + " passed while " + label + " ran it; its run was cancelled"
                + " (a batched run goes on for the requests still waiting for it)");
    }

    /** The rows of a warm-up run: its first input's first axis (1 for a scalar). */
    private static int warmUpRows(List<Tensor> inputs) {
        Tensor first = inputs.isEmpty() ? null : inputs.get(0);
        return first == null || first.rank() == 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, Math.max(1, first.dim(0)));
    }

    /** The failure of a request whose run ended after its timeout, too late for the terminate flag to stop it. */
    private InferenceException.DeadlineExceeded expiredAfterRun(BatchJob<Work, Result> job) {
        return new InferenceException.DeadlineExceeded("the request's timeout of " + millis(job.timeoutNanos())
                + " passed while " + label + " ran it; the run ended after it");
    }

    private static String millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
    }

    /** Stops accepting work; queued work still runs, then the sessions close. Idempotent. */
    CompletableFuture<Void> retire() {
        return batcher.retire();
    }

    /**
     * The run function: one ONNX Runtime run for the batch. Its run is cancelled (ONNX Runtime's
     * terminate flag) once the latest deadline of its requests passes: while any request of the
     * batch still waits for the answer the run goes on, and each request whose own deadline passed
     * has already been answered by its caller.
     */
    private boolean runBatch(Lane lane, List<BatchJob<Work, Result>> batch) {
        lane.reset();
        long start = ticker.getAsLong();
        long deadline = 0;
        for (BatchJob<Work, Result> job : batch) {
            deadline = Math.max(deadline, job.deadline());
        }
        if (batch.size() == 1) {
            runAlone(lane, batch.get(0), start, deadline);
            return true;
        }
        int totalRows = batch.stream().mapToInt(BatchJob::rows).sum();
        List<Tensor> merged;
        RunDeadline watch = null;
        try {
            watch = deadline == Long.MAX_VALUE ? null : lane.deadline(deadline - start);
            List<Tensor> mergedInputs = new ArrayList<>(signature.inputs().size());
            String[][] mergedStrings = new String[signature.inputs().size()][];
            for (int i = 0; i < signature.inputs().size(); i++) {
                mergeInput(lane, batch, i, totalRows, mergedInputs, mergedStrings);
            }
            merged = run(lane, mergedInputs, mergedStrings, Set.of(), watch);
        } catch (Throwable t) {
            if (watch != null && watch.fired()) {
                // every request of the batch is past its deadline: none is run again
                for (BatchJob<Work, Result> job : batch) {
                    job.fail(expiredInRun(job));
                }
                return true;
            }
            // one request's values can break a merged run (an index out of range): the batcher runs each alone
            return false;
        } finally {
            if (watch != null) {
                watch.disarm();
            }
        }
        long compute = ticker.getAsLong() - start;
        for (Tensor out : merged) {
            if (out.rank() == 0 || out.dim(0) != totalRows) {
                // the model does not keep rows aligned on this output; batching cannot be split back
                batchingBroken = true;
                LOG.log(System.Logger.Level.WARNING, "output '" + out.name() + "' of " + model + " version " + version
                        + " does not have one row per input row; dynamic batching turned off for this version");
                return false;
            }
        }
        observer.batchExecuted(model, version, totalRows, batch.size(), compute);
        int offset = 0;
        for (BatchJob<Work, Result> job : batch) {
            List<Tensor> mine = new ArrayList<>();
            Set<String> wanted = job.payload().outputs();
            if (wanted.isEmpty()) {
                for (Tensor out : merged) {
                    mine.add(rows(out, offset, job.rows(), totalRows));
                }
            } else {
                for (String name : wanted) {
                    for (Tensor out : merged) {
                        if (out.name().equals(name)) {
                            mine.add(rows(out, offset, job.rows(), totalRows));
                        }
                    }
                }
            }
            offset += job.rows();
            job.answer(new Result(mine, start - job.enqueuedNanos(), compute, totalRows));
        }
        return true;
    }

    private void runAlone(Lane lane, BatchJob<Work, Result> job, long start, long deadline) {
        RunDeadline watch = null;
        try {
            watch = deadline == Long.MAX_VALUE ? null : lane.deadline(deadline - start);
            Work work = job.payload();
            List<Tensor> outputs = run(lane, work.inputs(), work.strings(), work.outputs(), watch);
            long end = ticker.getAsLong();
            long compute = end - start;
            observer.batchExecuted(model, version, job.rows(), 1, compute);
            if (deadline != Long.MAX_VALUE && end - deadline > 0) {
                // the terminate flag came too late for this run (ONNX Runtime looks at it between nodes, and
                // the watchdog can be late on a loaded machine): past its timeout a request is not answered
                // with a result, whoever ran it (a caller running its own request cannot answer earlier)
                job.fail(expiredAfterRun(job));
                return;
            }
            job.answer(new Result(outputs, start - job.enqueuedNanos(), compute, job.rows()));
        } catch (Throwable t) {
            job.fail(watch != null && watch.fired() ? expiredInRun(job) : RunFailures.map(label, t));
        } finally {
            if (watch != null) {
                watch.disarm();
            }
        }
    }

    private void mergeInput(Lane lane, List<BatchJob<Work, Result>> batch, int index, int totalRows,
                            List<Tensor> mergedInputs, String[][] mergedStrings) {
        Tensor first = batch.get(0).payload().inputs().get(index);
        long[] shape = first.shape();
        shape[0] = totalRows;
        if (first.datatype() == DataType.BYTES) {
            String[] all = new String[(int) Tensor.elementCount(shape)];
            int at = 0;
            for (BatchJob<Work, Result> job : batch) {
                String[] part = job.payload().strings()[index];
                System.arraycopy(part, 0, all, at, part.length);
                at += part.length;
            }
            mergedStrings[index] = all;
            mergedInputs.add(Tensor.ofBytes(first.name(), shape, List.of()));
        } else {
            long bytes = 0;
            for (BatchJob<Work, Result> job : batch) {
                bytes += job.payload().inputs().get(index).byteSize();
            }
            ByteBuffer all = lane.take(Math.toIntExact(bytes));
            for (BatchJob<Work, Result> job : batch) {
                all.put(job.payload().inputs().get(index).data());
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
        OrtSession session = lane.session();
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
                TensorInfo info = tensor.getInfo();
                long size = info.type == OnnxJavaType.STRING ? info.getNumElements() * 16L
                        : info.getNumElements() * Math.max(1, info.type.size);
                bytes += size;
            }
        }
        if (bytes > limits.maxTensorBytes()) {
            throw new InferenceException.TooLarge(label + " made outputs of " + bytes
                    + " bytes for this request, more than the limit of " + limits.maxTensorBytes()
                    + " bytes one request may hold (max-tensor-bytes)");
        }
    }

    /**
     * One run per session, with {@link WarmUp}'s inputs. The time of the last one tells the batcher
     * how long a single run takes before the first request comes.
     */
    private void warmUp(Path versionDir, List<OrtSession> sessions) throws LoadFailure {
        WarmUp.Inputs inputs = WarmUp.inputs(model + " version " + version, versionDir, signature, validator);
        String[][] strings = decodedStrings(inputs.tensors());
        for (OrtSession session : sessions) {
            long start = ticker.getAsLong();
            try {
                run(new Lane(session), inputs.tensors(), strings, Set.of(), null);
            } catch (OrtException | RuntimeException e) {
                throw new LoadFailure("warm-up with " + inputs.source() + " failed: " + RunFailures.reason(e)
                        + (inputs.fromExample() ? "" : " (register an " + ExampleRequest.FILE
                        + " the model can run, or turn warm-up off in its serving config)"));
            }
            batcher.recordSingleRun(ticker.getAsLong() - start, warmUpRows(inputs.tensors()));
        }
    }

    /** Why a version could not be made ready (warm-up failed); the message is the version's reason as it stands. */
    static final class LoadFailure extends Exception {
        LoadFailure(String reason) {
            super(reason);
        }
    }
}
