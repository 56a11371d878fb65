package dev.berth.runtime.onnx;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.registry.VersionPolicy;
import dev.berth.registry.WeightedVersion;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The inference core on ONNX Runtime, serving the models of a {@link LocalRegistry}.
 *
 * <p>Every version that a model's {@link dev.berth.registry.VersionPolicy} selects is loaded with
 * its {@link ServingConfig} (sessions, threads, optimisation level, dynamic batching, warm-up). The
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
 */
public final class OnnxInferenceService implements InferenceService {
    private static final System.Logger LOG = System.getLogger(OnnxInferenceService.class.getName());
    private static final Pattern VERSION_NUMBER = Pattern.compile("[1-9][0-9]{0,8}");
    /** Default cap on elements in one input tensor: 2^27 (512 MiB of FP32). */
    public static final long DEFAULT_MAX_ELEMENTS = 1L << 27;
    /** Default ceiling on one request's decoded inputs, and separately on its outputs: 256 MiB. */
    public static final long DEFAULT_MAX_TENSOR_BYTES = 256L << 20;
    /** Default number of requests that may wait per version where its serving config sets none. */
    public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;

    private final LocalRegistry registry;
    private final InferenceObserver observer;
    private final Duration pollInterval;
    private final Set<String> modelsToLoad;
    private final boolean strictReadiness;
    private final RunLimits limits;
    private final boolean allowEmpty;
    private final Duration drainTimeout;
    private final LongSupplier ticker;

    private final ConcurrentHashMap<String, ModelView> views = new ConcurrentHashMap<>();
    private final Set<String> unloadedByApi = ConcurrentHashMap.newKeySet();
    // versions being retired, per model: unload() waits for these too, since a registry poll that ran
    // between marking the model unloaded and unload's own reconcile may have started the retirement
    private final Map<String, Set<CompletableFuture<Void>>> retiring = new ConcurrentHashMap<>();
    private final Set<String> loadedByApi = ConcurrentHashMap.newKeySet();
    // a lock, not a monitor: load() and unload() run on virtual threads, which a monitor would pin while models load
    private final ReentrantLock reconcileLock = new ReentrantLock();
    private final CountDownLatch initialLoad = new CountDownLatch(1);
    private final ExecutorService loaders;
    private final ScheduledExecutorService poller;
    private volatile boolean closing;

    private OnnxInferenceService(Builder b) {
        this.registry = b.registry;
        this.observer = b.observer;
        this.pollInterval = b.pollInterval;
        this.modelsToLoad = Set.copyOf(b.modelsToLoad);
        this.strictReadiness = b.strictReadiness;
        this.limits = new RunLimits(b.maxElements, b.maxTensorBytes, b.maxQueueSize);
        this.allowEmpty = b.allowEmpty;
        this.drainTimeout = b.drainTimeout;
        this.ticker = b.ticker;
        int loaderThreads = Math.max(1, Math.min(b.loadThreads, Runtime.getRuntime().availableProcessors()));
        this.loaders = Executors.newFixedThreadPool(loaderThreads, Thread.ofPlatform().daemon().name("berth-load-", 0).factory());
        this.poller = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("berth-registry-poll").factory());
    }

    /** A builder; {@link Builder#registry(LocalRegistry)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    private void start() {
        poller.execute(() -> {
            try {
                reconcile(null, false);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "initial load of " + registry.root() + " failed", e);
            } finally {
                initialLoad.countDown();
            }
            if (!pollInterval.isZero() && !pollInterval.isNegative() && !closing) {
                long ms = Math.max(1, pollInterval.toMillis());
                poller.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
            }
        });
    }

    /**
     * Waits until the first load of the registry has been tried for every model marked to load.
     *
     * @return false when the timeout passed first
     */
    public boolean awaitInitialLoad(Duration timeout) throws InterruptedException {
        return initialLoad.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The registry this service serves. */
    public LocalRegistry registry() {
        return registry;
    }

    @Override
    public boolean live() {
        return !closing;
    }

    @Override
    public boolean ready() {
        return notReadyReason().isEmpty();
    }

    @Override
    public boolean loadsTried() {
        return initialLoad.getCount() == 0;
    }

    /**
     * Why the service is not ready: shutting down, the first load still running, or (strict
     * readiness) a version marked to load that is loading or failed, or nothing served at all
     * unless {@link Builder#allowEmpty(boolean)}.
     */
    @Override
    public Optional<String> notReadyReason() {
        if (closing) {
            return Optional.of("server is shutting down");
        }
        if (initialLoad.getCount() > 0) {
            return Optional.of("models are still loading");
        }
        if (!strictReadiness) {
            return Optional.empty();
        }
        List<String> problems = new ArrayList<>();
        boolean anyReady = false;
        for (ModelView view : new TreeMap<>(views).values()) {
            for (VersionSlot slot : view.versions.values()) {
                if (slot.state == ModelState.READY) {
                    anyReady = true;
                } else if (slot.state == ModelState.LOADING) {
                    problems.add("model '" + view.name + "' version " + slot.version + " is loading");
                } else if (slot.failed && slot.runner == null) {
                    problems.add("model '" + view.name + "' version " + slot.version + " " + slot.reason);
                }
            }
        }
        if (!problems.isEmpty()) {
            return Optional.of(String.join("; ", problems));
        }
        if (!anyReady && !allowEmpty) {
            return Optional.of(views.isEmpty() ? "the registry " + registry.root() + " holds no model"
                    : "no model version is loaded");
        }
        return Optional.empty();
    }

    @Override
    public ModelMetadata modelMetadata(String model, String version) {
        Resolved r = resolve(model, version);
        ModelView view = views.get(model);
        List<String> ready = view == null ? List.of(Integer.toString(r.version)) : readyVersions(view);
        Signature sig = r.runner.signature();
        return new ModelMetadata(model, ready, ModelMetadata.ONNX_PLATFORM, sig.inputs(), sig.outputs());
    }

    @Override
    public ModelConfiguration modelConfig(String model, String version) {
        Resolved r = resolve(model, version);
        ModelView view = views.get(model);
        VersionPolicy policy = view == null ? VersionPolicy.all() : view.info.versionPolicy();
        return ModelConfiguration.onnx(model, r.runner.signature(), r.runner.config(), r.runner.batchable(), policy);
    }

    @Override
    public boolean modelReady(String model, String version) {
        try {
            resolve(model, version);
            return true;
        } catch (InferenceException.Unavailable e) {
            return false;
        }
    }

    @Override
    public InferenceResponse infer(InferenceRequest request) {
        Resolved r = null;
        List<Tensor> validated = null;
        long timeout = request.hasTimeout() ? Math.max(1, request.timeout().toNanos()) : 0;
        long deadline = timeout == 0 ? Long.MAX_VALUE : ticker.getAsLong() + timeout;
        try {
            for (int attempt = 0; ; attempt++) {
                r = resolve(request.model(), request.version());
                validated = r.runner.validator().validate(request.inputs());
                r.runner.validator().validateOutputs(request.requestedOutputs());
                VersionRunner.Job pending = r.runner.submit(validated, request.requestedOutputs(), deadline, timeout);
                if (pending != null) {
                    VersionRunner.Result result = await(r.runner, pending);
                    InferenceResponse response = new InferenceResponse(request.model(), r.version, request.id(),
                            result.outputs(), result.queueNanos(), result.computeNanos(), result.batchRows());
                    observer.requestCompleted(request.model(), r.version, validated, response, null);
                    return response;
                }
                // the version was retired between lookup and submit; the registry view is already
                // updated, so looking up again finds its successor
                if (attempt >= 3) {
                    // every version found was retired before it took the request: none answered it
                    r = null;
                    throw new InferenceException.Unavailable("model '" + request.model() + "' is being reloaded, try again");
                }
            }
        } catch (RuntimeException e) {
            RuntimeException failure = r == null ? e : attributed(e, request.model(), r.version);
            observer.requestCompleted(request.model(), r == null ? 0 : r.version, validated, null, failure);
            throw failure;
        }
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
     */
    private VersionRunner.Result await(VersionRunner runner, VersionRunner.Job job) {
        CompletableFuture<VersionRunner.Result> pending = job.future();
        try {
            if (job.deadline == Long.MAX_VALUE) {
                return pending.get();
            }
            long left = job.deadline - ticker.getAsLong();
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

    private static VersionRunner.Result timedOut(VersionRunner runner, VersionRunner.Job job)
            throws InterruptedException, ExecutionException {
        InferenceException.DeadlineExceeded failure = job.started ? runner.expiredInRun(job) : runner.expiredInQueue(job);
        if (job.future().completeExceptionally(failure)) {
            if (!job.started) {
                runner.withdraw(job);
            }
            throw failure;
        }
        return job.future().get(); // answered in the meantime: that answer stands
    }

    @Override
    public List<ModelStatus> repositoryIndex() {
        List<ModelStatus> index = new ArrayList<>();
        for (ModelView view : new TreeMap<>(views).values()) {
            for (VersionSlot slot : view.versions.values()) {
                index.add(new ModelStatus(view.name, slot.version, slot.state, slot.reason));
            }
        }
        return index;
    }

    @Override
    public void load(String model) {
        requireOpen();
        if (!ModelRef.isValidName(model) || !registry.exists(model)) {
            throw new InferenceException.NotFound("no model '" + model + "' in the registry");
        }
        unloadedByApi.remove(model);
        loadedByApi.add(model);
        reconcile(Set.of(model), true);
        ModelView view = views.get(model);
        if (view == null) {
            throw new InferenceException.NotFound("no model '" + model + "' in the registry");
        }
        List<String> failures = new ArrayList<>();
        for (VersionSlot slot : view.versions.values()) {
            if (slot.failed) {
                failures.add("version " + slot.version + ": " + slot.reason);
            }
        }
        if (!failures.isEmpty()) {
            throw new InferenceException.Unavailable("model '" + model + "' failed to load: " + String.join("; ", failures));
        }
    }

    @Override
    public void unload(String model) {
        requireOpen();
        if (!views.containsKey(model) && !(ModelRef.isValidName(model) && registry.exists(model))) {
            throw new InferenceException.NotFound("no model '" + model + "' in the registry");
        }
        loadedByApi.remove(model);
        unloadedByApi.add(model);
        List<CompletableFuture<Void>> pending = new ArrayList<>(reconcile(Set.of(model), false).retired);
        pending.addAll(retiring.getOrDefault(model, Set.of()));
        waitFor(pending);
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        poller.shutdownNow();
        List<CompletableFuture<Void>> retiring = new ArrayList<>();
        reconcileLock.lock();
        try {
            for (ModelView view : views.values()) {
                Map<Integer, VersionSlot> slots = new TreeMap<>();
                for (VersionSlot slot : view.versions.values()) {
                    if (slot.runner != null) {
                        retiring.add(retire(view.name, slot.version, slot.runner));
                    }
                    slots.put(slot.version, new VersionSlot(slot.version, ModelState.UNLOADING, "the server is shutting down",
                            null, slot.fingerprint, slot.config, false));
                }
                views.put(view.name, view.withVersions(slots));
            }
        } finally {
            reconcileLock.unlock();
        }
        waitFor(retiring);
        loaders.shutdownNow();
    }

    private void requireOpen() {
        if (closing) {
            throw new InferenceException.Unavailable("the server is shutting down");
        }
    }

    private void waitFor(List<CompletableFuture<Void>> futures) {
        try {
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "requests in flight did not finish within " + drainTimeout + ": " + e);
        }
    }

    // ---- resolution ---------------------------------------------------------------------------

    private record Resolved(int version, VersionRunner runner) {
    }

    private Resolved resolve(String model, String versionText) {
        if (closing) {
            throw new InferenceException.Unavailable("the server is shutting down");
        }
        ModelView view = model == null ? null : views.get(model);
        if (view == null) {
            throw new InferenceException.NotFound("unknown model '" + model + "'");
        }
        // only "no version" means the default: a blank or padded segment (/versions/%20) names nothing
        if (versionText == null || versionText.isEmpty()) {
            Optional<AliasTarget> production = view.info.alias(ModelInfo.PRODUCTION);
            if (production.isPresent()) {
                return pick(view, ModelInfo.PRODUCTION, production.get());
            }
            for (VersionSlot slot : view.versions.descendingMap().values()) {
                if (slot.state == ModelState.READY) {
                    return new Resolved(slot.version, slot.runner);
                }
            }
            throw new InferenceException.Unavailable("model '" + model + "' has no version ready" + reasons(view));
        }
        String text = versionText;
        if (VERSION_NUMBER.matcher(text).matches()) {
            int version = Integer.parseInt(text);
            VersionSlot slot = view.versions.get(version);
            if (slot == null) {
                throw new InferenceException.NotFound("model '" + model + "' has no version " + version
                        + " (versions: " + view.versions.keySet() + ")");
            }
            return ready(view, slot);
        }
        AliasTarget target = view.info.alias(text).orElseThrow(() -> new InferenceException.NotFound(
                "model '" + model + "' has no version or alias '" + text + "' (versions: " + view.versions.keySet()
                        + ", aliases: " + view.info.aliases().keySet() + ")"));
        return pick(view, text, target);
    }

    private static Resolved ready(ModelView view, VersionSlot slot) {
        if (slot.state != ModelState.READY) {
            throw new InferenceException.Unavailable("model '" + view.name + "' version " + slot.version + " is "
                    + slot.state + (slot.reason == null || slot.reason.isEmpty() ? "" : ": " + slot.reason));
        }
        return new Resolved(slot.version, slot.runner);
    }

    /** Picks a version of an alias by weight, among the alias's versions that are ready. */
    private static Resolved pick(ModelView view, String alias, AliasTarget target) {
        List<WeightedVersion> ready = new ArrayList<>(target.targets().size());
        int total = 0;
        for (WeightedVersion wv : target.targets()) {
            VersionSlot slot = view.versions.get(wv.version());
            if (slot != null && slot.state == ModelState.READY) {
                ready.add(wv);
                total += wv.weight();
            }
        }
        if (ready.isEmpty()) {
            throw new InferenceException.Unavailable("model '" + view.name + "' alias '" + alias + "' points at version(s) "
                    + target.targets().stream().map(WeightedVersion::version).toList() + ", none of them ready" + reasons(view));
        }
        int draw = ready.size() == 1 ? 0 : ThreadLocalRandom.current().nextInt(total);
        int acc = 0;
        for (WeightedVersion wv : ready) {
            acc += wv.weight();
            if (draw < acc) {
                return ready(view, view.versions.get(wv.version()));
            }
        }
        return ready(view, view.versions.get(ready.get(ready.size() - 1).version()));
    }

    private static String reasons(ModelView view) {
        List<String> parts = new ArrayList<>();
        for (VersionSlot slot : view.versions.values()) {
            if (slot.state != ModelState.READY) {
                parts.add(slot.version + " " + slot.state + (slot.reason == null || slot.reason.isEmpty() ? "" : ": " + slot.reason));
            }
        }
        return parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
    }

    private static List<String> readyVersions(ModelView view) {
        List<String> ready = new ArrayList<>();
        for (VersionSlot slot : view.versions.values()) {
            if (slot.state == ModelState.READY) {
                ready.add(Integer.toString(slot.version));
            }
        }
        return ready;
    }

    // ---- life cycle -------------------------------------------------------------------------

    /** Identifies a version's (or model.json's) files on disk: size and modification time. */
    private record Fingerprint(long modelSize, long modelTime, long manifestSize, long manifestTime) {
        static final Fingerprint NONE = new Fingerprint(-1, -1, -1, -1);
    }

    private record VersionSlot(int version, ModelState state, String reason, VersionRunner runner,
                               Fingerprint fingerprint, ServingConfig config, boolean failed) {
    }

    private record ModelView(String name, ModelInfo info, Fingerprint infoFingerprint, TreeMap<Integer, VersionSlot> versions) {
        ModelView withVersions(Map<Integer, VersionSlot> slots) {
            return new ModelView(name, info, infoFingerprint, new TreeMap<>(slots));
        }
    }

    /** {@code replacing}: the version serves now, and keeps serving what it had if this load fails. */
    private record LoadTask(String model, int version, Fingerprint fingerprint, ServingConfig config, boolean replacing) {
    }

    private record LoadResult(LoadTask task, VersionRunner runner, String failure) {
    }

    private record Outcome(boolean changed, List<CompletableFuture<Void>> retired) {
    }

    private void poll() {
        if (closing) {
            return;
        }
        try {
            if (reconcile(null, false).changed) {
                observer.registryReloaded();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "reading the registry " + registry.root() + " failed: " + e);
        }
    }

    private boolean wanted(String model) {
        return !unloadedByApi.contains(model)
                && (modelsToLoad.isEmpty() || modelsToLoad.contains(model) || loadedByApi.contains(model));
    }

    /**
     * Brings the loaded versions in line with the registry for {@code only} (null: every model):
     * scan, load what is new or changed (in parallel, while the old versions keep serving), publish
     * the new state, then retire what is no longer served. A version that failed to load is tried
     * again only when its files or config change, or when {@code retryFailed} (an explicit load).
     */
    private Outcome reconcile(Collection<String> only, boolean retryFailed) {
        reconcileLock.lock();
        try {
            if (closing) {
                return new Outcome(false, List.of());
            }
            Set<String> inRegistry = new TreeSet<>(registry.models());
            Set<String> names = new TreeSet<>(only != null ? only : union(inRegistry, views.keySet()));
            boolean changed = false;
            List<CompletableFuture<Void>> retired = new ArrayList<>();
            Map<String, ModelView> next = new LinkedHashMap<>();
            Map<String, Map<Integer, String>> dropAfter = new LinkedHashMap<>();
            List<LoadTask> loads = new ArrayList<>();

            for (String name : names) {
                ModelView old = views.get(name);
                if (!inRegistry.contains(name)) {
                    if (old != null) {
                        changed = true;
                        views.remove(name);
                        for (VersionSlot slot : old.versions.values()) {
                            if (slot.runner != null) {
                                retired.add(retire(name, slot.version, slot.runner));
                            }
                        }
                    }
                    continue;
                }
                // model.json and a Triton config.pbtxt beside it both shape ModelInfo: a change to either is a change
                Fingerprint infoPrint = fingerprint(registry.modelDir(name).resolve(LocalRegistry.MODEL_INFO_FILE),
                        registry.modelDir(name).resolve(dev.berth.registry.TritonConfig.FILE));
                ModelInfo info;
                if (old != null && old.infoFingerprint.equals(infoPrint)) {
                    info = old.info;
                } else {
                    try {
                        info = registry.info(name);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "cannot read model.json of '" + name + "': " + e.getMessage());
                        info = old != null ? old.info : ModelInfo.empty(name);
                    }
                }
                boolean infoChanged = old == null || !old.info.equals(info);
                changed |= infoChanged;
                List<Integer> available = registry.versions(name);
                boolean wanted = wanted(name);
                List<Integer> desired = wanted ? info.versionPolicy().select(available) : List.of();
                TreeMap<Integer, VersionSlot> slots = new TreeMap<>();
                Map<Integer, String> drop = new TreeMap<>();
                dropAfter.put(name, drop);
                for (int v : available) {
                    VersionSlot slot = old == null ? null : old.versions.get(v);
                    Path dir = registry.versionDir(name, v);
                    Fingerprint print = fingerprint(dir.resolve(LocalRegistry.MODEL_FILE), dir.resolve(LocalRegistry.MANIFEST_FILE));
                    if (desired.contains(v)) {
                        boolean sameFiles = slot != null && print.equals(slot.fingerprint);
                        ServingConfig config;
                        if (sameFiles && slot.config != null && old != null && Objects.equals(old.info.serving(), info.serving())) {
                            config = slot.config;
                        } else {
                            config = servingConfig(name, v, info);
                        }
                        boolean serving = slot != null && slot.runner != null;
                        boolean failedBefore = !retryFailed && slot != null && slot.failed && sameFiles
                                && Objects.equals(slot.config, config);
                        // a serving version whose changed files were refused is tried again when they change, or on an explicit load
                        boolean needsLoad = serving ? !sameFiles || !Objects.equals(slot.config, config) || retryFailed && slot.failed
                                : !failedBefore;
                        if (needsLoad) {
                            loads.add(new LoadTask(name, v, print, config, serving));
                            changed = true;
                            slots.put(v, serving ? slot : new VersionSlot(v, ModelState.LOADING, "", null, print, config, false));
                        } else {
                            slots.put(v, slot);
                        }
                    } else {
                        String reason = wanted ? "not selected by the version policy"
                                : unloadedByApi.contains(name) ? "unloaded" : "not loaded";
                        if (slot != null && slot.runner != null) {
                            changed = true;
                            drop.put(v, wanted ? "not selected by the version policy" : "unloaded");
                        }
                        // keeps serving until the new state is published below
                        slots.put(v, slot != null && slot.runner != null ? slot
                                : new VersionSlot(v, ModelState.UNAVAILABLE, reason, null, print, null, false));
                    }
                }
                if (old != null) {
                    for (VersionSlot slot : old.versions.values()) {
                        if (!slots.containsKey(slot.version)) {
                            changed = true;
                            if (slot.runner != null) {
                                slots.put(slot.version, slot); // serves until the reload is published
                                drop.put(slot.version, null);
                            }
                        }
                    }
                }
                // published now with the old aliases: LOADING shows in the index, the old versions keep serving
                views.put(name, new ModelView(name, old != null ? old.info : info, old != null ? old.infoFingerprint : infoPrint, slots));
                next.put(name, new ModelView(name, info, infoPrint, new TreeMap<>(slots)));
            }

            Map<String, Map<Integer, LoadResult>> results = runLoads(loads);

            for (Map.Entry<String, ModelView> e : next.entrySet()) {
                String name = e.getKey();
                ModelView target = e.getValue();
                Map<Integer, String> drop = dropAfter.getOrDefault(name, Map.of());
                TreeMap<Integer, VersionSlot> slots = new TreeMap<>();
                List<VersionSlot> toRetire = new ArrayList<>();
                Map<Integer, LoadResult> loaded = results.getOrDefault(name, Map.of());
                for (VersionSlot slot : target.versions.values()) {
                    LoadResult result = loaded.get(slot.version);
                    if (result != null) {
                        if (result.runner != null) {
                            if (slot.runner != null) {
                                toRetire.add(slot);
                            }
                            slots.put(slot.version, new VersionSlot(slot.version, ModelState.READY, "", result.runner,
                                    result.task.fingerprint, result.task.config, false));
                        } else if (slot.runner != null) {
                            // the replacement failed; the version keeps serving what it had. The new files'
                            // fingerprint is kept, so the next poll does not try (and log) the same files again
                            LOG.log(System.Logger.Level.WARNING, "reloading '" + name + "' version " + slot.version
                                    + " refused, the copy loaded before keeps serving: " + result.failure);
                            slots.put(slot.version, new VersionSlot(slot.version, ModelState.READY,
                                    RELOAD_REFUSED + result.failure, slot.runner, result.task.fingerprint, slot.config, true));
                        } else {
                            slots.put(slot.version, new VersionSlot(slot.version, ModelState.UNAVAILABLE, result.failure, null,
                                    result.task.fingerprint, result.task.config, true));
                        }
                    } else if (slot.runner != null && drop.containsKey(slot.version)) {
                        toRetire.add(slot);
                        String reason = drop.get(slot.version);
                        if (reason != null) { // null: the version left the registry
                            slots.put(slot.version, new VersionSlot(slot.version, ModelState.UNAVAILABLE, reason, null,
                                    slot.fingerprint, null, false));
                        }
                    } else {
                        slots.put(slot.version, slot);
                    }
                }
                views.put(name, new ModelView(name, target.info, target.infoFingerprint, slots));
                for (VersionSlot slot : toRetire) {
                    retired.add(retire(name, slot.version, slot.runner));
                }
            }
            return new Outcome(changed, retired);
        } finally {
            reconcileLock.unlock();
        }
    }

    private Map<String, Map<Integer, LoadResult>> runLoads(List<LoadTask> loads) {
        List<CompletableFuture<LoadResult>> futures = new ArrayList<>();
        for (LoadTask task : loads) {
            futures.add(CompletableFuture.supplyAsync(() -> load(task), loaders));
        }
        Map<String, Map<Integer, LoadResult>> results = new LinkedHashMap<>();
        for (CompletableFuture<LoadResult> f : futures) {
            LoadResult r = f.join();
            results.computeIfAbsent(r.task.model, k -> new TreeMap<>()).put(r.task.version, r);
        }
        return results;
    }

    /** The start of the reason a serving version shows after its changed files were refused. */
    static final String RELOAD_REFUSED = "serving the copy loaded before; the changed model file was refused: ";

    private LoadResult load(LoadTask task) {
        long start = ticker.getAsLong();
        try {
            Optional<ModelManifest> manifest = registry.storedManifest(task.model, task.version);
            Path dir = registry.versionDir(task.model, task.version);
            Path file = manifest.map(m -> dir.resolve(m.modelFile().path())).orElse(dir.resolve(LocalRegistry.MODEL_FILE));
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("no model file " + dir.relativize(file) + " in " + dir);
            }
            VersionRunner runner = VersionRunner.open(task.model, task.version, dir, file, task.config,
                    sig -> declared(task.config, enrich(sig, manifest.map(ModelManifest::signature).orElse(null))),
                    observer, ticker, limits);
            long nanos = ticker.getAsLong() - start;
            LOG.log(System.Logger.Level.INFO, () -> "loaded " + task.model + " version " + task.version + " in "
                    + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms (" + task.config.sessions() + " session(s), batching "
                    + (runner.batchable() ? "on" : "off") + ")");
            observer.modelLoaded(task.model, task.version, nanos, null);
            return new LoadResult(task, runner, null);
        } catch (VersionRunner.LoadFailure e) {
            return failed(task, start, e, e.getMessage());
        } catch (Exception | LinkageError e) {
            return failed(task, start, e, "failed to load: " + (e instanceof ai.onnxruntime.OrtException ? VersionRunner.reason(e)
                    : VersionRunner.firstLine(e.getMessage() != null ? e.getMessage() : e.toString())));
        }
    }

    /** A failed load: logged here for a new version, by reconcile (once, with what keeps serving) for a replacement. */
    private LoadResult failed(LoadTask task, long start, Throwable e, String reason) {
        long nanos = ticker.getAsLong() - start;
        if (task.replacing) {
            observer.modelReloadRefused(task.model, task.version, nanos, e);
        } else {
            LOG.log(System.Logger.Level.WARNING, task.model + " version " + task.version + " " + reason);
            observer.modelLoaded(task.model, task.version, nanos, e);
        }
        return new LoadResult(task, null, reason);
    }

    private CompletableFuture<Void> retire(String model, int version, VersionRunner runner) {
        Set<CompletableFuture<Void>> ofModel = retiring.computeIfAbsent(model, m -> ConcurrentHashMap.newKeySet());
        CompletableFuture<Void> done = new CompletableFuture<>();
        ofModel.add(done);
        runner.retire().whenComplete((ok, failure) -> {
            try {
                LOG.log(System.Logger.Level.INFO, () -> "unloaded " + model + " version " + version);
                observer.modelUnloaded(model, version);
            } finally {
                ofModel.remove(done);
                done.complete(null);
            }
        });
        return done;
    }

    private ServingConfig servingConfig(String model, int version, ModelInfo info) {
        try {
            return info.servingFor(registry.storedManifest(model, version).orElse(null));
        } catch (RuntimeException e) {
            // an unreadable manifest fails the load itself, with its own message
            return info.servingFor(null);
        }
    }

    /** The signature, once it fits the inputs and outputs the serving config declares (a Triton config.pbtxt's); else the load fails. */
    private static Signature declared(ServingConfig config, Signature signature) {
        List<String> problems = config.contradictions(signature);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("the model does not match its configuration: " + String.join("; ", problems));
        }
        return signature;
    }

    /** Adds column names and class labels that the registry recorded to the signature the session reports. */
    private static Signature enrich(Signature fromSession, Signature recorded) {
        if (recorded == null) {
            return fromSession;
        }
        return new Signature(enrich(fromSession.inputs(), recorded.inputs()), enrich(fromSession.outputs(), recorded.outputs()));
    }

    private static List<TensorSpec> enrich(List<TensorSpec> live, List<TensorSpec> recorded) {
        List<TensorSpec> out = new ArrayList<>(live.size());
        for (TensorSpec spec : live) {
            TensorSpec match = recorded.stream().filter(r -> r.name().equals(spec.name())).findFirst().orElse(null);
            out.add(match == null || (match.columns().isEmpty() && match.labels().isEmpty()) ? spec
                    : spec.withColumnsAndLabels(match.columns(), match.labels()));
        }
        return out;
    }

    private static Fingerprint fingerprint(Path model, Path manifest) {
        long[] m = stat(model);
        long[] f = manifest == null ? new long[] {-1, -1} : stat(manifest);
        return new Fingerprint(m[0], m[1], f[0], f[1]);
    }

    private static long[] stat(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new long[] {a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS)};
        } catch (IOException e) {
            return new long[] {-1, -1};
        }
    }

    private static Set<String> union(Collection<String> a, Collection<String> b) {
        Set<String> s = new LinkedHashSet<>(a);
        s.addAll(b);
        return s;
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
         * fails with {@link dev.berth.runtime.InferenceException.TooLarge}. Default 256 MiB.
         */
        public Builder maxTensorBytes(long max) {
            this.maxTensorBytes = max;
            return this;
        }

        /**
         * Requests that may wait per version for a session where its serving config sets no
         * {@code max_queue_size}; one more fails with {@link dev.berth.runtime.InferenceException.QueueFull}.
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
            service.start();
            return service;
        }
    }

    @Override
    public String toString() {
        return "OnnxInferenceService[" + registry.root() + "]";
    }
}
