package dev.berth.runtime.onnx;

import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelRef;
import dev.berth.registry.TritonConfig;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.ModelState;
import dev.berth.runtime.ModelStatus;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hot reload and the model repository's life cycle: what is loaded, kept in line with the registry.
 * Every poll (and every repository API call) reads the registry, works out a {@link ReloadPlan},
 * publishes the versions about to load as LOADING, loads them in parallel while the old copies
 * keep serving, publishes the new state (moved aliases included) in one step per model, and then
 * retires what is no longer served: a retired copy takes no new requests, runs what it already
 * took, and only then closes its sessions.
 *
 * <p>The published {@link #views()} are what {@link VersionRouter} routes on. Reloads run one at a
 * time (a lock); readers never wait for them.
 */
final class ModelLifeCycle {
    private static final System.Logger LOG = System.getLogger(ModelLifeCycle.class.getName());

    private final LocalRegistry registry;
    private final InferenceObserver observer;
    private final Duration pollInterval;
    private final Set<String> modelsToLoad;
    private final Duration drainTimeout;
    private final VersionLoader loader;

    private final ConcurrentHashMap<String, ModelView<VersionRunner>> views = new ConcurrentHashMap<>();
    private final Set<String> unloadedByApi = ConcurrentHashMap.newKeySet();
    private final Set<String> loadedByApi = ConcurrentHashMap.newKeySet();
    // versions being retired, per model: unload() waits for these too, since a registry poll that ran
    // between marking the model unloaded and unload's own reconcile may have started the retirement
    private final Map<String, Set<CompletableFuture<Void>>> retiring = new ConcurrentHashMap<>();
    // a lock, not a monitor: load() and unload() run on virtual threads, which a monitor would pin while models load
    private final ReentrantLock reconcileLock = new ReentrantLock();
    private final CountDownLatch initialLoad = new CountDownLatch(1);
    private final ExecutorService loaders;
    private final ScheduledExecutorService poller;
    private volatile boolean closing;

    ModelLifeCycle(LocalRegistry registry, InferenceObserver observer, Duration pollInterval, Set<String> modelsToLoad,
                   Duration drainTimeout, int loadThreads, VersionLoader loader) {
        this.registry = registry;
        this.observer = observer;
        this.pollInterval = pollInterval;
        this.modelsToLoad = Set.copyOf(modelsToLoad);
        this.drainTimeout = drainTimeout;
        this.loader = loader;
        int threads = Math.max(1, Math.min(loadThreads, Runtime.getRuntime().availableProcessors()));
        this.loaders = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().name("berth-load-", 0).factory());
        this.poller = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("berth-registry-poll").factory());
    }

    /** Starts the first load in the background, then polling every {@code pollInterval} (none when zero). */
    void start() {
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

    /** The published views, by model name; each view is immutable, the map changes as reloads publish. */
    Map<String, ModelView<VersionRunner>> views() {
        return views;
    }

    boolean closing() {
        return closing;
    }

    boolean loadsTried() {
        return initialLoad.getCount() == 0;
    }

    boolean awaitInitialLoad(Duration timeout) throws InterruptedException {
        return initialLoad.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Every version of every model, in name and version order. */
    List<ModelStatus> repositoryIndex() {
        List<ModelStatus> index = new ArrayList<>();
        for (ModelView<VersionRunner> view : new TreeMap<>(views).values()) {
            for (VersionSlot<VersionRunner> slot : view.versions().values()) {
                index.add(new ModelStatus(view.name(), slot.version(), slot.state(), slot.reason()));
            }
        }
        return index;
    }

    /** See {@link InferenceService#load(String)}. */
    void load(String model) {
        requireOpen();
        if (!ModelRef.isValidName(model) || !registry.exists(model)) {
            throw new InferenceException.NotFound("no model '" + model + "' in the registry");
        }
        unloadedByApi.remove(model);
        loadedByApi.add(model);
        reconcile(Set.of(model), true);
        ModelView<VersionRunner> view = views.get(model);
        if (view == null) {
            throw new InferenceException.NotFound("no model '" + model + "' in the registry");
        }
        List<String> failures = new ArrayList<>();
        for (VersionSlot<VersionRunner> slot : view.versions().values()) {
            if (slot.failed()) {
                failures.add("version " + slot.version() + ": " + slot.reason());
            }
        }
        if (!failures.isEmpty()) {
            throw new InferenceException.Unavailable("model '" + model + "' failed to load: " + String.join("; ", failures));
        }
    }

    /** See {@link InferenceService#unload(String)}. */
    void unload(String model) {
        requireOpen();
        if (!views.containsKey(model) && !(ModelRef.isValidName(model) && registry.exists(model))) {
            throw new InferenceException.NotFound("no model '" + model + "' in the registry");
        }
        loadedByApi.remove(model);
        unloadedByApi.add(model);
        List<CompletableFuture<Void>> pending = new ArrayList<>(reconcile(Set.of(model), false).retired());
        pending.addAll(retiring.getOrDefault(model, Set.of()));
        waitFor(pending);
    }

    /** Stops polling, marks every version UNLOADING, retires every copy and waits (at most the drain timeout) for them. */
    void close() {
        if (closing) {
            return;
        }
        closing = true;
        poller.shutdownNow();
        List<CompletableFuture<Void>> retired = new ArrayList<>();
        reconcileLock.lock();
        try {
            for (ModelView<VersionRunner> view : views.values()) {
                Map<Integer, VersionSlot<VersionRunner>> slots = new TreeMap<>();
                for (VersionSlot<VersionRunner> slot : view.versions().values()) {
                    if (slot.serving()) {
                        retired.add(retire(view.name(), slot.version(), slot.runner()));
                    }
                    slots.put(slot.version(), new VersionSlot<>(slot.version(), ModelState.UNLOADING, "the server is shutting down",
                            null, slot.fingerprint(), slot.config(), false));
                }
                views.put(view.name(), view.withVersions(slots));
            }
        } finally {
            reconcileLock.unlock();
        }
        waitFor(retired);
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

    private void poll() {
        if (closing) {
            return;
        }
        try {
            if (reconcile(null, false).changed()) {
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
     * Brings the loaded versions in line with the registry for {@code only} (null: every model): scan,
     * plan, publish LOADING, load (in parallel, while the old versions keep serving), publish the new
     * state, retire what is no longer served.
     *
     * @return whether anything changed, and the retirements started
     */
    private Outcome reconcile(Collection<String> only, boolean retryFailed) {
        reconcileLock.lock();
        try {
            if (closing) {
                return new Outcome(false, List.of());
            }
            Set<String> inRegistry = new TreeSet<>(registry.models());
            Set<String> names = new TreeSet<>(only != null ? only : union(inRegistry, views.keySet()));
            Map<String, ReloadPlan.ModelScan> scans = new LinkedHashMap<>();
            for (String name : names) {
                if (inRegistry.contains(name)) {
                    scans.put(name, scan(name, views.get(name)));
                }
            }
            ReloadPlan<VersionRunner> plan = ReloadPlan.plan(names, scans, views, this::wanted, unloadedByApi::contains,
                    retryFailed, loader::servingConfig);

            List<CompletableFuture<Void>> retired = new ArrayList<>();
            for (String name : plan.removed()) {
                views.remove(name);
            }
            for (ReloadPlan.Retirement<VersionRunner> r : plan.retireNow()) {
                retired.add(retire(r.model(), r.version(), r.runner()));
            }
            views.putAll(plan.interim());

            Map<String, Map<Integer, ReloadPlan.LoadResult<VersionRunner>>> results = runLoads(plan.loads());

            for (String name : plan.target().keySet()) {
                ReloadPlan.Settled<VersionRunner> settled = plan.settle(name, results.getOrDefault(name, Map.of()));
                for (String line : settled.refused()) {
                    LOG.log(System.Logger.Level.WARNING, line);
                }
                views.put(name, settled.view());
                for (VersionSlot<VersionRunner> slot : settled.retire()) {
                    retired.add(retire(name, slot.version(), slot.runner()));
                }
            }
            return new Outcome(plan.changed(), retired);
        } finally {
            reconcileLock.unlock();
        }
    }

    private record Outcome(boolean changed, List<CompletableFuture<Void>> retired) {
    }

    /** What the registry holds for {@code name}; model.json is read again only when its file changed. */
    private ReloadPlan.ModelScan scan(String name, ModelView<VersionRunner> old) {
        // model.json and a Triton config.pbtxt beside it both shape ModelInfo: a change to either is a change
        Fingerprint infoPrint = Fingerprint.of(registry.modelDir(name).resolve(LocalRegistry.MODEL_INFO_FILE),
                registry.modelDir(name).resolve(TritonConfig.FILE));
        ModelInfo info;
        if (old != null && old.infoFingerprint().equals(infoPrint)) {
            info = old.info();
        } else {
            try {
                info = registry.info(name);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot read model.json of '" + name + "': " + e.getMessage());
                info = old != null ? old.info() : ModelInfo.empty(name);
            }
        }
        TreeMap<Integer, Fingerprint> versions = new TreeMap<>();
        for (int v : registry.versions(name)) {
            Path dir = registry.versionDir(name, v);
            versions.put(v, Fingerprint.of(dir.resolve(LocalRegistry.MODEL_FILE), dir.resolve(LocalRegistry.MANIFEST_FILE)));
        }
        return new ReloadPlan.ModelScan(name, info, infoPrint, versions);
    }

    private Map<String, Map<Integer, ReloadPlan.LoadResult<VersionRunner>>> runLoads(List<ReloadPlan.LoadTask> loads) {
        List<CompletableFuture<ReloadPlan.LoadResult<VersionRunner>>> futures = new ArrayList<>();
        for (ReloadPlan.LoadTask task : loads) {
            futures.add(CompletableFuture.supplyAsync(() -> loader.load(task), loaders));
        }
        Map<String, Map<Integer, ReloadPlan.LoadResult<VersionRunner>>> results = new LinkedHashMap<>();
        for (CompletableFuture<ReloadPlan.LoadResult<VersionRunner>> f : futures) {
            ReloadPlan.LoadResult<VersionRunner> r = f.join();
            results.computeIfAbsent(r.task().model(), k -> new TreeMap<>()).put(r.task().version(), r);
        }
        return results;
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

    private static Set<String> union(Collection<String> a, Collection<String> b) {
        Set<String> s = new LinkedHashSet<>(a);
        s.addAll(b);
        return s;
    }
}
