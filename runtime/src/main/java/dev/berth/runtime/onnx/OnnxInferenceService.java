package dev.berth.runtime.onnx;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.Signature;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.ModelConfiguration;
import dev.berth.runtime.ModelMetadata;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;
import dev.berth.runtime.Tensor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * The inference core on ONNX Runtime, serving the models of a {@link LocalRegistry}: the facade
 * over its parts. {@link ModelLifeCycle} keeps what is loaded in line with the registry (hot
 * reload, the repository API), {@link VersionRouter} picks the version that answers (aliases,
 * weights, the default), and each loaded version's {@link VersionRunner} runs requests through its
 * {@link DynamicBatcher}.
 *
 * <p>Every version that a model's {@link VersionPolicy} selects is loaded with its
 * {@link ServingConfig} (sessions, threads, optimisation level, dynamic batching, warm-up). The
 * registry is polled for changes (new, deleted or replaced versions, aliases, {@code model.json}),
 * which are applied without a restart: a new version is loaded and published before the version it
 * replaces stops taking requests, and a session is closed only after the runs queued on it finish.
 *
 * <p>Loading starts in the background when the service is built; {@link #ready()} turns true once
 * every version marked to load has been tried. A version that fails to load is
 * {@link ModelState#UNAVAILABLE} with the reason in {@link #repositoryIndex()} and does not hold
 * back the others, but keeps {@link #ready()} false (strict readiness, the default; see
 * {@link Builder#strictReadiness(boolean)}).
 *
 * <p>Thread-safety: all methods may be called from any number of threads (virtual threads
 * included); {@link #infer} blocks its caller until the answer is there.
 *
 * <p>Why over 400 lines: about 170 of them are the {@link Builder}'s options and their javadoc,
 * the public configuration of the core; the facade itself only routes, waits and reports.
 */
public final class OnnxInferenceService implements InferenceService {
    /** Default cap on elements in one input tensor: 2^27 (512 MiB of FP32). */
    public static final long DEFAULT_MAX_ELEMENTS = 1L << 27;
    /** Default ceiling on one request's decoded inputs, and separately on its outputs: 256 MiB. */
    public static final long DEFAULT_MAX_TENSOR_BYTES = 256L << 20;
    /** Default number of requests that may wait per version where its serving config sets none. */
    public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;

    private final LocalRegistry registry;
    private final InferenceObserver observer;
    private final boolean strictReadiness;
    private final boolean allowEmpty;
    private final LongSupplier ticker;
    private final ModelLifeCycle lifeCycle;

    private OnnxInferenceService(Builder b) {
        this.registry = b.registry;
        this.observer = b.observer;
        this.strictReadiness = b.strictReadiness;
        this.allowEmpty = b.allowEmpty;
        this.ticker = b.ticker;
        RunLimits limits = new RunLimits(b.maxElements, b.maxTensorBytes, b.maxQueueSize);
        this.lifeCycle = new ModelLifeCycle(b.registry, b.observer, b.pollInterval, b.modelsToLoad, b.drainTimeout,
                b.loadThreads, new VersionLoader(b.registry, b.observer, b.ticker, limits));
    }

    /** A builder; {@link Builder#registry(LocalRegistry)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Waits until the first load of the registry has been tried for every model marked to load.
     *
     * @return false when the timeout passed first
     */
    public boolean awaitInitialLoad(Duration timeout) throws InterruptedException {
        return lifeCycle.awaitInitialLoad(timeout);
    }

    /** The registry this service serves. */
    public LocalRegistry registry() {
        return registry;
    }

    @Override
    public boolean live() {
        return !lifeCycle.closing();
    }

    @Override
    public boolean ready() {
        return notReadyReason().isEmpty();
    }

    @Override
    public boolean loadsTried() {
        return lifeCycle.loadsTried();
    }

    /**
     * Why the service is not ready: shutting down, the first load still running, or (strict
     * readiness) a version marked to load that is loading or failed, or nothing served at all
     * unless {@link Builder#allowEmpty(boolean)}.
     */
    @Override
    public Optional<String> notReadyReason() {
        if (lifeCycle.closing()) {
            return Optional.of("server is shutting down");
        }
        if (!lifeCycle.loadsTried()) {
            return Optional.of("models are still loading");
        }
        if (!strictReadiness) {
            return Optional.empty();
        }
        List<String> problems = new ArrayList<>();
        boolean anyReady = false;
        for (ModelView<VersionRunner> view : new TreeMap<>(lifeCycle.views()).values()) {
            for (VersionSlot<VersionRunner> slot : view.versions().values()) {
                if (slot.ready()) {
                    anyReady = true;
                } else if (slot.state() == ModelState.LOADING) {
                    problems.add("model '" + view.name() + "' version " + slot.version() + " is loading");
                } else if (slot.failed() && !slot.serving()) {
                    problems.add("model '" + view.name() + "' version " + slot.version() + " " + slot.reason());
                }
            }
        }
        if (!problems.isEmpty()) {
            return Optional.of(String.join("; ", problems));
        }
        if (!anyReady && !allowEmpty) {
            return Optional.of(lifeCycle.views().isEmpty() ? "the registry " + registry.root() + " holds no model"
                    : "no model version is loaded");
        }
        return Optional.empty();
    }

    @Override
    public ModelMetadata modelMetadata(String model, String version) {
        VersionRouter.Route<VersionRunner> r = route(model, version);
        ModelView<VersionRunner> view = lifeCycle.views().get(model);
        List<String> ready = view == null ? List.of(Integer.toString(r.version())) : VersionRouter.readyVersions(view);
        Signature sig = r.runner().signature();
        return new ModelMetadata(model, ready, ModelMetadata.ONNX_PLATFORM, sig.inputs(), sig.outputs());
    }

    @Override
    public ModelConfiguration modelConfig(String model, String version) {
        VersionRouter.Route<VersionRunner> r = route(model, version);
        ModelView<VersionRunner> view = lifeCycle.views().get(model);
        VersionPolicy policy = view == null ? VersionPolicy.all() : view.info().versionPolicy();
        return ModelConfiguration.onnx(model, r.runner().signature(), r.runner().config(), r.runner().batchable(), policy);
    }

    @Override
    public boolean modelReady(String model, String version) {
        try {
            route(model, version);
            return true;
        } catch (InferenceException.Unavailable e) {
            return false;
        }
    }

    @Override
    public InferenceResponse infer(InferenceRequest request) {
        VersionRouter.Route<VersionRunner> r = null;
        List<Tensor> validated = null;
        long timeout = request.hasTimeout() ? Math.max(1, request.timeout().toNanos()) : 0;
        long deadline = timeout == 0 ? Long.MAX_VALUE : ticker.getAsLong() + timeout;
        try {
            for (int attempt = 0; ; attempt++) {
                r = route(request.model(), request.version());
                validated = r.runner().validator().validate(request.inputs());
                r.runner().validator().validateOutputs(request.requestedOutputs());
                BatchJob<VersionRunner.Work, VersionRunner.Result> pending =
                        r.runner().submit(validated, request.requestedOutputs(), deadline, timeout);
                if (pending != null) {
                    VersionRunner.Result result = await(r.runner(), pending);
                    InferenceResponse response = new InferenceResponse(request.model(), r.version(), request.id(),
                            result.outputs(), result.queueNanos(), result.computeNanos(), result.batchRows());
                    observer.requestCompleted(request.model(), r.version(), validated, response, null);
                    return response;
                }
                // the version was retired between lookup and submit; the published views are already
                // updated, so looking up again finds its successor
                if (attempt >= 3) {
                    // every version found was retired before it took the request: none answered it
                    r = null;
                    throw new InferenceException.Unavailable("model '" + request.model() + "' is being reloaded, try again");
                }
            }
        } catch (RuntimeException e) {
            RuntimeException failure = r == null ? e : attributed(e, request.model(), r.version());
            observer.requestCompleted(request.model(), r == null ? 0 : r.version(), validated, null, failure);
            throw failure;
        }
    }

    private VersionRouter.Route<VersionRunner> route(String model, String version) {
        if (lifeCycle.closing()) {
            throw new InferenceException.Unavailable("the server is shutting down");
        }
        return VersionRouter.route(lifeCycle.views(), model, version, ThreadLocalRandom.current());
    }

    /**
     * Files a failure after resolution under the version it was resolved to, so monitoring counts it
     * for that version. Anything that is not an {@link InferenceException} here is a defect in the
     * core; it becomes an internal error of that version rather than an anonymous one.
     */
    private static InferenceException attributed(RuntimeException e, String model, int version) {
        InferenceException ie = e instanceof InferenceException known ? known
                : new InferenceException.Internal("model '" + model + "' version " + version + " failed unexpectedly", e);
        return ie.withResolvedVersion(version);
    }

    /**
     * Waits for a job's answer, no longer than its deadline: then the caller answers at once (the job is
     * not run when it is still queued, and a run it is alone in is cancelled by its own deadline).
     * A job its caller ran itself is answered already.
     */
    private VersionRunner.Result await(VersionRunner runner, BatchJob<VersionRunner.Work, VersionRunner.Result> job) {
        CompletableFuture<VersionRunner.Result> pending = job.future();
        try {
            if (job.deadline() == Long.MAX_VALUE || pending.isDone()) {
                return pending.get();
            }
            long left = job.deadline() - ticker.getAsLong();
            try {
                return left > 0 ? pending.get(left, TimeUnit.NANOSECONDS) : timedOut(runner, job);
            } catch (TimeoutException e) {
                return timedOut(runner, job);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InferenceException.Unavailable("interrupted while waiting for the model");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InferenceException ie) {
                throw ie;
            }
            throw new InferenceException.Internal("inference failed: " + e.getCause(), e.getCause());
        }
    }

    private static VersionRunner.Result timedOut(VersionRunner runner, BatchJob<VersionRunner.Work, VersionRunner.Result> job)
            throws InterruptedException, ExecutionException {
        InferenceException.DeadlineExceeded failure = job.started() ? runner.expiredInRun(job) : runner.expiredInQueue(job);
        if (job.future().completeExceptionally(failure)) {
            if (!job.started()) {
                runner.withdraw(job);
            }
            throw failure;
        }
        return job.future().get(); // answered in the meantime: that answer stands
    }

    @Override
    public List<ModelStatus> repositoryIndex() {
        return lifeCycle.repositoryIndex();
    }

    @Override
    public void load(String model) {
        lifeCycle.load(model);
    }

    @Override
    public void unload(String model) {
        lifeCycle.unload(model);
    }

    @Override
    public void close() {
        lifeCycle.close();
    }

    /** Options of the core. {@link #registry} is required; everything else has a default. */
    public static final class Builder {
        private LocalRegistry registry;
        private InferenceObserver observer = InferenceObserver.NOOP;
        private Duration pollInterval = Duration.ofSeconds(2);
        private Set<String> modelsToLoad = Set.of();
        private boolean strictReadiness = true;
        private boolean allowEmpty;
        private long maxElements = DEFAULT_MAX_ELEMENTS;
        private long maxTensorBytes = DEFAULT_MAX_TENSOR_BYTES;
        private int maxQueueSize = DEFAULT_MAX_QUEUE_SIZE;
        private Duration drainTimeout = Duration.ofSeconds(30);
        private LongSupplier ticker = System::nanoTime;
        private int loadThreads = 2;

        private Builder() {
        }

        /** The registry to serve. Required. */
        public Builder registry(LocalRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** Who hears about requests, batches and loads (monitoring); defaults to nobody. */
        public Builder observer(InferenceObserver observer) {
            this.observer = observer;
            return this;
        }

        /** How often the registry is checked for changes; zero turns polling off. Default 2 s. */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = interval;
            return this;
        }

        /**
         * Loads only these models at start (others stay in the index, unloaded, until
         * {@link #load(String)}); empty (the default) loads every model.
         */
        public Builder modelsToLoad(Collection<String> names) {
            this.modelsToLoad = names == null ? Set.of() : Set.copyOf(names);
            return this;
        }

        /**
         * When true (the default, as Triton's {@code --strict-readiness}), {@link #ready()} stays
         * false while any version marked to load is loading or failed to load, and while no version
         * is loaded at all (unless {@link #allowEmpty(boolean)}). False: ready once the first load
         * was tried, so that one broken model does not take the healthy ones out of a load balancer.
         */
        public Builder strictReadiness(boolean strict) {
            this.strictReadiness = strict;
            return this;
        }

        /**
         * With strict readiness, whether a service that serves no version at all (an empty
         * registry, every model unloaded) counts as ready; default false.
         */
        public Builder allowEmpty(boolean allow) {
            this.allowEmpty = allow;
            return this;
        }

        /** Largest element count accepted for one input tensor; default 2^27. */
        public Builder maxElementsPerInput(long max) {
            this.maxElements = max;
            return this;
        }

        /**
         * Ceiling on the bytes one request's decoded inputs may take, and separately on the outputs the
         * model makes for it (checked before they are copied out of ONNX Runtime); past it the request
         * fails with {@link InferenceException.TooLarge}. Default 256 MiB.
         */
        public Builder maxTensorBytes(long max) {
            this.maxTensorBytes = max;
            return this;
        }

        /**
         * Requests that may wait per version for a session where its serving config sets no
         * {@code max_queue_size}; one more fails with {@link InferenceException.QueueFull}.
         * Default {@value #DEFAULT_MAX_QUEUE_SIZE}.
         */
        public Builder maxQueueSize(int max) {
            this.maxQueueSize = max;
            return this;
        }

        /** How long unload and close wait for requests in flight. Default 30 s. */
        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = timeout;
            return this;
        }

        /** The clock for queue, compute and load times (nanoseconds, monotonic); default {@link System#nanoTime()}. */
        public Builder ticker(LongSupplier nanoTime) {
            this.ticker = nanoTime;
            return this;
        }

        /** Versions loaded side by side at start and on reload; default 2, capped at the processor count. */
        public Builder loadThreads(int threads) {
            this.loadThreads = threads;
            return this;
        }

        /**
         * Validates the options (reporting every problem at once), starts loading in the
         * background and returns the service.
         */
        public OnnxInferenceService build() {
            List<String> problems = new ArrayList<>();
            if (registry == null) {
                problems.add("registry is required");
            }
            if (observer == null) {
                problems.add("observer must not be null (use InferenceObserver.NOOP)");
            }
            if (pollInterval == null) {
                problems.add("pollInterval must not be null (use Duration.ZERO to turn polling off)");
            }
            if (maxElements < 1) {
                problems.add("maxElementsPerInput must be 1 or more");
            }
            if (maxTensorBytes < 1) {
                problems.add("maxTensorBytes must be 1 or more");
            }
            if (maxQueueSize < 1) {
                problems.add("maxQueueSize must be 1 or more");
            }
            if (drainTimeout == null || drainTimeout.isNegative()) {
                problems.add("drainTimeout must be zero or more");
            }
            if (ticker == null) {
                problems.add("ticker must not be null");
            }
            if (loadThreads < 1) {
                problems.add("loadThreads must be 1 or more");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("invalid inference core options: " + String.join("; ", problems));
            }
            OnnxInferenceService service = new OnnxInferenceService(this);
            service.lifeCycle.start();
            return service;
        }
    }

    @Override
    public String toString() {
        return "OnnxInferenceService[" + registry.root() + "]";
    }
}
